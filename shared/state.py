"""Per-call state with optimistic concurrency, an outbox of pending actions and exactly-once event markers.

Layout in one table: the call's state is the row (PartitionKey=callConnectionId, RowKey="state"); every
processed event leaves a marker row (RowKey="event:<id>") written in the same transaction as the state
change, so a redelivered event is recognised atomically. IncomingCall bookkeeping lives in its own
partition, keyed by the serverCallId, because the call connection id only exists once the call is answered.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.actions import Action, action_from_dict
from shared.errors import StateConflict
from shared.storage_errors import StorageFailure, reraise_unless

STATE_ROW = "state"
INCOMING_ROW = "incoming"
# Every answered call starts at ANSWERING (until CallConnected) and finishes at ENDED.
ANSWERING = "answering"
ENDED = "ended"


# Characters table keys may hold without escaping; anything else is hashed into a stable key.
_SAFE_KEY = re.compile(r"[A-Za-z0-9._:-]{1,200}")


def table_key(value: str) -> str:
    """value itself when it is a safe table key, else a stable hash of it."""
    return value if _SAFE_KEY.fullmatch(value) else _hashed(value)


def _hashed(value: str) -> str:
    # Parsers refuse lone surrogates; should one get here, it is escaped instead of failing uuid5's UTF-8 encoding.
    return uuid.uuid5(uuid.NAMESPACE_URL, value.encode("utf-8", "backslashreplace").decode("utf-8")).hex


def marker_row(event_id: str) -> str:
    return f"event:{table_key(event_id)}"


def incoming_partition(server_call_id: str) -> str:
    # serverCallId is base64 and may contain "/", which table keys forbid.
    return f"incoming-{_hashed(server_call_id)}"


@dataclass(frozen=True, kw_only=True)
class CallState:
    """Where one call is in its flow; `pending` is the outbox of actions claimed by `pending_event_id`."""

    call_connection_id: str
    flow: str
    step: str
    retries: int = 0
    data: Mapping[str, Any] = field(default_factory=dict)
    pending: tuple[Action, ...] = ()
    pending_event_id: str = ""
    pending_since: str = ""
    etag: str | None = None

    @property
    def ended(self) -> bool:
        return self.step == ENDED

    def to_entity(self) -> dict[str, Any]:
        return {
            "PartitionKey": table_key(self.call_connection_id),
            "RowKey": STATE_ROW,
            "call_connection_id": self.call_connection_id,
            "flow": self.flow,
            "step": self.step,
            "retries": self.retries,
            "data": json.dumps(dict(self.data)),
            "pending": json.dumps([action.to_dict() for action in self.pending]),
            "pending_event_id": self.pending_event_id,
            "pending_since": self.pending_since,
        }

    @classmethod
    def from_entity(cls, entity: Mapping[str, Any], etag: str | None) -> CallState:
        return cls(
            call_connection_id=entity["call_connection_id"],
            flow=entity["flow"],
            step=entity["step"],
            retries=int(entity.get("retries", 0)),
            data=json.loads(entity.get("data") or "{}"),
            pending=tuple(action_from_dict(item) for item in json.loads(entity.get("pending") or "[]")),
            pending_event_id=entity.get("pending_event_id", ""),
            pending_since=entity.get("pending_since", ""),
            etag=etag,
        )


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


class StateStore(Protocol):
    """Per-call state storage; every write is conditional so concurrent instances cannot lose updates."""

    async def load(self, *, call_connection_id: str, event_id: str) -> tuple[CallState | None, bool]:
        """The call's state (or None) and whether event_id was already processed for this call."""

    async def create(self, *, state: CallState, event_id: str | None = None) -> CallState | None:
        """Insert a new call's state, with event_id's marker in the same transaction when given.

        Returns the created state with its etag, or None if the call already has state (nothing is written).
        """

    async def save(self, *, state: CallState, event_id: str | None = None) -> CallState:
        """Replace the state if its etag still matches, adding event_id's marker in the same transaction.

        Returns the saved state with its new etag. Raises StateConflict when the state changed since it was
        read or the event was already recorded: re-load and decide again.
        """

    async def get_incoming_call(self, *, server_call_id: str) -> IncomingCallRecord | None: ...

    async def put_incoming_call(self, *, record: IncomingCallRecord) -> None: ...


def utc_now_http_date() -> str:
    """Now as an IMF-fixdate (RFC 9110), the format of Repeatability-First-Sent."""
    return datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


