"""Run the emulator: in the foreground for `python -m emulator`, or on a background thread for tests and scripts."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, Self, TypeVar

from aiohttp import web

from .app import create_app
from .clock import Clock, VirtualClock
from .config import EmulatorConfig
from .control_client import EmulatorControl
from .models import BACKEND, Backend
from .tls import ensure_certificate, server_ssl_context

T = TypeVar("T")


class EmulatorServer:
    """The emulator on its own event loop in a daemon thread: `with EmulatorServer(config) as emulator: ...`.

    Given a VirtualClock, emulated time stands still until `advance()`: what tests use to make timeouts and audio
    durations happen exactly when they say.
    """

    def __init__(self, config: EmulatorConfig | None = None, clock: Clock | None = None) -> None:
        self.config = config or EmulatorConfig(port=0)
        self.clock = clock
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

    def advance(self, emulated_seconds: float) -> None:
        """Let `emulated_seconds` pass on the VirtualClock, then settle(): when it returns, every callback those
        seconds caused has been delivered, so one that is missing was never sent."""
        clock = self._virtual_clock()

        async def advance() -> None:
            await clock.advance(emulated_seconds)
            await self.backend.callbacks_delivered()

        self.run(advance())

    def settle(self) -> None:
        """Without time passing, let the emulator finish reacting: what is due runs, every queued callback is sent."""
        self.advance(0)

    def _virtual_clock(self) -> VirtualClock:
        if not isinstance(self.clock, VirtualClock):
            raise TypeError("advance() and settle() need an emulator started with a VirtualClock")
        return self.clock

    def start(self) -> Self:
        self._thread.start()
        self.run(self._start())
        return self

    async def _start(self) -> None:
        self.app = create_app(self.config, self.clock)
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
        self.run(_cancel_leftover_tasks())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


async def _cancel_leftover_tasks() -> None:
    """Cancel what is still running once the app is cleaned up (a media operation a cancelled one started, say), so
    none is destroyed pending when the process exits; cancelling can start more, hence the loop."""
    while tasks := [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
