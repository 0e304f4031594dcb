"""`python -m emulator`: serve the ACS Call Automation emulator in the foreground until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

from aiohttp import web

from .app import create_app
from .config import config_from_args
from .tls import ensure_certificate, server_ssl_context


def main(argv: list[str] | None = None) -> int:
    try:
        config = config_from_args(argv)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ssl_context = None
    if config.tls:
        cert, key = ensure_certificate(config.cert_dir)
        ssl_context = server_ssl_context(cert, key)
        print(f"TLS on; trust {cert} (e.g. connection_verify=...) when using a connection string", flush=True)
    print(f"ACS emulator on {config.base_url}", flush=True)
    print(f"connection string: {config.connection_string}", flush=True)
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        web.run_app(create_app(config), host=config.host, port=config.port, ssl_context=ssl_context,
                    print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
