"""Per-call state with optimistic concurrency, a leased outbox of actions and exactly-once event markers.

Layout in one table: the call's state is the row (PartitionKey=callConnectionId, RowKey="state"). The row keeps
the markers of the latest events that changed the call (HANDLED_EVENTS of them), written with the state itself, so
a redelivered event is recognised atomically by a single-entity write: an entity-group transaction with a marker
row per event would cost four times the client CPU (docs/app-flows.md "Delivery semantics"). IncomingCall
bookkeeping lives in its own partition, keyed by the serverCallId, because the call connection id only exists once
the call is answered.

Every write goes through one primitive, StateStore.commit: an insert (a new call) or an ETag-guarded replace,
with the event's marker in the row. The engine (shared/engine.py) owns the one retry loop around it.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.actions import Action, action_from_dict
from shared.errors import StateConflict
from shared.storage_errors import StorageFailure, reraise_unless

if TYPE_CHECKING:
    from azure.data.tables.aio import TableClient

STATE_ROW = "state"
INCOMING_ROW = "incoming"
# Every answered call starts at ANSWERING (until CallConnected) and finishes at ENDED.
ANSWERING = "answering"
ENDED = "ended"
# Entity-group transactions hold at most 100 operations.
BATCH_LIMIT = 100
# Markers kept in a call's row: an event redelivered after this many later events changed the call is no longer
# recognised by its marker, only by the step and claim tag it no longer matches. 64 markers are 2 KiB of the row.
HANDLED_EVENTS = 64


# Characters table keys may hold without escaping; anything else is hashed into a stable key.
_SAFE_KEY = re.compile(r"[A-Za-z0-9._:-]{1,200}")


def table_key(value: str) -> str:
    """value itself when it is a safe table key, else a stable hash of it."""
    return value if _SAFE_KEY.fullmatch(value) else _hashed(value)


def _hashed(value: str) -> str:
    # Parsers refuse lone surrogates; should one get here, it is escaped instead of failing uuid5's UTF-8 encoding.
    return uuid.uuid5(uuid.NAMESPACE_URL, value.encode("utf-8", "backslashreplace").decode("utf-8")).hex


def event_marker(event_id: str) -> str:
    """A fixed-length marker for any event id, so the markers kept in a row have a fixed size."""
    return _hashed(event_id)


def incoming_partition(server_call_id: str) -> str:
    # serverCallId is base64 and may contain "/", which table keys forbid.
    return f"incoming-{_hashed(server_call_id)}"


def _with_marker(state: CallState, marker: str | None) -> CallState:
    """The state to write for a commit: with the event's marker, refused if the event already changed the call."""
    if marker is None:
        return state
    if state.handled_event(marker):
        raise StateConflict(f"event {marker} already changed call {state.call_connection_id}")
    return state.marked(marker)


def utc_now_http_date() -> str:
    """Now as an IMF-fixdate (RFC 9110), the format of Repeatability-First-Sent."""
    return http_date(datetime.now(UTC))


def http_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


