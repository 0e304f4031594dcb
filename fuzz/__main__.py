"""`python -m fuzz`: start the local stack and fuzz every route; exit 1 on any 5xx or exception text."""

import sys

from fuzz.cli import main

sys.exit(main())
