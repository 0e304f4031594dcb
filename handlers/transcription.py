"""Transcription events: note Started, Updated (locale), Stopped and Failed on the call's state; a failure never
stops the flow. The transcript itself arrives at the WebSocket receiver (receiver/), not here."""

from __future__ import annotations

from shared.call_notes import note_subscription_status
from shared.context import Context
from shared.events import TranscriptionEvent
from shared.routing import Router

TRANSCRIPTION = "transcription"

router = Router()


@router.register("TranscriptionStarted")
@router.register("TranscriptionUpdated")
@router.register("TranscriptionStopped")
@router.register("TranscriptionFailed")
async def on_transcription(event: TranscriptionEvent, ctx: Context) -> None:
    """Note the transcription's status; log a failure with ACS's reason."""
    await note_subscription_status(event, ctx, TRANSCRIPTION, "Transcription")
