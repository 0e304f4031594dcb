"""Test helpers for apps driven by the emulator: callback and Event Grid receivers that record events and wait."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any, Self

import jwt
from aiohttp import web


class CallbackRecorder:
    """An HTTP endpoint on 127.0.0.1 that stores every callback event it receives, with its bearer token.

    `url` is what you pass as callbackUri; `wait_for("CallConnected", call_connection_id=...)` blocks until such an
    event has arrived or the deadline passes.
    """

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.events: list[dict[str, Any]] = []
        self.tokens: list[str | None] = []
        self.posts: list[list[dict[str, Any]]] = []
        self._condition = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="callback-recorder", daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/callbacks"

    def start(self) -> Self:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/callbacks", self._receive)
        app.router.add_post("/callbacks/{tail:.*}", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.json()
        auth = request.headers.get("Authorization", "")
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else None
        with self._condition:
            self.posts.append(body)
            for event in body:
                event["_path"] = request.path
                self.events.append(event)
                self.tokens.append(token)
            self._condition.notify_all()
        return web.Response(status=self.status)

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def clear(self) -> None:
        with self._condition:
            self.events.clear()
            self.tokens.clear()
            self.posts.clear()

    def matching(
        self,
        event_type: str | None = None,
        *,
        call_connection_id: str | None = None,
        predicate: Callable[[dict], bool] | None = None,
    ) -> list[dict[str, Any]]:
        with self._condition:
            return [e for e in self.events if _matches(e, event_type, call_connection_id, predicate)]

    def types(self, call_connection_id: str | None = None) -> list[str]:
        """Short event names in arrival order, e.g. ['CallConnected', 'ParticipantsUpdated']."""
        return [_short_type(e) for e in self.matching(call_connection_id=call_connection_id)]

    def wait_for(
        self,
        event_type: str,
        *,
        call_connection_id: str | None = None,
        predicate: Callable[[dict], bool] | None = None,
        timeout: float = 10.0,
        count: int = 1,
    ) -> dict:
        """Block until `count` matching events arrived; return the last of them. Raises TimeoutError with what came."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                found = [e for e in self.events if _matches(e, event_type, call_connection_id, predicate)]
                if len(found) >= count:
                    return found[count - 1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [_short_type(e) for e in self.events]
                    raise TimeoutError(f"no {event_type} within {timeout}s; received {seen}")
                self._condition.wait(remaining)

    def verify_tokens(self, jwks: dict, audience: str, issuer: str) -> None:
        """Check every recorded bearer token is an RS256 JWT signed by a key in `jwks` for this audience/issuer."""
        keys = {key["kid"]: jwt.PyJWK(key) for key in jwks["keys"]}
        for token in self.tokens:
            assert token, "callback without a bearer token"
            kid = jwt.get_unverified_header(token)["kid"]
            jwt.decode(token, keys[kid].key, algorithms=["RS256"], audience=audience, issuer=issuer)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _matches(
    event: dict, event_type: str | None, call_connection_id: str | None, predicate: Callable[[dict], bool] | None
) -> bool:
    if event_type and _short_type(event) != event_type.rsplit(".", 1)[-1]:
        return False
    if call_connection_id and event["data"].get("callConnectionId") != call_connection_id:
        return False
    return predicate is None or predicate(event)


def _short_type(event: dict) -> str:
    """'CallConnected' from a callback's type, 'IncomingCall' from an Event Grid event's eventType."""
    return (event.get("type") or event["eventType"]).rsplit(".", 1)[-1]


class EventGridRecorder(CallbackRecorder):
    """An Event Grid webhook on 127.0.0.1: answers the subscription validation handshake, records Notification events.

    Subscribe `url` (e.g. through the control API); `wait_for("IncomingCall", predicate=...)` works as for callbacks.
    """

    def __init__(self, status: int = 200) -> None:
        super().__init__(status)
        self.delivery_headers: list[dict[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/callbacks/eventgrid"

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.json()
        if request.headers.get("aeg-event-type") == "SubscriptionValidation":
            return web.json_response({"validationResponse": body[0]["data"]["validationCode"]})
        with self._condition:
            self.posts.append(body)
            self.events.extend(body)
            self.delivery_headers.append(dict(request.headers))
            self._condition.notify_all()
        return web.Response(status=self.status)

    def clear(self) -> None:
        with self._condition:
            super().clear()
            self.delivery_headers.clear()
