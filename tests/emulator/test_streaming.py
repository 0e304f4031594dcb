"""Media streaming with the real SDK: options on create, start/stop, the frames on the app's WebSocket, failures."""

import base64

import pytest
from azure.communication.callautomation import MediaStreamingOptions
from azure.communication.callautomation.aio import CallAutomationClient as AsyncCallAutomationClient
from azure.core.exceptions import HttpResponseError

from emulator.control_client import EmulatorControl
from emulator.streaming.messages import FRAME_SECONDS
from tests.emulator.conftest import MediaCall
from tests.emulator.stream_support import WebSocketReceiver, closed_port_url, eventually

pytestmark = pytest.mark.usefixtures("conformant_events")


def media_options(url: str, **overrides: object) -> MediaStreamingOptions:
    settings = {
        "transport_url": url,
        "transport_type": "websocket",
        "content_type": "audio",
        "audio_channel_type": "mixed",
        "start_media_streaming": False,
        **overrides,
    }
    return MediaStreamingOptions(**settings)  # type: ignore[arg-type]


def update(event: dict) -> dict:
    return event["data"]["mediaStreamingUpdate"]


def is_loud(message: dict) -> bool:
    pcm = base64.b64decode(message["audioData"]["data"])
    return not message["audioData"]["silent"] and any(pcm)


def test_starts_on_connect_and_streams_audio_speech_and_keys(streaming_call, websocket: WebSocketReceiver) -> None:
    call: MediaCall = streaming_call(
        media_streaming=media_options(websocket.url, start_media_streaming=True, enable_dtmf_tones=True)
    )
    started = call.wait("MediaStreamingStarted")
    assert update(started) == {
        "contentType": "Audio",
        "mediaStreamingStatus": "mediaStreamingStarted",
        "mediaStreamingStatusDetails": "subscriptionStarted",
    }
    assert "operationContext" not in started["data"]
    assert started["data"]["resultInformation"] == {
        "code": 200,
        "subCode": 0,
        "message": "Action completed successfully.",
    }
    subscription = call.connection.get_call_properties().media_streaming_subscription
    assert subscription.state == "active" and subscription.subscribed_content_types == ["audio"]

    metadata = websocket.wait_for("AudioMetadata")["audioMetadata"]
    assert metadata["encoding"] == "PCM" and metadata["sampleRate"] == 16000 and metadata["channels"] == 1
    assert metadata["length"] == 640 and metadata["subscriptionId"]
    assert websocket.messages[0]["kind"] == "AudioMetadata"
    silent = websocket.wait_for("AudioData")["audioData"]
    assert silent["silent"] is True and len(base64.b64decode(silent["data"])) == 640
    assert silent["timestamp"].endswith("Z")

    call.say("I would like to pay my bill")
    call.advance(FRAME_SECONDS)  # the next frame carries their voice
    spoken = websocket.wait_for("AudioData", is_loud)["audioData"]
    assert spoken["participantRawID"] == call.person.raw_id
    call.press("1#")
    keys = [websocket.wait_for("DtmfData", count=n)["dtmfData"] for n in (1, 2)]
    assert [k["data"] for k in keys] == ["1", "#"]
    assert {k["participantRawID"] for k in keys} == {call.person.raw_id}

    call.connection.stop_media_streaming(operation_context="enough")
    stopped = call.wait("MediaStreamingStopped", operationContext="enough")
    assert update(stopped)["mediaStreamingStatusDetails"] == "subscriptionStopped"
    assert call.connection.get_call_properties().media_streaming_subscription.state == "inactive"
    websocket.wait_until(lambda: websocket.open_sockets == 0, "closed WebSocket")


