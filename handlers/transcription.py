"""Transcription events: note Started, Updated (locale), Stopped and Failed on the call's state; a failure never
stops the flow. The transcript itself arrives at the WebSocket receiver (receiver/), not here."""

from __future__ import annotations

import logging

from shared.call_notes import Note, with_history, write_note
from shared.context import Context
from shared.events import TranscriptionEvent
from shared.logging import call_logger
from shared.routing import Router

logger = logging.getLogger(__name__)

TRANSCRIPTION = "transcription"

router = Router()


@router.register("TranscriptionStarted")
@router.register("TranscriptionUpdated")
@router.register("TranscriptionStopped")
@router.register("TranscriptionFailed")
async def on_transcription(event: TranscriptionEvent, ctx: Context) -> None:
    """Note the transcription's status; log a failure with ACS's reason."""
    log = call_logger(logger, event)
    if event.type == "TranscriptionFailed":
        log.warning(
            "Transcription failed: %s (%s/%s %s)",
            event.status_details,
            event.result.code,
            event.result.sub_code,
            event.result.message,
        )
    else:
        log.info("Transcription: %s (%s)", event.status, event.status_details)

    def update(note: Note) -> Note:
        failure = f"{event.status_details}: {event.result.message}" if event.type == "TranscriptionFailed" else None
        noted = {**note, "status": event.status, "details": event.status_details, "error": failure}
        return with_history(noted, [event.time, event.status_details])

    await write_note(ctx, event.call_connection_id, TRANSCRIPTION, update, marker=event.id)
