"""`python -m devhost`: serve function_app.py locally the way `func start` does, without Core Tools."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from pathlib import Path

from aiohttp import web

from devhost.server import INVOCATION_LOGGER, STATE, create_app, functions_table
from devhost.settings import DevHostError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7071

EPILOG = """\
environment:
  DEVHOST_HOST   default for --host (otherwise 127.0.0.1)
  DEVHOST_PORT   default for --port (otherwise "Host": {"LocalHttpPort"} in local.settings.json, otherwise 7071)

Like Core Tools, every key of "Values" in local.settings.json becomes an environment variable unless that variable
is already set. HTTP auth levels are not enforced (Core Tools does not enforce them locally either).
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devhost",
        description="Run an Azure Functions Python (v2 model) app locally without Azure Functions Core Tools.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--app-dir", type=Path, default=Path(), help="folder with host.json and function_app.py (.)")
    parser.add_argument("--host", default=os.environ.get("DEVHOST_HOST", DEFAULT_HOST), help="address to bind")
    parser.add_argument("--port", type=int, default=None, help=f"port to listen on ({DEFAULT_PORT})")
    parser.add_argument(
        "--settings",
        type=Path,
        default=None,
        help="settings file; a relative path is taken from the app dir (local.settings.json)",
    )
    parser.add_argument(
        "--invocation-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="log an Executing/Executed line pair per invocation, as Core Tools does (on); the local stack and the "
        "benchmarks turn it off",
    )
    return parser.parse_args(argv)


def _port(args: argparse.Namespace, local_http_port: int | None) -> int:
    if args.port is not None:
        return args.port
    from_env = os.environ.get("DEVHOST_PORT")
    if from_env:
        try:
            return int(from_env)
        except ValueError:
            raise DevHostError(f"DEVHOST_PORT must be a port number, not {from_env!r}") from None
    return local_http_port or DEFAULT_PORT


def main(argv: list[str] | None = None) -> int:
    """Run the server until interrupted; returns the process exit code (2 for a configuration problem)."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(message)s")
    if not args.invocation_log:
        logging.getLogger(INVOCATION_LOGGER).setLevel(logging.WARNING)
    app_dir = args.app_dir.resolve()
    settings_file = app_dir / args.settings if args.settings else None
    try:
        app = create_app(app_dir, settings_file)
        port = _port(args, app[STATE].settings.local_http_port)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((args.host, port))
            # Listening now lets clients that connect after the banner queue until the server takes over.
            sock.listen(128)
        except OSError as exc:
            sock.close()
            raise DevHostError(f"port {port} on {args.host} is unavailable ({exc.strerror}); use --port") from None
    except DevHostError as exc:
        print(f"devhost: {exc}", file=sys.stderr)
        return 2
    base_url = f"http://{args.host}:{sock.getsockname()[1]}"
    print(functions_table(app[STATE], base_url), flush=True)
    print(f"devhost for {app_dir} listening on {base_url} (Ctrl+C to stop)", flush=True)
    # A short grace period: open keep-alive connections would otherwise hold Ctrl-C for the default minute.
    web.run_app(app, sock=sock, print=None, access_log=None, shutdown_timeout=1.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