async def test_start_and_stop_on_request_with_the_aio_client(
    streaming_call, aio_client: AsyncCallAutomationClient, websocket: WebSocketReceiver
) -> None:
    call: MediaCall = streaming_call(
        media_streaming=media_options(websocket.url, audio_channel_type="unmixed", audio_format="pcm24KMono")
    )
    connection = aio_client.get_call_connection(call.id)
    assert (await connection.get_call_properties()).media_streaming_subscription.state == "inactive"

    await connection.start_media_streaming(operation_context="go", operation_callback_url=call.recorder.url + "/ms")
    started = call.wait("MediaStreamingStarted", operationContext="go")
    assert started["_path"] == "/callbacks/ms"
    with pytest.raises(HttpResponseError) as twice:
        await connection.start_media_streaming()
    assert twice.value.status_code == 400 and twice.value.error.code == "8585"

    metadata = websocket.wait_for("AudioMetadata")["audioMetadata"]
    assert metadata["sampleRate"] == 24000 and metadata["length"] == 960
    frame = websocket.wait_for("AudioData")["audioData"]
    assert frame["participantRawID"] == call.person.raw_id  # unmixed: one stream per participant
    assert len(base64.b64decode(frame["data"])) == 960

    await connection.stop_media_streaming(operation_context="halt")
    call.wait("MediaStreamingStopped", operationContext="halt")
    with pytest.raises(HttpResponseError) as again:
        await connection.stop_media_streaming()
    assert again.value.status_code == 400 and again.value.error.code == "8585"


def test_bidirectional_stream_accepts_audio_from_the_app(
    streaming_call, control: EmulatorControl, websocket: WebSocketReceiver
) -> None:
    call: MediaCall = streaming_call(
        media_streaming=media_options(websocket.url, start_media_streaming=True, enable_bidirectional=True)
    )
    call.wait("MediaStreamingStarted")
    websocket.wait_for("AudioMetadata")
    websocket.send({"kind": "AudioData", "audioData": {"data": base64.b64encode(bytes(640)).decode()}})
    eventually(
        lambda: any("app sent AudioData" in e["summary"] for e in control.timeline(call.id)),
        "the app's audio in the call timeline",
    )


def test_unreachable_transport_url_fails_with_8603(streaming_call) -> None:
    call: MediaCall = streaming_call(media_streaming=media_options(closed_port_url()))
    call.connection.start_media_streaming(operation_context="try")
    failed = call.wait("MediaStreamingFailed", operationContext="try")
    assert update(failed) == {
        "contentType": "Audio",
        "mediaStreamingStatus": "mediaStreamingFailed",
        "mediaStreamingStatusDetails": "initialWebSocketConnectionFailed",
    }
    assert failed["data"]["resultInformation"]["subCode"] == 8603
    assert failed["data"]["resultInformation"]["code"] == 500
    assert call.connection.get_call_properties().media_streaming_subscription.state == "inactive"
    call.connection.start_media_streaming()  # a failed stream may be started again
    call.wait("MediaStreamingFailed", count=2)


def test_start_without_streaming_options_is_rejected(streaming_call) -> None:
    call: MediaCall = streaming_call()
    with pytest.raises(HttpResponseError) as raised:
        call.connection.start_media_streaming()
    assert raised.value.status_code == 400 and raised.value.error.code == "8585"
    assert "mediaStreamingOptions" in raised.value.error.message


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"transport_url": "https://example.com/ws"}, "mediaStreamingOptions.transportUrl"),
        ({"audio_channel_type": "stereo"}, "mediaStreamingOptions.audioChannelType"),
        ({"audio_format": "pcm8KMono"}, "mediaStreamingOptions.audioFormat"),
        ({"content_type": "video"}, "mediaStreamingOptions.contentType"),
    ],
)
def test_invalid_options_on_create_are_400_naming_the_field(
    streaming_call, websocket: WebSocketReceiver, overrides: dict, field: str
) -> None:
    with pytest.raises(HttpResponseError) as raised:
        streaming_call(media_streaming=media_options(websocket.url, **overrides))
    assert raised.value.status_code == 400
    assert field in raised.value.error.message
