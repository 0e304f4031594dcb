"""`python -m emulator`: serve the ACS Call Automation emulator, or drive a running one (see --help)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
