"""Media streaming and transcription REST operations, their events, and the listener that auto-starts them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from aiohttp import web

from ..errors import AcsError, invalid_state
from ..models import Backend, CallConnection, CallListener, Participant, ServerCall
from ..operations import CALL, ApiRequest, Operation, respond
from ..validation import check_url, optional
from .options import MEDIA_OPTIONS, TRANSCRIPTION_OPTIONS, require_locale
from .streams import MediaStream, Stream, StreamConnectError, StreamSocket, TranscriptionStream, mark_speaking

SUCCEEDED = (200, 0, "Action completed successfully.")
StreamT = TypeVar("StreamT", bound=Stream)


@dataclass(frozen=True)
class Feature(Generic[StreamT]):
    """What differs between media streaming and transcription: names, keys, failure codes (guesses, see README)."""

    title: str  # for error messages
    event_prefix: str  # MediaStreaming -> MediaStreamingStarted ...
    update_key: str  # data.mediaStreamingUpdate / data.transcriptionUpdate
    status_prefix: str  # mediaStreaming -> mediaStreamingStarted ...
    options_key: str
    stream_key: str
    subscription: str  # CallConnection attribute shown in GET call properties
    stream_type: type[StreamT]
    failure_subcode: int
    connect_failed_details: str  # the status detail an unreachable transport URL produces
    content_type: str | None = None

    def update(self, outcome: str, details: str) -> dict:
        update = {
            f"{self.status_prefix}Status": f"{self.status_prefix}{outcome}",
            f"{self.status_prefix}StatusDetails": details,
        }
        return {"contentType": self.content_type, **update} if self.content_type else update


MEDIA_STREAMING = Feature(
    title="Media streaming", event_prefix="MediaStreaming", update_key="mediaStreamingUpdate",
    status_prefix="mediaStreaming", options_key=MEDIA_OPTIONS, stream_key="media_stream",
    subscription="media_streaming", stream_type=MediaStream, failure_subcode=8603,
    connect_failed_details="initialWebSocketConnectionFailed", content_type="Audio",
)  # fmt: skip
TRANSCRIPTION = Feature(
    title="Transcription", event_prefix="Transcription", update_key="transcriptionUpdate",
    status_prefix="transcription", options_key=TRANSCRIPTION_OPTIONS, stream_key="transcription_stream",
    subscription="transcription", stream_type=TranscriptionStream, failure_subcode=8578,
    # The transcription status-details enum has no initialWebSocketConnectionFailed (contract §3.3).
    connect_failed_details="streamConnectionUnsuccessful",
)  # fmt: skip
FEATURES = (MEDIA_STREAMING, TRANSCRIPTION)
# Why a stream failed -> (status details, HTTP-like code, message); the subcode is the feature's failure_subcode.
FAILURES = {
    "url_missing": ("streamUrlMissing", 400, "Action failed, the streaming options name no transport URL."),
    "connect_failed": (None, 500, "Action failed, could not open a WebSocket to the transport URL."),
    "interrupted": ("streamConnectionInterrupted", 500, "Action failed, the WebSocket was closed by the app."),
}


@dataclass(frozen=True)
class Reply:
    """Where the events of one start/stop go: the request's operationContext and operationCallbackUri."""

    operation_context: str | None = None
    callback_uri: str | None = None

    @classmethod
    def of(cls, body: dict) -> Reply:
        uri = optional(body, "operationCallbackUri", str)
        return cls(optional(body, "operationContext", str), check_url(uri, "operationCallbackUri") if uri else None)


def emit(
    connection: CallConnection,
    feature: Feature,
    outcome: str,
    details: str,
    reply: Reply,
    result: tuple[int, int, str] = SUCCEEDED,
) -> None:
    connection.emit(
        f"{feature.event_prefix}{outcome}",
        data={feature.update_key: feature.update(outcome, details)},
        operation_context=reply.operation_context,
        callback_uri=reply.callback_uri,
        result=result,
    )


def set_state(connection: CallConnection, feature: Feature, state: str) -> None:
    getattr(connection, feature.subscription)["state"] = state


# --- lifecycle ----------------------------------------------------------------------------------------------------


def start(connection: CallConnection, feature: Feature, reply: Reply) -> None:
    launch(register(connection, feature), feature, reply)


def register(connection: CallConnection, feature: Feature[StreamT]) -> StreamT:
    """A new stream for the leg, once its options exist and no other stream of the feature runs."""
    options = connection.extensions.get(feature.options_key)
    if options is None:
        raise invalid_state(
            f"{feature.title} is not configured for this call: pass {feature.status_prefix}Options "
            "when creating, answering or connecting the call."
        )
    if feature.stream_key in connection.extensions:
        raise invalid_state(f"{feature.title} is already started.")
    stream = feature.stream_type(connection, options)
    connection.extensions[feature.stream_key] = stream
    return stream


def launch(stream: Stream, feature: Feature, reply: Reply) -> None:
    stream.task = stream.backend.spawn(run(stream, feature, reply))


async def run(stream: Stream, feature: Feature, reply: Reply) -> None:
    """Open the socket, announce the start, write until stopped, or fail the way ACS reports it."""
    connection = stream.connection
    url = stream.options.transport_url
    if url is None:
        fail(stream, feature, "url_missing", reply)
        return
    socket = StreamSocket(connection.backend.callbacks.session, url)
    try:
        await socket.open()
    except StreamConnectError as error:
        connection.call.timeline.add("emulator", f"{feature.title.lower()} WebSocket failed", url=url, error=str(error))
        fail(stream, feature, "connect_failed", reply)
        return
    try:
        stream.socket, stream.started = socket, connection.backend.clock.monotonic()
        set_state(connection, feature, "active")
        connection.call.timeline.add("emulator", f"{feature.title.lower()} WebSocket open", url=url)
        emit(connection, feature, "Started", "subscriptionStarted", reply)
        await socket.send(stream.greeting())
        await _serve(stream, socket)
        fail(stream, feature, "interrupted", reply)
    finally:
        await socket.close()


