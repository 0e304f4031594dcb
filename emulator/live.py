"""The web page's side of the emulator: the page itself at /emulator/, a live feed of calls, timeline entries and
delivery outcomes (server-sent events), each call's story so far, and redelivery of a callback or Event Grid POST."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from . import control, narration
from .delivery import Delivery, EventGridSubscription
from .models import BACKEND, Backend, CallListener, ServerCall, backend_of
from .timeline import TimelineEntry

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).parent / "web"
# Event ids -> serverCallId, so a delivery (which knows only its events) finds its call; cleared on reset.
EVENT_CALLS = "live.event_calls"
KEEP_ALIVE_SECONDS = 15.0
# A browser tab that stops reading is dropped once this many messages wait for it, rather than growing memory.
MAX_QUEUED = 10_000
_CLOSE = ("close", None)


class LiveFeed(CallListener):
    """A backend listener that fans every timeline entry and delivery out to each open page's queue."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.queues: set[asyncio.Queue[tuple[str, Any]]] = set()

    def subscribe(self) -> asyncio.Queue[tuple[str, Any]]:
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[tuple[str, Any]]) -> None:
        self.queues.discard(queue)

    def close_all(self) -> None:
        for queue in self.queues:
            queue.put_nowait(_CLOSE)

    def on_timeline_entry(self, call: ServerCall, entry: TimelineEntry) -> None:
        if event_id := entry.detail.get("eventId"):
            self.backend.store(EVENT_CALLS)[event_id] = call.server_call_id
        if self.queues:
            position = len(call.timeline.entries) - 1  # observers run right after the entry is appended
            self._publish("entry", {"call": call_view(call), "entry": narration.narrated(entry.to_dict(), position)})

    def on_delivery(self, delivery: Delivery, delivery_id: int) -> None:
        if self.queues:
            self._publish("delivery", delivery_view(self.backend, delivery, delivery_id))

    def _publish(self, kind: str, message: Any) -> None:
        for queue in list(self.queues):
            if queue.qsize() >= MAX_QUEUED:
                self.queues.discard(queue)
                queue.put_nowait(_CLOSE)
            else:
                queue.put_nowait((kind, message))


FEED = web.AppKey("live_feed", LiveFeed)


def install(app: web.Application) -> None:
    """Serve the page and its feed; the feed listens to the backend once the app has started it."""
    app.router.add_get("/emulator", page)
    app.router.add_get("/emulator/", page)
    app.router.add_static("/emulator/web/", WEB_DIR, append_version=True)
    app.router.add_get("/emulator/live/events", events)
    app.router.add_get("/emulator/live/calls/{call_id:.+}", control.guarded(call_story))
    app.router.add_post("/emulator/deliveries/{delivery_id}/redeliver", control.guarded(redeliver))
    app.on_startup.append(_listen)
    app.on_shutdown.append(_close_streams)


async def _listen(app: web.Application) -> None:
    backend = app[BACKEND]
    feed = LiveFeed(backend)
    backend.listeners.append(feed)
    app[FEED] = feed


async def _close_streams(app: web.Application) -> None:
    # Open pages would otherwise hold the server's shutdown for its whole grace period.
    app[FEED].close_all()


async def page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-cache"})


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: `hello` (every call), then `entry` and `delivery` as they happen, until the page leaves."""
    feed = request.app[FEED]
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    queue = feed.subscribe()
    try:
        backend = feed.backend
        await _send(response, "hello", {"calls": [call_view(call) for call in backend.calls.values()]})
        while True:
            try:
                kind, message = await asyncio.wait_for(queue.get(), KEEP_ALIVE_SECONDS)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if kind == "close":
                break
            await _send(response, kind, message)
    except ConnectionError:
        logger.debug("a web page left the live feed")
    finally:
        feed.unsubscribe(queue)
    with contextlib.suppress(ConnectionError):
        await response.write_eof()
    return response


async def _send(response: web.StreamResponse, kind: str, message: Any) -> None:
    await response.write(f"event: {kind}\ndata: {json.dumps(message)}\n\n".encode())


async def call_story(request: web.Request) -> web.Response:
    """One call as the page shows it: its view, every timeline entry narrated, and the outcome of each delivery."""
    call = control.find_call(request)
    backend = backend_of(request)
    entries = [narration.narrated(entry.to_dict(), index) for index, entry in enumerate(call.timeline.entries)]
    log: list[Delivery] = backend.store("deliveries", list)
    deliveries = [
        delivery_view(backend, delivery, delivery_id)
        for delivery_id, delivery in enumerate(log)
        if call_of_delivery(backend, delivery) is call
    ]
    return web.json_response({"call": call_view(call), "entries": entries, "deliveries": deliveries})


async def redeliver(request: web.Request) -> web.Response:
    """POST a recorded delivery's events again, to the same URL, past the fault mode; answers the new outcome."""
    backend = backend_of(request)
    log: list[Delivery] = backend.store("deliveries", list)
    raw_id = request.match_info["delivery_id"]
    if not raw_id.isdigit() or int(raw_id) >= len(log):
        raise control.ControlError(404, f"No delivery {raw_id!r}; GET /emulator/deliveries lists them in order.")
    original = log[int(raw_id)]
    if original.kind == "callback":
        outcome = await backend.callbacks.send(original.url, original.events)
    else:
        known = next((s for s in backend.eventgrid.subscriptions if s.url == original.url), None)
        outcome = await backend.eventgrid.deliver(known or EventGridSubscription(original.url), original.events[0])
    call = call_of_delivery(backend, original)
    if call is not None:
        result = "delivered" if outcome.ok else f"failed ({outcome.error})"
        call.timeline.add("emulator", f"redelivered {', '.join(_event_types(original))}: {result}", url=outcome.url)
    # The new delivery is the last one recorded (on_delivery ran while it was sent).
    return web.json_response(delivery_view(backend, outcome, len(log) - 1))


def call_view(call: ServerCall) -> dict[str, Any]:
    """The control API's view of a call, without anything secret (streaming URLs carry the receiver's token)."""
    view = control.call_view(call)
    view["connections"] = [
        {"callConnectionId": c["callConnectionId"], "state": c["state"]} for c in view["connections"]
    ]
    view["incomingCalls"] = [{"callee": o["callee"], "state": o["state"]} for o in view["incomingCalls"]]
    return view


def call_of_delivery(backend: Backend, delivery: Delivery) -> ServerCall | None:
    event_calls: dict[str, str] = backend.store(EVENT_CALLS)
    for event in delivery.events:
        server_call_id = event_calls.get(str(event.get("id")))
        if server_call_id is not None:
            return backend.calls.get(server_call_id)
    return None


def delivery_view(backend: Backend, delivery: Delivery, delivery_id: int) -> dict[str, Any]:
    call = call_of_delivery(backend, delivery)
    return {
        "id": delivery_id,
        "serverCallId": call.server_call_id if call else None,
        "kind": delivery.kind,
        "eventIds": [event.get("id") for event in delivery.events],
        "eventTypes": _event_types(delivery),
        "url": delivery.url,
        "ok": delivery.ok,
        "status": delivery.status,
        "error": delivery.error,
        "attempts": delivery.attempts,
    }


def _event_types(delivery: Delivery) -> list[str]:
    return [str(event.get("type") or event.get("eventType", "?")).rsplit(".", 1)[-1] for event in delivery.events]
