"""Live transcription with the real SDK: options, start/update/stop, and what the caller says on the WebSocket."""

import pytest
from azure.communication.callautomation import TranscriptionOptions
from azure.communication.callautomation.aio import CallAutomationClient as AsyncCallAutomationClient
from azure.core.exceptions import HttpResponseError

from emulator.audio import speech_duration
from tests.emulator.conftest import MediaCall
from tests.emulator.stream_support import WebSocketReceiver, closed_port_url

pytestmark = pytest.mark.usefixtures("conformant_events")
PHRASE = "I need help with my bill, please."


def transcription_options(url: str, **overrides: object) -> TranscriptionOptions:
    settings = {
        "transport_url": url,
        "transport_type": "websocket",
        "locale": "en-US",
        "start_transcription": False,
        **overrides,
    }
    return TranscriptionOptions(**settings)  # type: ignore[arg-type]


def update(event: dict) -> dict:
    return event["data"]["transcriptionUpdate"]


def final_text(message: dict) -> bool:
    return message["transcriptionData"]["resultStatus"] == "Final"


def test_transcribes_what_the_caller_says(streaming_call, websocket: WebSocketReceiver) -> None:
    call: MediaCall = streaming_call(
        transcription=transcription_options(websocket.url, enable_intermediate_results=True)
    )
    subscription = call.connection.get_call_properties().transcription_subscription
    assert subscription.state == "inactive" and subscription.locale == "en-US"
    assert subscription.subscribed_result_types == ["final", "intermediate"]

    call.connection.start_transcription(locale="en-GB", operation_context="listen")
    started = call.wait("TranscriptionStarted", operationContext="listen")
    assert update(started) == {
        "transcriptionStatus": "transcriptionStarted",
        "transcriptionStatusDetails": "subscriptionStarted",
    }
    metadata = websocket.wait_for("TranscriptionMetadata")["transcriptionMetadata"]
    assert metadata["locale"] == "en-GB" and metadata["callConnectionId"] == call.id
    assert metadata["subscriptionId"] and metadata["correlationId"]
    properties = call.connection.get_call_properties().transcription_subscription
    assert properties.state == "active" and properties.locale == "en-GB"

    call.say(PHRASE)
    call.advance(speech_duration(PHRASE))  # the phrase is transcribed once it has been said
    final = websocket.wait_for("TranscriptionData", final_text)["transcriptionData"]
    assert final["text"] == PHRASE and final["format"] == "display"
    assert final["participantRawID"] == call.person.raw_id
    assert [w["text"] for w in final["words"]] == ["i", "need", "help", "with", "my", "bill", "please"]
    assert 0 < final["confidence"] <= 1 and final["duration"] > 0
    offsets = [w["offset"] for w in final["words"]]
    assert offsets == sorted(offsets) and offsets[0] == final["offset"]
    partials = [m["transcriptionData"] for m in websocket.of_kind("TranscriptionData") if not final_text(m)]
    assert partials and all(p["resultStatus"] == "Intermediate" for p in partials)
    assert all(PHRASE.startswith(p["text"]) for p in partials)

    call.connection.update_transcription(locale="fr-FR", operation_context="french")
    updated = call.wait("TranscriptionUpdated", operationContext="french")
    assert update(updated) == {
        "transcriptionStatus": "transcriptionUpdated",
        "transcriptionStatusDetails": "transcriptionLocaleUpdated",
    }
    assert call.connection.get_call_properties().transcription_subscription.locale == "fr-FR"

    call.connection.stop_transcription(operation_context="done")
    stopped = call.wait("TranscriptionStopped", operationContext="done")
    assert update(stopped)["transcriptionStatusDetails"] == "subscriptionStopped"
    assert call.connection.get_call_properties().transcription_subscription.state == "inactive"


async def test_starts_on_connect_and_stops_with_the_aio_client(
    streaming_call, aio_client: AsyncCallAutomationClient, websocket: WebSocketReceiver
) -> None:
    call: MediaCall = streaming_call(transcription=transcription_options(websocket.url, start_transcription=True))
    started = call.wait("TranscriptionStarted")
    assert "operationContext" not in started["data"]
    websocket.wait_for("TranscriptionMetadata")
    call.say("Agent")
    call.advance(speech_duration("Agent"))
    final = websocket.wait_for("TranscriptionData")["transcriptionData"]
    assert final["text"] == "Agent" and final["resultStatus"] == "Final"  # no intermediate results asked for

    connection = aio_client.get_call_connection(call.id)
    await connection.stop_transcription(operation_context="bye")
    call.wait("TranscriptionStopped", operationContext="bye")
    with pytest.raises(HttpResponseError) as not_started:
        await connection.update_transcription(locale="de-DE")
    assert not_started.value.status_code == 400 and not_started.value.error.code == "8585"
    with pytest.raises(HttpResponseError) as bad_locale:
        await connection.start_transcription(locale="not a locale")
    assert bad_locale.value.status_code == 400 and "locale" in bad_locale.value.error.message


def test_unreachable_transport_url_fails_with_8578(streaming_call) -> None:
    call: MediaCall = streaming_call(transcription=transcription_options(closed_port_url()))
    call.connection.start_transcription(operation_context="try")
    failed = call.wait("TranscriptionFailed", operationContext="try")
    assert update(failed) == {
        "transcriptionStatus": "transcriptionFailed",
        "transcriptionStatusDetails": "streamConnectionUnsuccessful",
    }
    assert failed["data"]["resultInformation"]["subCode"] == 8578
    assert call.connection.get_call_properties().transcription_subscription.state == "inactive"


def test_start_without_options_and_invalid_locale_are_400(streaming_call, websocket: WebSocketReceiver) -> None:
    call: MediaCall = streaming_call()
    with pytest.raises(HttpResponseError) as unconfigured:
        call.connection.start_transcription()
    assert unconfigured.value.status_code == 400 and "transcriptionOptions" in unconfigured.value.error.message
    with pytest.raises(HttpResponseError) as invalid:
        streaming_call(transcription=transcription_options(websocket.url, locale="english"))
    assert invalid.value.status_code == 400 and "transcriptionOptions.locale" in invalid.value.error.message
