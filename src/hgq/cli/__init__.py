"""The commands of the ``hgq`` command line (the parser and launcher: the top-level module ``hgq_cli``)."""
