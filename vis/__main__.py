"""`python -m vis PHOTO...`: see `vis.cli`."""

import sys

from .cli import main

sys.exit(main())
