"""`python -m bench`: run every benchmark on this machine and print (optionally save) the results."""

import sys

from bench.cli import main

sys.exit(main())
