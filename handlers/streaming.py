"""Media streaming events: note Started, Stopped and Failed on the call's state; a failure never stops the flow."""

from __future__ import annotations

from shared.call_notes import note_subscription_status
from shared.context import Context
from shared.events import MediaStreamingEvent
from shared.routing import Router

MEDIA_STREAMING = "media_streaming"

router = Router()


@router.register("MediaStreamingStarted")
@router.register("MediaStreamingStopped")
@router.register("MediaStreamingFailed")
async def on_media_streaming(event: MediaStreamingEvent, ctx: Context) -> None:
    """Note the stream's status; log a failure with ACS's reason (the receiver unreachable, the socket dropped...)."""
    await note_subscription_status(event, ctx, MEDIA_STREAMING, "Media streaming")
