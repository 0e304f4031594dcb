"""`python -m receiver`: serve ACS media-streaming and transcription WebSockets (flags: --help)."""

from __future__ import annotations

import logging

from aiohttp import web

from receiver.app import create_app
from receiver.config import ReceiverConfig
from shared.logging import install_phone_number_masking


def main() -> None:
    config = ReceiverConfig.from_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)
    install_phone_number_masking()
    # No access log: the token travels in the URL.
    web.run_app(create_app(config), host=config.host, port=config.port, access_log=None, shutdown_timeout=1.0)


if __name__ == "__main__":
    main()
