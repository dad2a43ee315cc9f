"""`python -m server` is the same as `aiprism`."""

import sys

from server.cli import main

sys.exit(main())
