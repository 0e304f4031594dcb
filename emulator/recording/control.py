"""Control API for recordings: each one's state and intervals, and the files the emulator keeps itself."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..errors import AcsError, not_found
from ..models import backend_of
from .operations import recordings
from .session import Recording, interval_models

routes = web.RouteTableDef()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _recording(request: web.Request) -> Recording:
    recording = recordings(backend_of(request)).get(request.match_info["recording_id"])
    if recording is None:
        raise not_found(f"Recording {request.match_info['recording_id']}")
    return recording


def view(recording: Recording) -> dict[str, Any]:
    """Everything a test or a developer wants to know about a recording, in one JSON object."""
    options = recording.options
    return {
        "recordingId": recording.recording_id,
        "state": recording.state,
        "recordingState": recording.wire_state,
        "serverCallId": recording.call.server_call_id,
        "callConnectionId": recording.owner.call_connection_id,
        "startTime": recording.start_time,
        "durationMs": round(recording.length_seconds() * 1000),
        "activeIntervals": interval_models(recording.active_intervals()),
        "pausedIntervals": interval_models(recording.paused_intervals()),
        "participants": list(recording.participants),
        "endReason": recording.end_reason,
        "options": {
            "recordingContentType": options.content_type,
            "recordingChannelType": options.channel_type,
            "recordingFormatType": options.format_type,
            "pauseOnStart": options.pause_on_start,
            "recordingStateCallbackUri": options.state_callback_uri,
            "recordingDestinationContainerUrl": options.container_url,
        },
        "file": _file_view(recording),
    }


def _file_view(recording: Recording) -> dict[str, Any] | None:
    file = recording.file
    if file is None:
        return None
    status = "failed" if file.error else ("ready" if file.content_location else "pending")
    return {
        "status": status,
        "documentId": file.document_id,
        "contentLocation": file.content_location,
        "metadataLocation": file.metadata_location,
        "deleteLocation": file.delete_location,
        "error": file.error,
    }


def _guarded(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def run(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except AcsError as error:
            return error.to_response()

    return run


@routes.get("/emulator/recordings")
@_guarded
async def list_recordings(request: web.Request) -> web.Response:
    """All recordings, optionally only those of `?serverCallId=` or `?callConnectionId=`."""
    server_call_id = request.query.get("serverCallId")
    connection_id = request.query.get("callConnectionId")
    found = [
        view(r)
        for r in recordings(backend_of(request)).values()
        if (not server_call_id or r.call.server_call_id == server_call_id)
        and (not connection_id or r.owner.call_connection_id == connection_id)
    ]
    return web.json_response({"recordings": found})


@routes.get("/emulator/recordings/{recording_id}")
@_guarded
async def get_recording(request: web.Request) -> web.Response:
    return web.json_response(view(_recording(request)))


@routes.delete("/emulator/recordings/{recording_id}")
@_guarded
async def delete_recording(request: web.Request) -> web.Response:
    """The deleteLocation of files the emulator keeps: drops the WAV and metadata, keeps the session's history."""
    recording = _recording(request)
    if recording.file is not None:
        recording.file.wav = None
        recording.file.metadata = None
    return web.Response(status=200)


@routes.get("/emulator/recordings/{recording_id}/content")
@_guarded
async def get_content(request: web.Request) -> web.Response:
    file = _recording(request).file
    if file is None or file.wav is None:
        raise not_found("Recording content (not ready yet, or deleted)")
    return web.Response(body=file.wav, content_type="audio/wav")


@routes.get("/emulator/recordings/{recording_id}/metadata")
@_guarded
async def get_metadata(request: web.Request) -> web.Response:
    file = _recording(request).file
    if file is None or file.metadata is None:
        raise not_found("Recording metadata (not ready yet, or deleted)")
    return web.json_response(file.metadata)