@dataclass(frozen=True, kw_only=True)
class Outbox:
    """The actions one claim (an event, or the watchdog) decided, and who is issuing them until when.

    While the lease lasts, a duplicate of the claiming event knows its first copy is still at work and does
    nothing. The outbox is never cleared after a successful send (that would cost a second write per step):
    the next claim replaces it, and a step whose actions never went out is found by its deadline instead.
    """

    claim: str
    tag: str
    actions: tuple[Action, ...]
    owner: str
    lease_until: datetime
    first_sent: str

    def leased(self, now: datetime) -> bool:
        return now < self.lease_until

    def to_json(self) -> dict[str, Any]:
        return {
            "claim": self.claim,
            "tag": self.tag,
            "actions": [action.to_dict() for action in self.actions],
            "owner": self.owner,
            "lease_until": self.lease_until.isoformat(),
            "first_sent": self.first_sent,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Outbox:
        return cls(
            claim=value["claim"],
            tag=value["tag"],
            actions=tuple(action_from_dict(item) for item in value["actions"]),
            owner=value["owner"],
            lease_until=datetime.fromisoformat(value["lease_until"]),
            first_sent=value["first_sent"],
        )


@dataclass(frozen=True, kw_only=True)
class CallState:
    """Where one call is in its flow, what it last asked ACS to do, and when it must have moved on."""

    call_connection_id: str
    flow: str
    step: str
    retries: int = 0
    data: Mapping[str, Any] = field(default_factory=dict)
    server_call_id: str = ""
    # How many claims have issued actions; the newest one's number tags their operation contexts.
    claims: int = 0
    outbox: Outbox | None = None
    # When the step must have moved on; past it (and the outbox lease) the watchdog recovers the call.
    deadline: datetime | None = None
    ended_at: datetime | None = None
    # Markers of the latest events that changed the call (event_marker), oldest first, at most HANDLED_EVENTS.
    handled: tuple[str, ...] = ()
    etag: str | None = None

    @property
    def ended(self) -> bool:
        return self.step == ENDED

    @property
    def tag(self) -> str:
        """The tag of the newest claim that issued actions."""
        return str(self.claims)

    def handled_event(self, event_id: str) -> bool:
        """Whether the event (or a copy of it) has already changed the call."""
        return event_marker(event_id) in self.handled

    def marked(self, event_id: str) -> CallState:
        """This state with the event's marker added (the oldest dropped past HANDLED_EVENTS)."""
        return replace(self, handled=(*self.handled, event_marker(event_id))[-HANDLED_EVENTS:])

    def to_entity(self) -> dict[str, Any]:
        entity: dict[str, Any] = {
            "PartitionKey": table_key(self.call_connection_id),
            "RowKey": STATE_ROW,
            "call_connection_id": self.call_connection_id,
            "server_call_id": self.server_call_id,
            "flow": self.flow,
            "step": self.step,
            "retries": self.retries,
            "data": json.dumps(dict(self.data)),
            "claims": self.claims,
            "outbox": json.dumps(self.outbox.to_json()) if self.outbox else "",
            "handled": " ".join(self.handled),
        }
        # Absent rather than null: a replace removes them, and the watchdog's filters skip rows without them.
        if self.deadline is not None:
            entity["deadline"] = self.deadline
        if self.ended_at is not None:
            entity["ended_at"] = self.ended_at
        return entity

    @classmethod
    def from_entity(cls, entity: Mapping[str, Any], etag: str | None) -> CallState:
        outbox = entity.get("outbox")
        return cls(
            call_connection_id=entity["call_connection_id"],
            server_call_id=entity.get("server_call_id", ""),
            flow=entity["flow"],
            step=entity["step"],
            retries=int(entity.get("retries", 0)),
            data=json.loads(entity.get("data") or "{}"),
            claims=int(entity.get("claims", 0)),
            outbox=Outbox.from_json(json.loads(outbox)) if outbox else None,
            deadline=_aware(entity.get("deadline")),
            ended_at=_aware(entity.get("ended_at")),
            handled=tuple(entity.get("handled", "").split()),
            etag=etag,
        )


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True, kw_only=True)
class IncomingCallRecord:
    """What the app did with an IncomingCall, so a redelivery neither crashes nor acts twice."""

    server_call_id: str
    outcome: str  # "answering" (about to answer), "answered", "redirected" or "rejected"
    flow: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    call_connection_id: str = ""

    @property
    def final(self) -> bool:
        return self.outcome != "answering"

    def to_entity(self) -> dict[str, Any]:
        return {
            "PartitionKey": incoming_partition(self.server_call_id),
            "RowKey": INCOMING_ROW,
            "server_call_id": self.server_call_id,
            "outcome": self.outcome,
            "flow": self.flow,
            "data": json.dumps(dict(self.data)),
            "call_connection_id": self.call_connection_id,
        }

    @classmethod
    def from_entity(cls, entity: Mapping[str, Any]) -> IncomingCallRecord:
        return cls(
            server_call_id=entity["server_call_id"],
            outcome=entity["outcome"],
            flow=entity.get("flow", ""),
            data=json.loads(entity.get("data") or "{}"),
            call_connection_id=entity.get("call_connection_id", ""),
        )


@dataclass(frozen=True)
class Loaded:
    """A call's state as read (None for a call without state)."""

    state: CallState | None
    # Served from a per-instance cache (shared/state_cache.py) without reading the store: maybe out of date.
    cached: bool = False


