"""Recording REST operations (start, get, pause, resume, stop) and what follows a stop: the file and its event."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from aiohttp import web

from ..errors import AcsError, invalid_field, missing_field, not_found
from ..events import recording_source
from ..identifiers import parse_identifier
from ..models import Backend, CallConnection, CallListener, ServerCall
from ..operations import RECORDING, ApiRequest, Operation, respond
from ..validation import check_url, optional, optional_int, require, require_enum
from ..versions import status_for
from .session import (
    CALL_ENDED,
    STOPPED_BY_APP,
    Recording,
    RecordingFile,
    RecordingOptions,
    new_recording_id,
)
from .storage import StorageError, acs_metadata, blob_folder, iso_z, render_wav, upload

logger = logging.getLogger(__name__)

RECORDING_KIND = "azureCommunicationServices"
STORE = "recordings"
# The service takes minutes to publish a file; the emulator takes this long in emulated seconds.
FILE_READY_SECONDS = 1.0
# Default format per (content, channel) and the only combinations ACS documents (call-recording concepts:
# mixed audio is wav or mp3, unmixed audio is wav, audioVideo is mixed mp4). Others are rejected with 8557.
DEFAULT_FORMAT = {("audioVideo", "mixed"): "mp4", ("audio", "mixed"): "mp3", ("audio", "unmixed"): "wav"}
SUPPORTED = {
    ("audioVideo", "mixed", "mp4"),
    ("audio", "mixed", "mp3"),
    ("audio", "mixed", "wav"),
    ("audio", "unmixed", "wav"),
}
LOCATORS = {  # callLocator.kind -> (its id field, Backend.find_call keyword)
    "serverCallLocator": ("serverCallId", "server_call_id"),
    "groupCallLocator": ("groupCallId", "group_call_id"),
    "roomCallLocator": ("roomId", "room_id"),
}
MAX_UNMIXED_CHANNELS = 5  # channelAffinity.channel is 0..4


def recordings(backend: Backend) -> dict[str, Recording]:
    return backend.store(STORE)


def live_recording(backend: Backend, recording_id: str) -> Recording:
    """A recording that has not stopped, or the 404/8522 the service answers for unknown or finished ones."""
    recording = recordings(backend).get(recording_id)
    if recording is None or recording.is_stopped:
        raise not_found(f"Recording {recording_id}")
    return recording


# --- request parsing ----------------------------------------------------------------------------------------------


def locate_call(request: ApiRequest) -> CallConnection:
    """The connected app leg named by callConnectionId, or the first one of the call a callLocator names."""
    body = request.body
    connection_id = optional(body, "callConnectionId", str)
    locator = optional(body, "callLocator", dict)
    if connection_id and locator:
        raise invalid_field("callLocator", "give either callConnectionId or callLocator, not both")
    if connection_id:
        connection = request.backend.connection(connection_id)
    elif locator:
        connection = _connection_of(_call_by_locator(request.backend, locator))
    else:
        raise missing_field("callLocator")
    if connection.state != "connected":
        raise AcsError(400, 8501, "Action is not supported: the call is not established yet.")
    return connection


def _call_by_locator(backend: Backend, locator: dict) -> ServerCall:
    kind = require_enum(locator, "callLocator.kind", tuple(LOCATORS))
    field, keyword = LOCATORS[kind]
    call_id = require(locator, f"callLocator.{field}", str)
    call = backend.find_call(**{keyword: call_id})
    if call is None:
        raise not_found(f"Call {call_id}")
    return call


def _connection_of(call: ServerCall) -> CallConnection:
    connected = [c for c in call.live_connections() if c.state == "connected"]
    if not connected:
        raise AcsError(400, 8501, "Action is not supported: the call has no connected Call Automation leg.")
    return connected[0]


def parse_options(body: dict) -> RecordingOptions:
    content = require_enum(body, "recordingContentType", ("audio", "audioVideo"), "audioVideo")
    channel = require_enum(body, "recordingChannelType", ("mixed", "unmixed"), "mixed")
    format_ = require_enum(body, "recordingFormatType", ("wav", "mp3", "mp4"), DEFAULT_FORMAT.get((content, channel)))
    if (content, channel, format_) not in SUPPORTED:
        raise AcsError(
            400,
            8557,
            f"Recording format {format_} is not supported for {channel} {content} recordings "
            "(mixed audio: wav or mp3; unmixed audio: wav; audioVideo: mixed mp4).",
            "recordingFormatType",
        )
    callback = optional(body, "recordingStateCallbackUri", str)
    ordering = optional(body, "audioChannelParticipantOrdering", list, [])
    return RecordingOptions(
        content_type=content, channel_type=channel, format_type=format_,
        state_callback_uri=check_url(callback, "recordingStateCallbackUri") if callback else None,
        pause_on_start=optional(body, "pauseOnStart", bool, False),
        channel_affinity=_channel_affinity(optional(body, "channelAffinity", list, [])),
        participant_ordering=tuple(parse_identifier(p, f"audioChannelParticipantOrdering[{i}]").raw_id
                                   for i, p in enumerate(ordering)),
        container_url=_container_url(optional(body, "externalStorage", dict)),
    )  # fmt: skip


def _channel_affinity(entries: list) -> tuple[tuple[int, str], ...]:
    pinned: list[tuple[int, str]] = []
    for index, entry in enumerate(entries):
        path = f"channelAffinity[{index}]"
        if not isinstance(entry, dict):
            raise invalid_field(path, "must be an object")
        channel = optional_int(entry, f"{path}.channel", None, 0, MAX_UNMIXED_CHANNELS - 1)
        # The live service accepts a participant who is not (yet) in the call: the channel waits for them.
        participant = parse_identifier(entry.get("participant"), f"{path}.participant").raw_id
        channel = len(pinned) if channel is None else channel
        if any(c == channel or p == participant for c, p in pinned):
            raise invalid_field(path, "each channel and each participant may appear only once")
        pinned.append((channel, participant))
    return tuple(pinned)


def _container_url(storage: dict | None) -> str | None:
    if storage is None:
        return None
    kind = require_enum(
        storage, "externalStorage.recordingStorageKind", ("azureCommunicationServices", "azureBlobStorage")
    )
    if kind == "azureCommunicationServices":
        return None
    url = require(storage, "externalStorage.recordingDestinationContainerUrl", str)
    return check_url(url, "externalStorage.recordingDestinationContainerUrl").rstrip("/")


# --- handlers -----------------------------------------------------------------------------------------------------


def state_response(recording: Recording, wire_state: str | None = None) -> dict:
    return {
        "recordingId": recording.recording_id,
        "recordingState": wire_state or recording.wire_state,
        "recordingKind": RECORDING_KIND,
    }


async def start_recording(request: ApiRequest) -> web.Response:
    connection = locate_call(request)
    call = connection.call
    request.attach_call(call)
    options = parse_options(request.body)
    if any(r.call is call and not r.is_stopped for r in recordings(request.backend).values()):
        raise AcsError(400, 8559, "A recording is already in progress for this call.")
    recording = Recording(
        new_recording_id(connection.call_connection_id), call, connection, options, request.backend.clock
    )
    recordings(request.backend)[recording.recording_id] = recording
    call.timeline.add("emulator", "recording started", recordingId=recording.recording_id, state=recording.state)
    emit_state(recording, connection)
    # Real ACS answers "inactive" and reports the start in RecordingStateChanged (contract §1.6, §7.4); 200 or 202
    # depending on the api-version (emulator/versions.py).
    status = status_for(request.operation, request.api_version, 202)
    return respond(status, state_response(recording, "inactive"), call_correlation_id=call.correlation_id)


async def get_recording(request: ApiRequest) -> web.Response:
    recording = live_recording(request.backend, request.params["recording_id"])
    request.attach_call(recording.call)
    return respond(200, state_response(recording), call_correlation_id=recording.call.correlation_id)


async def pause_recording(request: ApiRequest) -> web.Response:
    return _change(request, "pause")


async def resume_recording(request: ApiRequest) -> web.Response:
    return _change(request, "resume")


async def stop_recording(request: ApiRequest) -> web.Response:
    recording = live_recording(request.backend, request.params["recording_id"])
    request.attach_call(recording.call)
    stop(recording, STOPPED_BY_APP)
    return respond(204, call_correlation_id=recording.call.correlation_id)


def _change(request: ApiRequest, action: str) -> web.Response:
    recording = live_recording(request.backend, request.params["recording_id"])
    request.attach_call(recording.call)
    if recording.apply(action):
        recording.call.timeline.add("emulator", f"recording {recording.state}", recordingId=recording.recording_id)
        emit_state(recording)
    return respond(202, call_correlation_id=recording.call.correlation_id)


# --- lifecycle ----------------------------------------------------------------------------------------------------


def event_connection(recording: Recording) -> CallConnection | None:
    """The leg whose callback hears about the recording: the one that started it while it lasts, else any other."""
    if recording.owner.state != "disconnected":
        return recording.owner
    return next(iter(recording.call.live_connections()), None)


def emit_state(recording: Recording, via: CallConnection | None = None) -> None:
    connection = via or event_connection(recording)
    if connection is None:
        return
    source = recording_source(recording.call.server_call_id, recording.recording_id)
    data = {
        "recordingId": recording.recording_id,
        "state": recording.wire_state,
        "startDateTime": recording.start_time,
        "recordingKind": RECORDING_KIND,
        "eventSource": source,
    }
    connection.emit(
        "RecordingStateChanged",
        data=data,
        callback_uri=recording.options.state_callback_uri,
        source=source,
        include_operation_context=False,
    )


def stop(recording: Recording, reason: str) -> None:
    """Stop the session; the file follows FILE_READY_SECONDS later, announced on Event Grid.

    No RecordingStateChanged follows a stop: the live service's captures show none (the last one a stopped recording
    sent is its `active`), whether the app stopped it or the call ended.
    """
    recording.note_participants()
    recording.apply("stop")
    recording.end_reason = reason
    recording.file = RecordingFile()
    recording.call.timeline.add("emulator", "recording stopped", recordingId=recording.recording_id, reason=reason)
    recording.call.backend.later(FILE_READY_SECONDS, lambda: publish_file(recording))


async def publish_file(recording: Recording) -> None:
    backend = recording.call.backend
    file = recording.file
    assert file is not None, "publish_file runs after stop()"
    wav = await asyncio.to_thread(render_wav, recording)
    file.metadata = acs_metadata(recording, backend.config.resource_id, file.document_id)
    # Kept even when written to the app's container, so /emulator/recordings/{id}/content (`python -m emulator
    # recording ID`) downloads any recording locally without the container's credentials.
    file.wav = wav
    if recording.options.container_url:
        try:
            file.content_location, file.metadata_location = await upload(
                recording.options.container_url,
                backend.config.recording_storage_key,
                wav,
                file.metadata,
                blob_folder(recording),
            )
        except StorageError as error:
            # Real BYOS failures are silent to the app too: no file event. The control view shows the reason.
            file.error = str(error)
            recording.call.timeline.add(
                "emulator", "recording upload failed", recordingId=recording.recording_id, error=file.error
            )
            logger.warning("recording %s could not be stored: %s", recording.recording_id, file.error)
            return
        file.delete_location = file.content_location
    else:
        # The SDK's download_recording cannot fetch these: it only accepts *.asm.skype.com hosts (contract §0.2).
        base = f"{backend.config.base_url}/emulator/recordings/{recording.recording_id}"
        file.content_location = f"{base}/content"
        file.metadata_location = f"{base}/metadata"
        file.delete_location = base
    backend.publish_event_grid(
        "RecordingFileStatusUpdated", file_event_subject(recording), file_event_data(recording), recording.call
    )


def file_event_subject(recording: Recording) -> str:
    call = recording.call
    return (
        f"/recording/call/{call.correlation_id}/serverCallId/{call.server_call_id}/recordingId/{recording.recording_id}"
    )


def file_event_data(recording: Recording) -> dict:
    """RecordingFileStatusUpdated data (contract §4.3) with the content/channel/format fields of the CloudEvents
    example, capitalised as there."""
    file = recording.file
    assert file is not None
    chunk = {
        "documentId": file.document_id,
        "index": 0,
        "endReason": "SessionEnded",
        "contentLocation": file.content_location,
        "metadataLocation": file.metadata_location,
        "deleteLocation": file.delete_location,
    }
    options = recording.options
    return {
        "recordingStorageInfo": {"recordingChunks": [chunk]},
        "recordingStartTime": iso_z(datetime.fromisoformat(recording.start_time)),
        "recordingDurationMs": round(recording.length_seconds() * 1000),
        "recordingContentType": _capitalised(options.content_type),
        "recordingChannelType": _capitalised(options.channel_type),
        "recordingFormatType": _capitalised(options.format_type),
        "sessionEndReason": recording.end_reason,
    }


def _capitalised(value: str) -> str:
    return value[:1].upper() + value[1:]


class RecordingListener(CallListener):
    """Stops a call's recordings when its last app leg goes: the call has ended for the service."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def on_connection_closed(self, connection: CallConnection) -> None:
        call = connection.call
        if call.live_connections() and not call.ended:
            return
        for recording in list(recordings(self.backend).values()):
            if recording.call is call and not recording.is_stopped:
                stop(recording, CALL_ENDED)


OPERATIONS = [
    Operation("CallRecording_StartRecording", "POST", r"/calling/recordings", start_recording, repeatable=True),
    Operation("CallRecording_GetRecordingProperties", "GET", RECORDING, get_recording),
    Operation("CallRecording_StopRecording", "DELETE", RECORDING, stop_recording),
    Operation("CallRecording_PauseRecording", "POST", RECORDING + r":pause", pause_recording),
    Operation("CallRecording_ResumeRecording", "POST", RECORDING + r":resume", resume_recording),
]
