"""RecordingFileStatusUpdated: index each finished recording under its call, however often Event Grid delivers it."""

from __future__ import annotations

import logging

from shared.context import Context
from shared.logging import short_id
from shared.recordings import IndexedRecording, RecordingFileStatus

logger = logging.getLogger(__name__)


async def on_recording_file_status(event: RecordingFileStatus, ctx: Context) -> None:
    """Write the recording's index row: its call, blob locations, duration and end reason (an idempotent upsert)."""
    owner = await ctx.recordings.owner(event.recording_id)
    if owner is None:
        logger.warning(
            "Recording %s of server call %s was not started by this app; indexed without a call",
            short_id(event.recording_id),
            short_id(event.server_call_id),
        )
    recording = IndexedRecording.of(event, owner.call_connection_id if owner else "")
    await ctx.recordings.put(recording)
    logger.info(
        "Indexed recording %s of call %s: %d ms, %d chunk(s), ended: %s",
        short_id(event.recording_id),
        recording.call_connection_id,
        event.duration_ms,
        len(event.chunks),
        event.session_end_reason,
    )