class StateStore(Protocol):
    """Per-call state storage; every write is conditional so concurrent instances cannot lose updates."""

    async def load(self, call_connection_id: str, *, for_event: bool = False) -> Loaded:
        """The call's state, with its markers, in one point read (for_event: an event's load, which a cache may
        serve)."""

    async def commit(self, state: CallState, *, marker: str | None = None) -> CallState:
        """Insert the state (etag None) or replace it if its etag still matches, with the event marker added to it
        (CallState.marked). Returns the state as written, with its new etag; StateConflict if it changed first."""

    async def overdue(self, now: datetime, *, limit: int = 100) -> list[CallState]:
        """Calls that have not ended whose step deadline is at or before now."""

    async def ended_before(self, cutoff: datetime, *, limit: int = 100) -> list[CallState]:
        """Calls that ended before cutoff."""

    async def purge(self, state: CallState) -> int:
        """Delete an ended call's rows and IncomingCall record; returns the call's rows deleted (its state, and the
        marker rows of releases that wrote one per event)."""

    async def get_incoming_call(self, *, server_call_id: str) -> IncomingCallRecord | None: ...

    async def put_incoming_call(self, *, record: IncomingCallRecord) -> None: ...

    async def add_incoming_call(self, *, record: IncomingCallRecord) -> IncomingCallRecord | None:
        """Write record unless its call has one already; then that one, left as it is."""

    async def purge_incoming_before(self, cutoff: datetime, *, limit: int = 100) -> int:
        """Delete IncomingCall records last written before cutoff (redirected and rejected calls have no state)."""


class InMemoryStateStore:
    """A StateStore with the same semantics as TableStateStore, for unit tests."""

    def __init__(self) -> None:
        self.states: dict[str, CallState] = {}
        self.incoming: dict[str, IncomingCallRecord] = {}
        self.incoming_written: dict[str, datetime] = {}
        self.commits = 0
        self._versions = 0
        self._lock = asyncio.Lock()

    async def load(self, call_connection_id: str, *, for_event: bool = False) -> Loaded:
        return Loaded(self.states.get(call_connection_id))

    async def commit(self, state: CallState, *, marker: str | None = None) -> CallState:
        async with self._lock:
            call = state.call_connection_id
            current = self.states.get(call)
            if state.etag is None and current is not None:
                raise StateConflict(f"call {call} already has state")
            if state.etag is not None and (current is None or current.etag != state.etag):
                raise StateConflict(f"state of call {call} changed since it was read")
            written = _with_marker(state, marker)
            self._versions += 1
            saved = replace(written, etag=f'W/"{self._versions}"')
            self.states[call] = saved
            self.commits += 1
            return saved

    async def overdue(self, now: datetime, *, limit: int = 100) -> list[CallState]:
        due = [s for s in self.states.values() if not s.ended and s.deadline is not None and s.deadline <= now]
        return due[:limit]

    async def ended_before(self, cutoff: datetime, *, limit: int = 100) -> list[CallState]:
        return [s for s in self.states.values() if s.ended_at is not None and s.ended_at < cutoff][:limit]

    async def purge(self, state: CallState) -> int:
        self.incoming.pop(state.server_call_id, None)
        return int(self.states.pop(state.call_connection_id, None) is not None)

    async def get_incoming_call(self, *, server_call_id: str) -> IncomingCallRecord | None:
        return self.incoming.get(server_call_id)

    async def put_incoming_call(self, *, record: IncomingCallRecord) -> None:
        self.incoming[record.server_call_id] = record
        self.incoming_written[record.server_call_id] = datetime.now(UTC)

    async def add_incoming_call(self, *, record: IncomingCallRecord) -> IncomingCallRecord | None:
        if (earlier := self.incoming.get(record.server_call_id)) is not None:
            return earlier
        await self.put_incoming_call(record=record)
        return None

    async def purge_incoming_before(self, cutoff: datetime, *, limit: int = 100) -> int:
        old = [key for key, written in self.incoming_written.items() if written < cutoff][:limit]
        for key in old:
            self.incoming.pop(key, None)
            self.incoming_written.pop(key, None)
        return len(old)


