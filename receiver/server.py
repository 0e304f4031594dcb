"""The receiver on a background thread with its own event loop: for the local stack and tests."""

from __future__ import annotations

import asyncio
import threading
from typing import Self

from aiohttp import web

from receiver.app import RECEIVER_KEY, WEBSOCKET_PATH, Receiver, create_app
from receiver.config import ReceiverConfig
from receiver.hooks import AudioHook


class ReceiverServer:
    """`with ReceiverServer(config) as server:` serves on server.url until the block ends (port 0 picks one)."""

    def __init__(self, config: ReceiverConfig, *, audio_hook: AudioHook | None = None) -> None:
        self.config = config
        self.audio_hook = audio_hook
        self.port = config.port
        self.receiver: Receiver | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The WebSocket URL ACS streams to (without the token)."""
        return f"ws://{self.config.host}:{self.port}{WEBSOCKET_PATH}"

    def start(self) -> Self:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="receiver", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    async def _start(self) -> None:
        app = await create_app(self.config, audio_hook=self.audio_hook)
        self.receiver = app[RECEIVER_KEY]
        self._runner = web.AppRunner(app, access_log=None)  # no access log: URLs carry the token
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def stop(self) -> None:
        """Close every socket and stop listening; start() serves again on the same port."""
        if self._loop is None or self._thread is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
            self._runner = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
