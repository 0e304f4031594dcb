"""Emulator state: server calls, the app's call connections (legs), participants, and the backend owning them."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .clock import Clock
from .config import API_VERSION, EmulatorConfig
from .errors import call_not_found
from .events import CALL_ENDED_MESSAGE, callback_event, event_grid_event, short_name
from .faults.injector import Faults
from .identifiers import Identifier
from .timeline import Timeline, TimelineEntry
from .versions import event_type_for, shape

if TYPE_CHECKING:
    from .delivery import CallbackSender, Delivery, EventGridPublisher
    from .tokens import TokenIssuer

logger = logging.getLogger(__name__)

# .NET ticks (100 ns since 0001-01-01) of the Unix epoch: real serverCallIds end in `e=<ticks>` of their creation.
_EPOCH_TICKS = 621_355_968_000_000_000


def new_server_call_id() -> str:
    """Standard base64 of a conversation URL, the shape real serverCallIds have."""
    conversation = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    ticks = _EPOCH_TICKS + time.time_ns() // 100
    url = f"https://api.flightproxy.skype.com/api/v2/cp/conv-emulator.conv.skype.com/conv/{conversation}?i=10-0-0-1&e={ticks}"
    return base64.b64encode(url.encode()).decode()


def new_call_connection_id() -> str:
    """A GUID whose first group reads `xx00yy80`, as every real callConnectionId's does (contract §1.6)."""
    value = str(uuid.uuid4())
    return f"{value[:2]}00{value[4:6]}80{value[8:]}"


@dataclass
class Participant:
    identifier: Identifier
    state: str = "connected"  # ringing | connected | left
    is_muted: bool = False
    is_on_hold: bool = False
    display_name: str = ""
    is_app: bool = False
    custom_context: dict[str, Any] = field(default_factory=dict)  # voipHeaders/sipHeaders they were invited with

    def to_model(self) -> dict:
        return {"identifier": self.identifier.to_model(), "isMuted": self.is_muted, "isOnHold": self.is_on_hold}


class CallListener:
    """Feature modules (media, recording, streaming) register one of these to react to what happens on a call;
    each overrides the hooks it cares about."""

    def on_tones(self, call: ServerCall, participant: Participant, tones: list[str]) -> None:
        """A person pressed keys."""

    def on_speech(self, call: ServerCall, participant: Participant, text: str) -> None:
        """A person said something."""

    def on_participant_left(self, call: ServerCall, participant: Participant) -> None:
        """Someone left the call (or it ended under them)."""

    def on_connection_closed(self, connection: CallConnection) -> None:
        """An app leg disconnected."""

    def on_connection_connected(self, connection: CallConnection) -> None:
        """An app leg connected (CallConnected is queued)."""

    def on_timeline_entry(self, call: ServerCall, entry: TimelineEntry) -> None:
        """Something was added to a call's timeline (a request, an event, a person's action, a fault)."""

    def on_delivery(self, delivery: Delivery, delivery_id: int) -> None:
        """A callback or Event Grid delivery finished (its final outcome), with its index in the deliveries log."""


@dataclass
class ServerCall:
    """One call in the service, seen by every app leg (call connection) attached to it."""

    backend: Backend
    server_call_id: str = field(default_factory=new_server_call_id)
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    participants: dict[str, Participant] = field(default_factory=dict)
    connections: list[CallConnection] = field(default_factory=list)
    timeline: Timeline = field(default_factory=Timeline)
    is_group: bool = False
    group_call_id: str | None = None
    room_id: str | None = None
    ended: bool = False
    had_people: bool = False  # a person (not an app leg) has been in the call
    sequence_number: int = 0

    def __post_init__(self) -> None:
        # Listeners (the web page's live feed) hear of every timeline entry together with its call.
        self.timeline.observers.append(lambda entry: self.backend.notify("on_timeline_entry", self, entry))

    def participant(self, raw_id: str) -> Participant | None:
        return self.participants.get(raw_id)

    def present(self) -> list[Participant]:
        return [p for p in self.participants.values() if p.state == "connected"]

    def people(self) -> list[Participant]:
        """Connected participants other than app legs: the humans the simulated people API drives."""
        return [p for p in self.present() if not p.is_app]

    def live_connections(self) -> list[CallConnection]:
        return [c for c in self.connections if c.state not in ("disconnected",)]

    def next_sequence_number(self) -> int:
        self.sequence_number += 1
        return self.sequence_number

    def broadcast_participants(self) -> None:
        """Every connected app leg gets ParticipantsUpdated with the participants now present.

        The sequence number counts per call across its legs, so one leg sees gaps where another leg was told (the
        live service's numbers jump likewise).
        """
        models = [p.to_model() for p in self.present()]
        for connection in self.live_connections():
            if connection.state == "connected":
                connection.emit(
                    "ParticipantsUpdated",
                    data={"participants": models, "sequenceNumber": self.next_sequence_number()},
                    include_operation_context=False,
                )


