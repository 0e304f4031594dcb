"""A per-instance cache of call states in front of the state store, so an event usually costs one write, no read.

The cache is only ever a guess that the store confirms: every write stays ETag-conditional, so a cached state
another instance has moved on from makes the write fail (StateConflict); the entry is then dropped and the engine
re-reads the store and decides again. A marker in a cached state is proof enough (an event whose marker was ever
written was handled, whether or not the row has dropped it since), but what the cache cannot prove by writing is a
decision to act on nothing, so the engine confirms those against the stored state (Loaded.cached). Only events'
loads are served from it; every other load reads the store (and refreshes the cache).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from shared.errors import StateConflict
from shared.state import CallState, IncomingCallRecord, Loaded, StateStore

# Calls remembered per instance (least recently used first out): about 2 KiB each.
CACHED_CALLS = 10_000


class CachedStateStore:
    """A StateStore that remembers the last state it read or wrote per call, and serves events' loads from it."""

    def __init__(self, store: StateStore, capacity: int = CACHED_CALLS) -> None:
        self.store = store
        self.capacity = capacity
        self._states: OrderedDict[str, CallState] = OrderedDict()

    def _remember(self, state: CallState) -> None:
        self._states[state.call_connection_id] = state
        self._states.move_to_end(state.call_connection_id)
        while len(self._states) > self.capacity:
            self._states.popitem(last=False)

    def forget(self, call_connection_id: str) -> None:
        self._states.pop(call_connection_id, None)

    async def load(self, call_connection_id: str, *, for_event: bool = False) -> Loaded:
        cached = self._states.get(call_connection_id) if for_event else None
        if cached is not None:
            self._states.move_to_end(call_connection_id)
            return Loaded(cached, cached=True)
        loaded = await self.store.load(call_connection_id, for_event=for_event)
        if loaded.state is None:
            self.forget(call_connection_id)
        else:
            self._remember(loaded.state)
        return loaded

    async def commit(self, state: CallState, *, marker: str | None = None) -> CallState:
        try:
            saved = await self.store.commit(state, marker=marker)
        except StateConflict:
            self.forget(state.call_connection_id)
            raise
        self._remember(saved)
        return saved

    async def overdue(self, now: datetime, *, limit: int = 100) -> list[CallState]:
        return await self.store.overdue(now, limit=limit)

    async def ended_before(self, cutoff: datetime, *, limit: int = 100) -> list[CallState]:
        return await self.store.ended_before(cutoff, limit=limit)

    async def purge(self, state: CallState) -> int:
        self.forget(state.call_connection_id)
        return await self.store.purge(state)

    async def get_incoming_call(self, *, server_call_id: str) -> IncomingCallRecord | None:
        return await self.store.get_incoming_call(server_call_id=server_call_id)

    async def put_incoming_call(self, *, record: IncomingCallRecord) -> None:
        await self.store.put_incoming_call(record=record)

    async def add_incoming_call(self, *, record: IncomingCallRecord) -> IncomingCallRecord | None:
        return await self.store.add_incoming_call(record=record)

    async def purge_incoming_before(self, cutoff: datetime, *, limit: int = 100) -> int:
        return await self.store.purge_incoming_before(cutoff, limit=limit)
