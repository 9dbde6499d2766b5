"""``python -m hgq``: the ``hgq`` command line."""

import sys

from hgq_cli import main

sys.exit(main())