@dataclass
class CallConnection:
    """The app's leg of a server call: what `callConnectionId` names and where its callbacks go."""

    call: ServerCall
    callback_uri: str
    app_participant: Participant  # the app's own participant in the call
    api_version: str = API_VERSION
    call_connection_id: str = field(default_factory=new_call_connection_id)
    state: str = "connecting"
    source: Identifier | None = None
    targets: list[Identifier] = field(default_factory=list)
    source_caller_id: str | None = None
    source_display_name: str | None = None
    answered_by: str | None = None
    answered_for: str | None = None
    operation_context: str | None = None
    cognitive_services_endpoint: str | None = None
    media_streaming: dict[str, Any] = field(default_factory=lambda: {"state": "disabled"})
    transcription: dict[str, Any] = field(default_factory=lambda: {"state": "disabled"})
    extensions: dict[str, Any] = field(default_factory=dict)
    _outbox: asyncio.Queue | None = field(default=None, repr=False)
    _closed_for_events: bool = False

    @property
    def backend(self) -> Backend:
        return self.call.backend

    def properties(self) -> dict:
        """CallConnectionProperties as the REST API returns it."""
        body: dict[str, Any] = {
            "callConnectionId": self.call_connection_id,
            "targets": [t.to_model() for t in self.targets],
            "callConnectionState": self.state,
            "callbackUri": self.callback_uri,
            "correlationId": self.call.correlation_id,
            "mediaStreamingSubscription": dict(self.media_streaming),
            "transcriptionSubscription": dict(self.transcription),
        }
        if self.state != "connecting" or self.answered_by is not None:
            body["serverCallId"] = self.call.server_call_id
        if self.source is not None:
            body["source"] = self.source.to_model()
        if self.source_caller_id:
            body["sourceCallerIdNumber"] = {"value": self.source_caller_id}
        body["sourceDisplayName"] = self.source_display_name or ""
        if self.answered_by:
            body["answeredBy"] = {"id": self.answered_by}
        if self.answered_for:
            body["answeredFor"] = {"value": self.answered_for}
        return shape("CallConnectionProperties", body, self.api_version)

    def emit(
        self,
        event_type: str,
        *,
        data: dict | None = None,
        operation_context: str | None = None,
        callback_uri: str | None = None,
        result: tuple[int, int, str] | None = (200, 0, ""),
        source: str | None = None,
        include_operation_context: bool = True,
    ) -> dict | None:
        """Queue one callback event for in-order delivery; nothing is sent after CallDisconnected.

        The event and its fields are those of the leg's api-version: an event that version lacks is not sent.
        """
        if self._closed_for_events:
            return None
        sent_type = event_type_for(short_name(event_type), self.api_version)
        if sent_type is None:
            return None
        event = callback_event(
            sent_type,
            call_connection_id=self.call_connection_id,
            server_call_id=self.call.server_call_id,
            correlation_id=self.call.correlation_id,
            api_version=self.api_version,
            data=data,
            operation_context=operation_context if include_operation_context else None,
            result=result,
            source=source,
        )
        event["data"] = shape(sent_type, event["data"], self.api_version)
        url = callback_uri or self.callback_uri
        self.call.timeline.add(
            "callback",
            event["type"].rsplit(".", 1)[-1],
            eventId=event["id"],
            url=url,
            data=event["data"],
            callConnectionId=self.call_connection_id,
            operationContext=operation_context,
        )
        if sent_type == "CallDisconnected":
            self._closed_for_events = True
        if self._outbox is None:
            self._outbox = asyncio.Queue()
            self.backend.spawn(self._deliver_in_order(self._outbox))
        self._outbox.put_nowait((url, event))
        if sent_type == "CallConnected":
            # Every path that connects a leg (dial, answer, connect) announces it here, after CallConnected is queued.
            self.backend.notify("on_connection_connected", self)
        return event

    async def delivered(self) -> None:
        """Wait until every event queued so far has been sent (or given up on)."""
        if self._outbox is not None:
            await self._outbox.join()

    async def _deliver_in_order(self, outbox: asyncio.Queue) -> None:
        # One POST at a time per leg keeps events in the order they happened (real ACS gives no such promise),
        # unless the fault mode reorders, duplicates or drops them.
        await self.backend.faults.deliver_leg(self, outbox)

    def disconnect(self, message: str = CALL_ENDED_MESSAGE) -> None:
        """End this leg: CallDisconnected is the last event it ever sends."""
        if self.state == "disconnected":
            return
        self.state = "disconnected"
        self.backend.notify("on_connection_closed", self)
        self.emit("CallDisconnected", result=(200, 7000, message), include_operation_context=False)

    def abandon(self) -> None:
        """Close a leg that never connected: its failure event (CreateCallFailed, ConnectFailed) is its last."""
        self.state = "disconnected"
        self._closed_for_events = True
        self.backend.notify("on_connection_closed", self)