async def _serve(stream: Stream, socket: StreamSocket) -> None:
    def from_app(message: dict) -> None:
        kind = str(message.get("kind"))
        if not stream.from_app[kind]:
            stream.connection.call.timeline.add("emulator", f"app sent {kind} over the WebSocket")
        stream.from_app[kind] += 1

    reader = stream.backend.spawn(socket.receive(from_app))
    try:
        await stream.pump()
        await reader
    finally:
        reader.cancel()


def fail(stream: Stream, feature: Feature, why: str, reply: Reply) -> None:
    """End a stream that is still registered with its Failed event; a stream the app stopped just goes quietly."""
    connection = stream.connection
    if connection.extensions.get(feature.stream_key) is not stream:
        return
    del connection.extensions[feature.stream_key]
    set_state(connection, feature, "inactive")
    details, code, message = FAILURES[why]
    emit(
        connection,
        feature,
        "Failed",
        details or feature.connect_failed_details,
        reply,
        result=(code, feature.failure_subcode, message),
    )


def stop(connection: CallConnection, feature: Feature, reply: Reply | None) -> None:
    """Stop a running stream; with a reply (an app request) it announces Stopped, without (call ended) it doesn't."""
    stream = connection.extensions.pop(feature.stream_key, None)
    if stream is None:
        raise invalid_state(f"{feature.title} is not started.")
    if stream.task is not None:
        stream.task.cancel()
    set_state(connection, feature, "inactive")
    if reply is not None:
        emit(connection, feature, "Stopped", "subscriptionStopped", reply)


# --- handlers -----------------------------------------------------------------------------------------------------


def connected_leg(request: ApiRequest) -> CallConnection:
    connection = request.backend.connection(request.params["call_connection_id"])
    if connection.state != "connected":
        raise AcsError(400, 8501, "Action is not supported: the call is not established yet.")
    return connection


def _accepted(connection: CallConnection) -> web.Response:
    return respond(202, call_correlation_id=connection.call.correlation_id)


async def start_media_streaming(request: ApiRequest) -> web.Response:
    connection = connected_leg(request)
    start(connection, MEDIA_STREAMING, Reply.of(request.body))
    return _accepted(connection)


async def stop_media_streaming(request: ApiRequest) -> web.Response:
    connection = connected_leg(request)
    stop(connection, MEDIA_STREAMING, Reply.of(request.body))
    return _accepted(connection)


async def start_transcription(request: ApiRequest) -> web.Response:
    connection = connected_leg(request)
    reply = Reply.of(request.body)
    locale = require_locale(request.body, "locale") if request.body.get("locale") is not None else None
    stream = register(connection, TRANSCRIPTION)
    if locale:  # this start's locale replaces the one of transcriptionOptions
        stream.locale = connection.transcription["locale"] = locale
    launch(stream, TRANSCRIPTION, reply)
    return _accepted(connection)


async def stop_transcription(request: ApiRequest) -> web.Response:
    connection = connected_leg(request)
    stop(connection, TRANSCRIPTION, Reply.of(request.body))
    return _accepted(connection)


async def update_transcription(request: ApiRequest) -> web.Response:
    connection = connected_leg(request)
    reply = Reply.of(request.body)
    locale = require_locale(request.body, "locale")
    stream = connection.extensions.get(TRANSCRIPTION.stream_key)
    if stream is None:
        raise invalid_state("Transcription is not started.")
    stream.locale = connection.transcription["locale"] = locale
    emit(connection, TRANSCRIPTION, "Updated", "transcriptionLocaleUpdated", reply)
    return _accepted(connection)


class StreamingListener(CallListener):
    """Starts configured streams when a leg connects, feeds them speech and key presses, stops them with the leg."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def on_connection_connected(self, connection: CallConnection) -> None:
        for feature in FEATURES:
            options = connection.extensions.get(feature.options_key)
            if options is not None and options.start_on_connect and feature.stream_key not in connection.extensions:
                start(connection, feature, Reply())

    def on_speech(self, call: ServerCall, participant: Participant, text: str) -> None:
        raw_id = participant.identifier.raw_id
        mark_speaking(call, raw_id, text)
        for stream in self._streams(call, TRANSCRIPTION):
            stream.transcribe(raw_id, text)

    def on_tones(self, call: ServerCall, participant: Participant, tones: list[str]) -> None:
        for stream in self._streams(call, MEDIA_STREAMING):
            self.backend.spawn(stream.press(participant.identifier.raw_id, tones))

    def on_connection_closed(self, connection: CallConnection) -> None:
        for feature in FEATURES:
            if feature.stream_key in connection.extensions:
                stop(connection, feature, None)

    @staticmethod
    def _streams(call: ServerCall, feature: Feature) -> list:
        found = [c.extensions.get(feature.stream_key) for c in call.live_connections()]
        return [stream for stream in found if stream is not None and stream.active]


OPERATIONS = [
    Operation("CallMedia_StartMediaStreaming", "POST", CALL + r":startMediaStreaming", start_media_streaming),
    Operation("CallMedia_StopMediaStreaming", "POST", CALL + r":stopMediaStreaming", stop_media_streaming),
    Operation("CallMedia_StartTranscription", "POST", CALL + r":startTranscription", start_transcription),
    Operation("CallMedia_StopTranscription", "POST", CALL + r":stopTranscription", stop_transcription),
    Operation("CallMedia_UpdateTranscription", "POST", CALL + r":updateTranscription", update_transcription),
]
