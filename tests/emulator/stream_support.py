"""Test helpers for streaming and recording: the app's WebSocket endpoint, condition polling, a closed port."""

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web


class WebSocketReceiver:
    """The app's streaming endpoint on 127.0.0.1: accepts the emulator's WebSockets and records every JSON message.

    `url` is what you pass as transportUrl; `wait_for("AudioData", predicate=...)` blocks until one has arrived.
    """

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self._condition = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="websocket-receiver", daemon=True)
        self._runner: web.AppRunner | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def open_sockets(self) -> int:
        return len(self._sockets)

    def __enter__(self) -> "WebSocketReceiver":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/ws", self._accept)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _stop(self) -> None:
        for open_socket in list(self._sockets):
            await open_socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _accept(self, request: web.Request) -> web.WebSocketResponse:
        stream = web.WebSocketResponse()
        await stream.prepare(request)
        self._sockets.add(stream)
        async for frame in stream:
            if frame.type == WSMsgType.TEXT:
                with self._condition:
                    self.messages.append(json.loads(frame.data))
                    self._condition.notify_all()
        self._sockets.discard(stream)
        with self._condition:
            self._condition.notify_all()
        return stream

    def send(self, message: dict) -> None:
        """Write to every open socket, as an app answering over a bidirectional stream does."""

        async def send_all() -> None:
            for open_socket in list(self._sockets):
                await open_socket.send_json(message)

        asyncio.run_coroutine_threadsafe(send_all(), self._loop).result(timeout=10)

    def clear(self) -> None:
        with self._condition:
            self.messages.clear()

    def of_kind(self, kind: str) -> list[dict]:
        with self._condition:
            return [m for m in self.messages if m.get("kind") == kind]

    def wait_for(
        self, kind: str, predicate: Callable[[dict], bool] | None = None, *, count: int = 1, timeout: float = 10.0
    ) -> dict:
        """The `count`-th message of that kind (matching `predicate`); TimeoutError listing what came."""

        def nth() -> dict | None:
            found = [m for m in self.messages if m.get("kind") == kind and (predicate is None or predicate(m))]
            return found[count - 1] if len(found) >= count else None

        return self.wait_until(nth, f"{count} {kind} message(s)", timeout)

    def wait_until(self, found: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
        """Block until `found()` is truthy, re-checking whenever a message arrives or a socket closes."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while not (result := found()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    kinds = [m.get("kind") for m in self.messages][-20:]
                    raise TimeoutError(f"no {what} within {timeout}s; last kinds received: {kinds}")
                self._condition.wait(remaining)
            return result


def eventually(check: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """Poll `check` until it returns something truthy (and return that); TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout}s")
        time.sleep(0.01)
    return result


def closed_port_url(scheme: str = "ws") -> str:
    """A loopback URL nothing listens on, for connection failures."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"{scheme}://127.0.0.1:{port}/ws"