class TableStateStore:
    """A StateStore on one Azure Table (azure.data.tables.aio TableClient)."""

    def __init__(self, table: TableClient) -> None:
        self._table = table

    async def load(self, call_connection_id: str, *, for_event: bool = False) -> Loaded:
        try:
            entity = await self._table.get_entity(table_key(call_connection_id), STATE_ROW)
        except ResourceNotFoundError:
            return Loaded(None)
        return Loaded(CallState.from_entity(entity, entity.metadata["etag"]))

    async def commit(self, state: CallState, *, marker: str | None = None) -> CallState:
        state = _with_marker(state, marker)
        entity = state.to_entity()
        try:
            if state.etag is None:
                metadata = await self._table.create_entity(entity)
            else:
                metadata = await self._table.update_entity(entity, **self._if_unchanged(state))
        except HttpResponseError as exc:
            # 404: the state this write was conditional on has been deleted (purged) since it was read.
            reraise_unless(exc, StorageFailure.CONFLICT, StorageFailure.MISSING)
            raise StateConflict(f"state of call {state.call_connection_id} changed since it was read") from exc
        return replace(state, etag=metadata["etag"])

    @staticmethod
    def _if_unchanged(state: CallState) -> dict[str, Any]:
        return {"mode": UpdateMode.REPLACE, "etag": state.etag, "match_condition": MatchConditions.IfNotModified}

    async def overdue(self, now: datetime, *, limit: int = 100) -> list[CallState]:
        # Table Storage has no secondary index: this is a filtered scan, bounded by retention (docs/app-flows.md).
        return await self._states("RowKey eq @state and deadline le @now", {"state": STATE_ROW, "now": now}, limit)

    async def ended_before(self, cutoff: datetime, *, limit: int = 100) -> list[CallState]:
        parameters = {"state": STATE_ROW, "cutoff": cutoff}
        return await self._states("RowKey eq @state and ended_at lt @cutoff", parameters, limit)

    async def _states(self, query: str, parameters: dict[str, Any], limit: int) -> list[CallState]:
        found: list[CallState] = []
        async for row in self._table.query_entities(query, parameters=parameters, results_per_page=limit):
            found.append(CallState.from_entity(row, row.metadata["etag"]))
            if len(found) >= limit:
                break
        return found

    async def purge(self, state: CallState) -> int:
        partition = table_key(state.call_connection_id)
        rows = [
            row["RowKey"]
            async for row in self._table.query_entities(
                "PartitionKey eq @call", parameters={"call": partition}, select=["RowKey"]
            )
        ]
        # The state row goes last, so a purge interrupted half-way is found again by ended_before.
        rows.sort(key=lambda row_key: row_key == STATE_ROW)
        for start in range(0, len(rows), BATCH_LIMIT):
            batch = rows[start : start + BATCH_LIMIT]
            await self._table.submit_transaction(
                [("delete", {"PartitionKey": partition, "RowKey": row_key}) for row_key in batch]
            )
        if state.server_call_id:
            await self._table.delete_entity(incoming_partition(state.server_call_id), INCOMING_ROW)
        return len(rows)

    async def get_incoming_call(self, *, server_call_id: str) -> IncomingCallRecord | None:
        return await self._incoming_call(server_call_id)

    async def _incoming_call(self, server_call_id: str) -> IncomingCallRecord | None:
        try:
            entity = await self._table.get_entity(incoming_partition(server_call_id), INCOMING_ROW)
        except ResourceNotFoundError:
            return None
        return IncomingCallRecord.from_entity(entity)

    async def put_incoming_call(self, *, record: IncomingCallRecord) -> None:
        await self._table.upsert_entity(record.to_entity(), mode=UpdateMode.REPLACE)

    async def add_incoming_call(self, *, record: IncomingCallRecord) -> IncomingCallRecord | None:
        try:
            await self._table.create_entity(record.to_entity())
            return None
        except ResourceExistsError:
            pass
        if (earlier := await self._incoming_call(record.server_call_id)) is not None:
            return earlier
        # Purged between the insert and the read (a record past retention): nothing stands in the way any more.
        await self.put_incoming_call(record=record)
        return None

    async def purge_incoming_before(self, cutoff: datetime, *, limit: int = 100) -> int:
        rows = self._table.query_entities(
            "RowKey eq @incoming and Timestamp lt @cutoff",
            parameters={"incoming": INCOMING_ROW, "cutoff": cutoff},
            select=["PartitionKey"],
            results_per_page=limit,
        )
        keys = []
        async for row in rows:
            keys.append(row["PartitionKey"])
            if len(keys) >= limit:
                break
        for partition in keys:
            await self._table.delete_entity(partition, INCOMING_ROW)
        return len(keys)
