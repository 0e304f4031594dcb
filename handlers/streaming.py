"""Media streaming events: note Started, Stopped and Failed on the call's state; a failure never stops the flow."""

from __future__ import annotations

import logging

from shared.call_notes import Note, with_history, write_note
from shared.context import Context
from shared.events import MediaStreamingEvent
from shared.logging import call_logger
from shared.routing import Router

logger = logging.getLogger(__name__)

MEDIA_STREAMING = "media_streaming"

router = Router()


@router.register("MediaStreamingStarted")
@router.register("MediaStreamingStopped")
@router.register("MediaStreamingFailed")
async def on_media_streaming(event: MediaStreamingEvent, ctx: Context) -> None:
    """Note the stream's status; log a failure with ACS's reason (the receiver unreachable, the socket dropped...)."""
    log = call_logger(logger, event)
    if event.type == "MediaStreamingFailed":
        log.warning(
            "Media streaming failed: %s (%s/%s %s)",
            event.status_details,
            event.result.code,
            event.result.sub_code,
            event.result.message,
        )
    else:
        log.info("Media streaming: %s (%s)", event.status, event.status_details)

    def update(note: Note) -> Note:
        failure = f"{event.status_details}: {event.result.message}" if event.type == "MediaStreamingFailed" else None
        noted = {**note, "status": event.status, "details": event.status_details, "error": failure}
        return with_history(noted, [event.time, event.status_details])

    await write_note(ctx, event.call_connection_id, MEDIA_STREAMING, update, marker=event.id)