class Backend:
    """All emulator state; one per server process. `reset()` returns it to empty."""

    def __init__(
        self,
        config: EmulatorConfig,
        tokens: TokenIssuer,
        callbacks: CallbackSender,
        eventgrid: EventGridPublisher,
        clock: Clock,
    ) -> None:
        self.config = config
        self.tokens = tokens
        self.callbacks = callbacks
        self.eventgrid = eventgrid
        self.clock = clock
        self.listeners: list[CallListener] = []
        self.calls: dict[str, ServerCall] = {}
        self.connections: dict[str, CallConnection] = {}
        self.state: dict[str, Any] = {}  # per-feature stores (people, incoming offers, recordings...), cleared on reset
        self.repeatability: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self._tasks: set[asyncio.Task] = set()
        self.faults = Faults(self)

    def spawn(self, work: Awaitable[Any]) -> asyncio.Task:
        """Run background work owned by the backend, cancelled on reset; failures are logged, never lost silently."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("emulator background task failed", exc_info=task.exception())

    def later(self, emulated_seconds: float, action: Callable[[], Any]) -> asyncio.Task:
        """Call `action` after an emulated delay (scaled by --time-scale)."""

        async def run() -> None:
            await self.clock.sleep(emulated_seconds)
            result = action()
            if asyncio.iscoroutine(result):
                await result

        return self.spawn(run())

    def store(self, name: str, factory: Callable[[], Any] = dict) -> Any:
        """A named per-feature store that reset() clears."""
        if name not in self.state:
            self.state[name] = factory()
        return self.state[name]

    def notify(self, hook: str, *args: Any) -> None:
        for listener in self.listeners:
            getattr(listener, hook)(*args)

    def new_call(self, **kwargs: Any) -> ServerCall:
        call = ServerCall(backend=self, **kwargs)
        self.calls[call.server_call_id] = call
        return call

    def add_connection(self, connection: CallConnection) -> CallConnection:
        self.connections[connection.call_connection_id] = connection
        connection.call.connections.append(connection)
        return connection

    def connection(self, call_connection_id: str, *, allow_disconnected: bool = False) -> CallConnection:
        """The live leg with that id, or the 404/8522 the service answers for an unknown or ended call."""
        connection = self.connections.get(call_connection_id)
        if connection is None or (connection.state == "disconnected" and not allow_disconnected):
            raise call_not_found(call_connection_id)
        return connection

    def find_call(
        self, *, server_call_id: str | None = None, group_call_id: str | None = None, room_id: str | None = None
    ) -> ServerCall | None:
        for call in self.calls.values():
            if call.ended:
                continue
            if server_call_id and call.server_call_id == server_call_id:
                return call
            if group_call_id and call.group_call_id == group_call_id:
                return call
            if room_id and call.room_id == room_id:
                return call
        return None

    async def callbacks_delivered(self) -> None:
        """Wait until every callback any leg has queued so far has been sent (or given up on)."""
        await asyncio.gather(*(connection.delivered() for connection in list(self.connections.values())))

    def publish_event_grid(self, event_type: str, subject: str, data: dict, call: ServerCall | None = None) -> dict:
        event = event_grid_event(event_type, subject=subject, data=data, topic=self.config.resource_topic)
        if call is not None:
            call.timeline.add(
                "eventgrid", event["eventType"].rsplit(".", 1)[-1], eventId=event["id"], subject=subject, data=data
            )
        self.spawn(self.faults.publish_event_grid(event, call))
        return event

    async def reset(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.calls.clear()
        self.connections.clear()
        self.state.clear()
        self.repeatability.clear()
        self.faults.reset()


# Where the application keeps the backend; every route module reads it through backend_of().
BACKEND = web.AppKey("backend", Backend)


def backend_of(request: web.Request) -> Backend:
    return request.app[BACKEND]
