"""`python -m devhost.env COMMAND...`: run a command with local.settings.json's Values in its environment.

For the Core Tools path, where `func start` reads local.settings.json but the seed and the receiver do not:
`python -m devhost.env python -m shared.seed` seeds the demo data into the storage the app uses, and
`python -m devhost.env python -m receiver` starts the receiver on the app's settings. Variables already set win,
as with Core Tools.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from devhost.settings import DevHostError, read_local_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devhost.env",
        description="Run COMMAND with the Values of a local.settings.json in its environment (set variables win).",
    )
    parser.add_argument(
        "--settings", type=Path, default=Path("local.settings.json"), help="settings file (local.settings.json)"
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND", help="the command and its arguments")
    args = parser.parse_args(argv)
    if not args.command:
        parser.error("give a command to run, e.g. python -m shared.seed")
    try:
        settings = read_local_settings(args.settings)
    except DevHostError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not settings.found:
        print(f"error: no {args.settings}; copy local.settings.sample.json to it first", file=sys.stderr)
        return 2
    environment = {**settings.values, **os.environ}
    try:
        os.execvpe(args.command[0], args.command, environment)  # noqa: S606 - the user's own command, by design
    except OSError as error:
        print(f"error: cannot run {args.command[0]}: {error.strerror}", file=sys.stderr)
        return 127
    return 0  # not reached: exec replaced this process


if __name__ == "__main__":
    sys.exit(main())
