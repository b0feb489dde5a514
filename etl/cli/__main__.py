"""``python -m etl.cli``: the ``pagerlens`` command line."""

import sys

from etl.cli import main

sys.exit(main())
