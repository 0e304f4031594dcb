"""Media streaming and transcription status events: noted on the call's data (status, details, history); a
failure is logged with ACS's reason and never stops the flow. Transcripts themselves go to receiver/."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from shared.engine import Next, Policy, Transition, Turn
from shared.events import MediaStreamingEvent, TranscriptionEvent, event_types_of
from shared.logging import call_logger

logger = logging.getLogger(__name__)

MEDIA_STREAMING = "media_streaming"
TRANSCRIPTION = "transcription"
HISTORY_LIMIT = 20
Note = dict[str, Any]


def note_of(data: Mapping[str, Any], key: str) -> Note:
    """The note under key, or an empty one."""
    return dict(data.get(key) or {})


def with_history(note: Note, entry: list[Any]) -> Note:
    """note with entry appended to its history, keeping the last HISTORY_LIMIT entries (state rows stay small)."""
    return {**note, "history": [*note.get("history", []), entry][-HISTORY_LIMIT:]}


async def note_subscriptions(turn: Turn, inner: Next) -> Transition | None:
    """Note MediaStreaming* and Transcription* status events under media_streaming / transcription."""
    transition = await inner(turn)
    event = turn.event
    if isinstance(event, MediaStreamingEvent):
        key, label = MEDIA_STREAMING, "Media streaming"
    elif isinstance(event, TranscriptionEvent):
        key, label = TRANSCRIPTION, "Transcription"
    else:
        return transition
    log = call_logger(logger, event)
    failed = event.type.endswith("Failed")
    failure = None
    if failed:
        result = event.result
        failure = f"{event.status_details}: {result.message}"
        log.warning(
            "%s failed: %s (%s/%s %s)", label, event.status_details, result.code, result.sub_code, result.message
        )
    else:
        log.info("%s: %s (%s)", label, event.status, event.status_details)
    note = {**note_of(turn.state.data, key), "status": event.status, "details": event.status_details, "error": failure}
    return (transition or turn.stay()).with_data(**{key: with_history(note, [event.time, event.status_details])})


POLICY = Policy(note_subscriptions, event_types=event_types_of(MediaStreamingEvent, TranscriptionEvent))