class InMemoryStateStore:
    """A StateStore with the same semantics as TableStateStore, for unit tests."""

    def __init__(self) -> None:
        self.states: dict[str, CallState] = {}
        self.markers: set[tuple[str, str]] = set()
        self.incoming: dict[str, IncomingCallRecord] = {}
        self._versions = 0
        self._lock = asyncio.Lock()

    def _next_etag(self) -> str:
        self._versions += 1
        return f'W/"{self._versions}"'

    async def load(self, *, call_connection_id: str, event_id: str) -> tuple[CallState | None, bool]:
        return self.states.get(call_connection_id), (call_connection_id, event_id) in self.markers

    async def create(self, *, state: CallState, event_id: str | None = None) -> CallState | None:
        async with self._lock:
            if state.call_connection_id in self.states:
                return None
            created = replace(state, etag=self._next_etag())
            self.states[state.call_connection_id] = created
            if event_id is not None:
                self.markers.add((state.call_connection_id, event_id))
            return created

    async def save(self, *, state: CallState, event_id: str | None = None) -> CallState:
        async with self._lock:
            current = self.states.get(state.call_connection_id)
            if current is None or current.etag != state.etag:
                raise StateConflict(f"state of call {state.call_connection_id} changed since it was read")
            if event_id is not None and (state.call_connection_id, event_id) in self.markers:
                raise StateConflict(f"event {event_id} was already processed")
            saved = replace(state, etag=self._next_etag())
            self.states[state.call_connection_id] = saved
            if event_id is not None:
                self.markers.add((state.call_connection_id, event_id))
            return saved

    async def get_incoming_call(self, *, server_call_id: str) -> IncomingCallRecord | None:
        return self.incoming.get(server_call_id)

    async def put_incoming_call(self, *, record: IncomingCallRecord) -> None:
        self.incoming[record.server_call_id] = record


class TableStateStore:
    """A StateStore on one Azure Table (azure.data.tables.aio TableClient)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    async def load(self, *, call_connection_id: str, event_id: str) -> tuple[CallState | None, bool]:
        # One round trip for both rows: the state and this event's marker. The SDK substitutes @parameters
        # only in space-separated words, hence the spaces inside the parentheses.
        rows = self._table.query_entities(
            "PartitionKey eq @call and ( RowKey eq @state or RowKey eq @marker )",
            parameters={"call": table_key(call_connection_id), "state": STATE_ROW, "marker": marker_row(event_id)},
        )
        state, seen = None, False
        async for row in rows:
            if row["RowKey"] == STATE_ROW:
                state = CallState.from_entity(row, row.metadata["etag"])
            else:
                seen = True
        return state, seen

    async def create(self, *, state: CallState, event_id: str | None = None) -> CallState | None:
        try:
            if event_id is None:
                metadata = await self._table.create_entity(state.to_entity())
                return replace(state, etag=metadata["etag"])
            results = await self._table.submit_transaction(
                [("create", state.to_entity()), ("create", self._marker(state.call_connection_id, event_id))]
            )
        except HttpResponseError as exc:
            reraise_unless(exc, StorageFailure.CONFLICT)
            return None
        return replace(state, etag=results[0]["etag"])

    async def save(self, *, state: CallState, event_id: str | None = None) -> CallState:
        conditions = {"mode": UpdateMode.REPLACE, "etag": state.etag, "match_condition": MatchConditions.IfNotModified}
        try:
            if event_id is None:
                # One entity needs no entity-group transaction, whose multipart body costs twice the CPU.
                metadata = await self._table.update_entity(state.to_entity(), **conditions)
                return replace(state, etag=metadata["etag"])
            marker = self._marker(state.call_connection_id, event_id)
            results = await self._table.submit_transaction(
                [("update", state.to_entity(), conditions), ("create", marker)]
            )
        except HttpResponseError as exc:
            reraise_unless(exc, StorageFailure.CONFLICT, StorageFailure.MISSING)
            raise StateConflict(
                f"state of call {state.call_connection_id} changed or event {event_id} was already processed"
            ) from exc
        return replace(state, etag=results[0]["etag"])

    async def get_incoming_call(self, *, server_call_id: str) -> IncomingCallRecord | None:
        try:
            entity = await self._table.get_entity(incoming_partition(server_call_id), INCOMING_ROW)
        except ResourceNotFoundError:
            return None
        return IncomingCallRecord.from_entity(entity)

    async def put_incoming_call(self, *, record: IncomingCallRecord) -> None:
        await self._table.upsert_entity(record.to_entity(), mode=UpdateMode.REPLACE)

    @staticmethod
    def _marker(call_connection_id: str, event_id: str) -> dict[str, Any]:
        return {"PartitionKey": table_key(call_connection_id), "RowKey": marker_row(event_id)}
