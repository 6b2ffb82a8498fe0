"""``python -m placematch``."""

import sys

from placematch.cli import main

sys.exit(main())
