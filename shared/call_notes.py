"""Notes on a call's state kept beside its flow (recording, streaming, transcription): once per event, step and
outbox untouched.

Flows move with shared.flow.advance. The events of a recording or a stream say nothing about the flow's step, so
they only update one key of the call's data; they must neither consume the flow's event marker nor replace the
outbox of a step that is being carried out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from shared.context import Context
from shared.errors import StateConflict

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
Note = dict[str, Any]
Update = Callable[[Note], Note]


def note_of(data: Mapping[str, Any], key: str) -> Note:
    """The note under key, or an empty one."""
    return dict(data.get(key) or {})


async def write_note(ctx: Context, call_connection_id: str, key: str, update: Update, *, marker: str | None) -> bool:
    """Replace data[key] with update(data[key]) under the state's ETag, re-reading on conflict.

    marker is the id of the event that caused it: its marker row is written in the same transaction, so a
    redelivery is a no-op. None (the HTTP API) writes no marker. False when the call is unknown or the event
    was already noted.
    """
    for _ in range(MAX_ATTEMPTS):
        state, seen = await ctx.state.load(call_connection_id=call_connection_id, event_id=marker or "")
        if state is None or (marker is not None and seen):
            return False
        noted = replace(state, data={**state.data, key: update(note_of(state.data, key))})
        try:
            await ctx.state.save(state=noted, event_id=marker)
        except StateConflict:
            logger.info("Note %s of call %s lost a concurrent update; re-reading", key, call_connection_id)
            continue
        return True
    raise StateConflict(f"call {call_connection_id}: could not note {key}")


def with_history(note: Note, entry: list[Any], *, limit: int = 20) -> Note:
    """note with entry appended to its history, keeping the last `limit` entries (state rows stay small)."""
    return {**note, "history": [*note.get("history", []), entry][-limit:]}
