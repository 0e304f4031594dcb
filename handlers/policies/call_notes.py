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
from shared.logging import call_logger

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


async def note_subscription_status(event: Any, ctx: Context, key: str, label: str) -> None:
    """Note a media-streaming or transcription status event under key; a failure is logged with ACS's reason.

    event is a MediaStreamingEvent or TranscriptionEvent: both carry status, status_details and result.
    """
    log = call_logger(logger, event)
    failed = event.type.endswith("Failed")
    if failed:
        result = event.result
        log.warning(
            "%s failed: %s (%s/%s %s)", label, event.status_details, result.code, result.sub_code, result.message
        )
    else:
        log.info("%s: %s (%s)", label, event.status, event.status_details)

    def update(note: Note) -> Note:
        failure = f"{event.status_details}: {event.result.message}" if failed else None
        noted = {**note, "status": event.status, "details": event.status_details, "error": failure}
        return with_history(noted, [event.time, event.status_details])

    await write_note(ctx, event.call_connection_id, key, update, marker=event.id)
