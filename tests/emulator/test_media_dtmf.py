"""Continuous DTMF recognition and SendDtmfTones through the real SDK (sync and aio)."""

import pytest
import requests
from azure.communication.callautomation import CommunicationUserIdentifier, DtmfTone, RecognizeInputType
from azure.communication.callautomation.aio import CallAutomationClient as AsyncCallAutomationClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError

from emulator.media import heard_tones
from tests.emulator.conftest import MediaCall

SENT = {"code": 200, "subCode": 0, "message": "Action completed successfully."}
SECONDS_PER_TONE = 0.25  # what sending one tone takes


def tones_received(call: MediaCall) -> list[tuple[str, int]]:
    return [(e["data"]["tone"], e["data"]["sequenceId"]) for e in call.events("ContinuousDtmfRecognitionToneReceived")]


def test_continuous_recognition_reports_each_tone_with_rising_sequence_ids(media_call) -> None:
    call: MediaCall = media_call()
    call.connection.start_continuous_dtmf_recognition(call.person, operation_context="keys")
    call.press("1#")
    second = call.wait("ContinuousDtmfRecognitionToneReceived", count=2)
    assert second["data"]["operationContext"] == "keys"
    assert tones_received(call) == [("one", 1), ("pound", 2)]
    call.connection.stop_continuous_dtmf_recognition(call.person, operation_context="stop")
    assert call.wait("ContinuousDtmfRecognitionStopped")["data"]["operationContext"] == "stop"
    call.press("2")
    call.connection.start_continuous_dtmf_recognition(call.person)
    call.press("3")
    call.wait("ContinuousDtmfRecognitionToneReceived", count=3)
    assert tones_received(call) == [("one", 1), ("pound", 2), ("three", 3)]


def test_stopping_when_not_started_sends_no_event(media_call) -> None:
    call: MediaCall = media_call()
    call.connection.stop_continuous_dtmf_recognition(call.person)
    call.connection.start_continuous_dtmf_recognition(call.person)
    call.press("4")
    call.wait("ContinuousDtmfRecognitionToneReceived")
    assert "ContinuousDtmfRecognitionStopped" not in call.types()


def test_a_tone_during_recognize_yields_both_events(media_call) -> None:
    call: MediaCall = media_call()
    call.connection.start_continuous_dtmf_recognition(call.person)
    call.connection.start_recognizing_media(
        RecognizeInputType.DTMF, call.person, dtmf_max_tones_to_collect=1, initial_silence_timeout=30
    )
    call.wait_for_recognize_phase("listening")
    call.press("5")
    assert call.wait("RecognizeCompleted")["data"]["dtmfResult"] == {"tones": ["five"]}
    assert tones_received(call) == [("five", 1)]


def test_send_dtmf_tones_completes_and_the_far_end_hears_them(media_call, emulator) -> None:
    call: MediaCall = media_call()
    sent = call.connection.send_dtmf_tones(
        [DtmfTone.ONE, DtmfTone.TWO, DtmfTone.POUND], call.person, operation_context="dial-extension"
    )
    assert sent.operation_context is None  # the real service answers 202 with {}
    call.advance(3 * SECONDS_PER_TONE - 0.1)
    assert "SendDtmfTonesCompleted" not in call.types()
    call.advance(0.2)
    done = call.wait("SendDtmfTonesCompleted")
    assert done["data"]["resultInformation"] == SENT
    assert done["data"]["operationContext"] == "dial-extension"
    server_call = emulator.backend.connections[call.id].call
    assert heard_tones(server_call) == {call.person.raw_id: ["one", "two", "pound"]}
    assert any(entry.detail.get("tones") == ["one", "two", "pound"] for entry in server_call.timeline.entries)


def test_at_most_18_tones_at_a_time(media_call) -> None:
    call: MediaCall = media_call()
    with pytest.raises(HttpResponseError) as raised:
        call.connection.send_dtmf_tones([DtmfTone.ONE] * 19, call.person)
    assert raised.value.status_code == 400
    assert "tones" in raised.value.error.message
    call.connection.send_dtmf_tones([DtmfTone.NINE] * 18, call.person)
    call.advance(18 * SECONDS_PER_TONE)
    call.wait("SendDtmfTonesCompleted")


def test_tones_go_only_to_phone_participants(client, recorder) -> None:
    user = CommunicationUserIdentifier("8:acs:emulator_dtmf-user")
    created = client.create_call(user, recorder.url)
    recorder.wait_for("CallConnected", call_connection_id=created.call_connection_id)
    connection = client.get_call_connection(created.call_connection_id)
    with pytest.raises(HttpResponseError) as raised:
        connection.send_dtmf_tones([DtmfTone.ONE], user)
    assert raised.value.status_code == 400
    assert "targetParticipant" in raised.value.error.message


async def test_aio_continuous_and_send(media_call, emulator) -> None:
    call: MediaCall = media_call()
    async with AsyncCallAutomationClient(emulator.url, AzureKeyCredential(emulator.config.access_key)) as client:
        connection = client.get_call_connection(call.id)
        await connection.start_continuous_dtmf_recognition(call.person, operation_context="aio")
        call.press("*")
        assert call.wait("ContinuousDtmfRecognitionToneReceived")["data"]["tone"] == "asterisk"
        await connection.stop_continuous_dtmf_recognition(call.person)
        call.wait("ContinuousDtmfRecognitionStopped")
        result = await connection.send_dtmf_tones(["zero", "asterisk"], call.person, operation_context="aio-send")
        assert result.operation_context is None
        call.advance(2 * SECONDS_PER_TONE)
        assert call.wait("SendDtmfTonesCompleted")["data"]["operationContext"] == "aio-send"


def test_the_control_api_shows_the_legs_media(media_call, emulator) -> None:
    call: MediaCall = media_call()
    call.connection.start_continuous_dtmf_recognition(call.person)
    call.connection.send_dtmf_tones([DtmfTone.SEVEN], call.person)
    call.advance(SECONDS_PER_TONE)
    call.wait("SendDtmfTonesCompleted")
    call.connection.start_recognizing_media(
        RecognizeInputType.DTMF,
        call.person,
        dtmf_max_tones_to_collect=1,
        initial_silence_timeout=300,
        operation_context="menu",
    )
    call.wait_for_recognize_phase("listening")
    view = requests.get(f"{emulator.url}/emulator/calls/{call.id}", timeout=10).json()
    media = next(c for c in view["connections"] if c["callConnectionId"] == call.id)["features"]["media"]
    assert media["operations"] == [
        {
            "kind": "Recognize(Non-Group Call)",
            "phase": "listening",
            "operationContext": "menu",
            "targets": [call.person.raw_id],
        }
    ]
    assert media["continuousDtmf"] == [call.person.raw_id]
    assert media["dtmfHeard"] == {call.person.raw_id: ["seven"]}
