"""Run the emulator: in the foreground for `python -m emulator`, or on a background thread for tests and scripts."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, Self, TypeVar

from aiohttp import web

from .app import create_app
from .config import EmulatorConfig
from .control_client import EmulatorControl
from .models import BACKEND, Backend
from .tls import ensure_certificate, server_ssl_context

T = TypeVar("T")


class EmulatorServer:
    """The emulator on its own event loop in a daemon thread: `with EmulatorServer(config) as emulator: ...`."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig(port=0)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="acs-emulator", daemon=True)
        self._runner: web.AppRunner | None = None
        self.app: web.Application | None = None
        self._control: EmulatorControl | None = None

    @property
    def url(self) -> str:
        return self.config.base_url

    @property
    def control(self) -> EmulatorControl:
        """A control-API client for this emulator (simulated people, timelines, subscriptions)."""
        if self._control is None:
            self._control = EmulatorControl(self.url)
        return self._control

    @property
    def backend(self) -> Backend:
        assert self.app is not None, "emulator not started"
        return self.app[BACKEND]

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the emulator's loop from another thread and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def start(self) -> Self:
        self._thread.start()
        self.run(self._start())
        return self

    async def _start(self) -> None:
        self.app = create_app(self.config)
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        ssl_context = None
        if self.config.tls:
            cert, key = ensure_certificate(self.config.cert_dir)
            ssl_context = server_ssl_context(cert, key)
        site = web.TCPSite(self._runner, self.config.host, self.config.port, ssl_context=ssl_context)
        await site.start()
        if self.config.port == 0:
            self.config.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        if self._control is not None:
            self._control.close()
        if self._runner is not None:
            self.run(self._runner.cleanup())
            self._runner = None
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
