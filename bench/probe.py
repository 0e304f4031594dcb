"""Runtime instrumentation for the benchmarks, installed by wrapping functions (no app or emulator code is edited).

- HostProbe times every request the dev host serves (callback POST received -> response ready) and, inside it,
  the app's I/O: JWT check, state reads/writes, reference lookups and each ACS request.
- TimelineSignals wakes a waiting simulated caller as soon as the emulator appends to its call's timeline, so the
  load driver reacts at once without polling the control API.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .timelines import declared

EVENT_PREFIX = "Microsoft.Communication."


@dataclass
class Invocation:
    """One request served by the dev host: what it carried, how long it took, where the time went."""

    kind: str  # "callback" (POST /api/callbacks) or "eventgrid" (the Event Grid webhook)
    events: list[tuple[str, str]]  # (event type without prefix, operation context)
    call_id: str  # callConnectionId of a callback, serverCallId of an IncomingCall
    started: float  # time.perf_counter()
    duration_ms: float = 0.0
    status: int = 0
    spans: list[tuple[str, float]] = field(default_factory=list)  # (label, ms), in order
    first_action_ms: float | None = None  # request received -> the first ACS request answered

    @property
    def first_event(self) -> str:
        return self.events[0][0] if self.events else ""

    def span_ms(self, label: str) -> float:
        return sum(ms for name, ms in self.spans if name == label)

    def span_count(self, label: str) -> int:
        return sum(1 for name, _ in self.spans if name == label)

    @property
    def io_ms(self) -> float:
        return sum(ms for name, ms in self.spans if name in SPAN_LABELS)


CURRENT: contextvars.ContextVar[Invocation | None] = contextvars.ContextVar("bench_invocation", default=None)

# Where the app's I/O happens: (module, attribute path, span label). Labels group the table reads/writes.
APP_SPANS = (
    ("shared.clients", "verify_callback", "auth"),
    ("shared.state", "TableStateStore.load", "state.read"),
    ("shared.state", "TableStateStore.commit", "state.write"),
    ("shared.state", "TableStateStore.get_incoming_call", "state.read"),
    ("shared.state", "TableStateStore.put_incoming_call", "state.write"),
    ("shared.state", "TableStateStore.add_incoming_call", "state.write"),
    ("shared.lookup", "TableLookup.get", "lookup"),
    ("shared.acs", "Acs._issue", "acs"),
    ("shared.acs", "CallAutomation.answer", "acs"),
    ("shared.acs", "CallAutomation.redirect", "acs"),
    ("shared.acs", "CallAutomation.reject", "acs"),
    # Not I/O itself (its reads and writes are counted above): a callback that found no state yet and adopted the
    # call from its IncomingCall record, because it overtook the IncomingCall handler's state write.
    ("shared.engine", "Engine._adopt", "adopt"),
)
SPAN_LABELS = ("auth", "state.read", "state.write", "lookup", "acs")
COUNTERS = ("adopt",)


def _describe(kind: str, body: bytes) -> tuple[list[tuple[str, str]], str]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return [], ""
    items = payload if isinstance(payload, list) else [payload]
    events: list[tuple[str, str]] = []
    call_id = ""
    for item in items:
        if not isinstance(item, dict):
            continue
        data = item.get("data")
        if not isinstance(data, dict):
            data = {}
        event_type = str(item.get("type") or item.get("eventType") or "")
        events.append((event_type.removeprefix(EVENT_PREFIX), declared(data.get("operationContext"))))
        call_id = call_id or str(data.get("callConnectionId") or data.get("serverCallId") or "")
    return events, call_id


class _Patches:
    """Attribute replacements undone in reverse order."""

    def __init__(self) -> None:
        self._undo: list[tuple[Any, str, Any]] = []

    def replace(self, owner: Any, name: str, value: Any) -> Any:
        original = getattr(owner, name)
        self._undo.append((owner, name, original))
        setattr(owner, name, value)
        return original

    def undo(self) -> None:
        while self._undo:
            owner, name, original = self._undo.pop()
            setattr(owner, name, original)


class HostProbe:
    """Records an Invocation per dev-host request; install() before the LocalStack starts (routes bind then)."""

    def __init__(self) -> None:
        self.invocations: list[Invocation] = []
        self._patches = _Patches()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._last_finished = time.monotonic()

    def install(self) -> HostProbe:
        import importlib

        from devhost import server

        for kind, name in (("callback", "_http_trigger"), ("eventgrid", "_event_grid_webhook")):
            self._patches.replace(server, name, self._timed_handler(kind, getattr(server, name)))
        for module_name, path, label in APP_SPANS:
            owner: Any = importlib.import_module(module_name)
            *parents, attribute = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent)
            self._patches.replace(owner, attribute, _timed_span(label, getattr(owner, attribute)))
        return self

    def uninstall(self) -> None:
        self._patches.undo()

    def __enter__(self) -> HostProbe:
        return self.install()

    def __exit__(self, *exc_info: object) -> None:
        self.uninstall()

    def clear(self) -> None:
        with self._lock:
            self.invocations.clear()

    def snapshot(self) -> list[Invocation]:
        with self._lock:
            return list(self.invocations)

    def wait_idle(self, quiet: float = 0.2, timeout: float = 30.0) -> None:
        """Block until no request has been in flight for `quiet` seconds (late callbacks delivered and handled)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                idle = self._in_flight == 0 and time.monotonic() - self._last_finished >= quiet
            if idle:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the dev host was still busy after {timeout:.0f}s ({self._in_flight} in flight)")
            time.sleep(0.02)

    def _timed_handler(self, kind: str, handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
        @functools.wraps(handler)
        async def timed(request: Any) -> Any:
            started = time.perf_counter()
            events, call_id = _describe(kind, await request.read()) if request.method == "POST" else ([], "")
            invocation = Invocation(kind=kind, events=events, call_id=call_id, started=started)
            with self._lock:
                self._in_flight += 1
            token = CURRENT.set(invocation)
            try:
                response = await handler(request)
                invocation.status = response.status
                return response
            finally:
                invocation.duration_ms = (time.perf_counter() - started) * 1000
                CURRENT.reset(token)
                with self._lock:
                    self.invocations.append(invocation)
                    self._in_flight -= 1
                    self._last_finished = time.monotonic()

        return timed


def _timed_span(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    async def timed(*args: Any, **kwargs: Any) -> Any:
        invocation = CURRENT.get()
        if invocation is None:
            return await function(*args, **kwargs)
        started = time.perf_counter()
        try:
            return await function(*args, **kwargs)
        finally:
            ended = time.perf_counter()
            invocation.spans.append((label, (ended - started) * 1000))
            if label == "acs" and invocation.first_action_ms is None:
                invocation.first_action_ms = (ended - invocation.started) * 1000

    return timed


class TimelineSignals:
    """Sets an asyncio.Event (on its own loop) whenever the emulator appends to a watched call's timeline."""

    def __init__(self) -> None:
        self._watchers: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}
        self._patches = _Patches()

    @contextmanager
    def installed(self) -> Iterator[TimelineSignals]:
        from emulator import timeline

        original = timeline.Timeline.add
        watchers = self._watchers

        @functools.wraps(original)
        def add(this: Any, *args: Any, **kwargs: Any) -> Any:
            entry = original(this, *args, **kwargs)
            watcher = watchers.get(id(this))
            if watcher is not None:
                loop, event = watcher
                loop.call_soon_threadsafe(event.set)
            return entry

        self._patches.replace(timeline.Timeline, "add", add)
        try:
            yield self
        finally:
            self._patches.undo()
            self._watchers.clear()

    def watch(self, timeline: Any, event: asyncio.Event) -> None:
        self._watchers[id(timeline)] = (asyncio.get_running_loop(), event)

    def unwatch(self, timeline: Any) -> None:
        self._watchers.pop(id(timeline), None)
