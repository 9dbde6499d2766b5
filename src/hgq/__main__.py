"""``python -m hgq``: the ``hgq`` command line."""

import sys

from .cli import main

sys.exit(main())
