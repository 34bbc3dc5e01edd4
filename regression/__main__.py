"""`python -m regression`: run the command line of regression.cli."""

import sys

from .cli import main

sys.exit(main(sys.argv[1:]))
