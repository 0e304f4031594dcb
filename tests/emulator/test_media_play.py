"""Play, cancel-all, hold and unhold through the real SDK (sync and aio): events, result codes, failures, looping."""

import pytest
from azure.communication.callautomation import FileSource, PhoneNumberIdentifier, SsmlSource, TextSource
from azure.communication.callautomation.aio import CallAutomationClient as AsyncCallAutomationClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.emulator.conftest import AudioServer, MediaCall

OK = {"code": 200, "subCode": 0, "message": "Action completed successfully."}
CANCELED = {"code": 400, "subCode": 8508, "message": "Action failed, the operation was canceled."}
BAD_FORMAT = {"code": 400, "subCode": 8535, "message": "Action failed, file format is invalid."}
NOT_DOWNLOADED = {"code": 400, "subCode": 8536, "message": "Action failed, file could not be downloaded."}
HELLO_SECONDS = 1.0  # hello.wav's length (conftest.audio_server)


def result(event: dict) -> dict:
    return event["data"]["resultInformation"]


def test_play_file_to_all_starts_then_completes(media_call, audio_server: AudioServer) -> None:
    call: MediaCall = media_call()
    call.connection.play_media(FileSource(audio_server.url("hello.wav")), operation_context="welcome")
    started = call.wait("PlayStarted")
    call.advance(HELLO_SECONDS)
    completed = call.wait("PlayCompleted")
    assert started["data"]["operationContext"] == completed["data"]["operationContext"] == "welcome"
    assert result(started) == result(completed) == OK
    assert call.types("PlayStarted", "PlayCompleted") == ["PlayStarted", "PlayCompleted"]


def test_sources_play_in_sequence_for_their_combined_duration(media_call, audio_server: AudioServer) -> None:
    call: MediaCall = media_call()
    sources = [
        FileSource(audio_server.url("hello.wav")),
        TextSource(text="Thanks for calling " * 10),
        SsmlSource(ssml_text="<speak>Goodbye <break time='5s'/> now</speak>"),
    ]
    call.connection.play_media(sources, play_to=[call.person], operation_context="seq")
    call.wait("PlayStarted", operationContext="seq")
    # 1 s of WAV + 30 words at 150 wpm (12 s) + 2 words and a 5 s break (5.8 s): 18.8 s
    call.advance(18.7)
    assert "PlayCompleted" not in call.types()
    call.advance(0.2)
    assert result(call.wait("PlayCompleted", operationContext="seq")) == OK


def test_play_media_to_all_is_the_deprecated_spelling_of_play_to_all(media_call, audio_server: AudioServer) -> None:
    call: MediaCall = media_call()
    with pytest.deprecated_call():
        call.connection.play_media_to_all(FileSource(audio_server.url("hello.wav")), operation_context="all")
    call.wait("PlayStarted", operationContext="all")
    call.advance(HELLO_SECONDS)
    assert result(call.wait("PlayCompleted", operationContext="all")) == OK


@pytest.mark.parametrize("bad", ["8khz.wav", "stereo.wav", "not-audio.wav"])
def test_unplayable_file_fails_8535_naming_its_index(media_call, audio_server: AudioServer, bad: str) -> None:
    call: MediaCall = media_call()
    call.connection.play_media(
        [FileSource(audio_server.url("hello.wav")), FileSource(audio_server.url(bad))], operation_context="bad"
    )
    failed = call.wait("PlayFailed")
    assert result(failed) == BAD_FORMAT
    assert failed["data"]["failedPlaySourceIndex"] == 1
    assert failed["data"]["operationContext"] == "bad"
    assert "PlayStarted" not in call.types()


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/refused.wav", "missing.wav"])
def test_unreachable_or_missing_file_fails_8536(media_call, audio_server: AudioServer, url: str) -> None:
    call: MediaCall = media_call()
    call.connection.play_media(FileSource(url if url.startswith("http") else audio_server.url(url)))
    failed = call.wait("PlayFailed")
    assert result(failed) == NOT_DOWNLOADED
    assert failed["data"]["failedPlaySourceIndex"] == 0


def test_text_to_speech_needs_the_cognitive_services_endpoint(media_call, audio_server: AudioServer) -> None:
    call: MediaCall = media_call(cognitive=False)
    with pytest.raises(HttpResponseError) as raised:
        call.connection.play_media(TextSource(text="Hello"))
    assert raised.value.status_code == 400
    assert raised.value.error.code == "8567"
    assert "Cognitive Service Configuration not set" in raised.value.error.message
    call.connection.play_media(FileSource(audio_server.url("hello.wav")))
    call.wait("PlayStarted")
    call.advance(HELLO_SECONDS)
    assert result(call.wait("PlayCompleted")) == OK


EMPTY = {"code": 400, "subCode": 8582, "message": "Action failed, the play source text or SSML is empty."}
AI_BAD_REQUEST = {
    "code": 400,
    "subCode": 8565,
    "message": "Action failed, bad request to Azure AI services. Check input parameters.",
}


@pytest.mark.parametrize(
    ("source", "expected"), [(TextSource(text="  "), EMPTY), (SsmlSource(ssml_text="<speak>unclosed"), AI_BAD_REQUEST)]
)
def test_empty_text_and_malformed_ssml_fail(media_call, source: object, expected: dict) -> None:
    call: MediaCall = media_call()
    call.connection.play_media(source)
    assert result(call.wait("PlayFailed")) == expected


def test_looping_play_never_completes_until_canceled(media_call, audio_server: AudioServer) -> None:
    call: MediaCall = media_call()
    call.connection.play_media(FileSource(audio_server.url("hello.wav")), loop=True, operation_context="music")
    call.wait("PlayStarted")
    call.advance(20 * HELLO_SECONDS)
    assert "PlayCompleted" not in call.types()
    call.connection.cancel_all_media_operations()
    canceled = call.wait("PlayCanceled")
    assert result(canceled) == CANCELED
    assert canceled["data"]["operationContext"] == "music"
    call.advance(20 * HELLO_SECONDS)
    assert call.types("PlayStarted", "PlayCompleted", "PlayCanceled") == ["PlayStarted", "PlayCanceled"]


def test_interrupting_play_cancels_the_running_one(media_call, audio_server: AudioServer) -> None:
    call: MediaCall = media_call()
    call.connection.play_media(FileSource(audio_server.url("long.wav")), operation_context="long")
    call.wait("PlayStarted", operationContext="long")
    call.connection.play_media(
        FileSource(audio_server.url("hello.wav")), operation_context="urgent", interrupt_call_media_operation=True
    )
    assert result(call.wait("PlayCanceled", operationContext="long")) == CANCELED
    call.wait("PlayStarted", operationContext="urgent")
    call.advance(HELLO_SECONDS)
    call.wait("PlayCompleted", operationContext="urgent")
    assert [e["data"]["operationContext"] for e in call.events("PlayCompleted")] == ["urgent"]


def test_cancel_all_sends_one_canceled_event_per_running_or_queued_operation(
    media_call, audio_server: AudioServer
) -> None:
    call: MediaCall = media_call()
    call.connection.play_media(FileSource(audio_server.url("hello.wav")), loop=True, operation_context="first")
    call.connection.play_media(FileSource(audio_server.url("hello.wav")), operation_context="queued")
    call.connection.start_recognizing_media("dtmf", call.person, dtmf_max_tones_to_collect=1, operation_context="menu")
    call.wait("PlayStarted", operationContext="first")
    call.connection.cancel_all_media_operations()
    call.wait("RecognizeCanceled", operationContext="menu")
    canceled = call.events("PlayCanceled", "RecognizeCanceled")
    assert [(e["type"].rsplit(".", 1)[-1], e["data"]["operationContext"]) for e in canceled] == [
        ("PlayCanceled", "first"),
        ("PlayCanceled", "queued"),
        ("RecognizeCanceled", "menu"),
    ]
    assert all(result(e) == CANCELED for e in canceled)


def test_events_go_to_the_operation_callback_uri_when_given(media_call, audio_server: AudioServer, recorder) -> None:
    call: MediaCall = media_call()
    call.connection.play_media(
        FileSource(audio_server.url("hello.wav")), operation_callback_url=recorder.url + "/play-events"
    )
    assert call.wait("PlayStarted")["_path"] == "/callbacks/play-events"
    call.advance(HELLO_SECONDS)
    assert call.wait("PlayCompleted")["_path"] == "/callbacks/play-events"


def test_play_to_someone_not_in_the_call_is_404(media_call, audio_server: AudioServer) -> None:
    call: MediaCall = media_call()
    with pytest.raises(ResourceNotFoundError) as raised:
        call.connection.play_media(
            FileSource(audio_server.url("hello.wav")), play_to=[PhoneNumberIdentifier("+15559999999")]
        )
    assert raised.value.error.code == "8522"


def on_hold(event: dict, raw_id: str) -> bool:
    return next(p["isOnHold"] for p in event["data"]["participants"] if p["identifier"]["rawId"] == raw_id)


def test_hold_and_unhold_show_in_participants_updated(media_call, audio_server: AudioServer) -> None:
    call: MediaCall = media_call()
    updates = len(call.events("ParticipantsUpdated"))
    call.connection.hold(call.person, play_source=FileSource(audio_server.url("hello.wav")))
    held = call.wait("ParticipantsUpdated", count=updates + 1)
    assert on_hold(held, call.person.raw_id) is True
    assert call.connection.get_participant(call.person).is_on_hold is True
    call.connection.unhold(call.person)
    resumed = call.wait("ParticipantsUpdated", count=updates + 2)
    assert on_hold(resumed, call.person.raw_id) is False
    assert "HoldFailed" not in call.types()


def test_hold_music_that_cannot_play_is_hold_failed(media_call, audio_server: AudioServer) -> None:
    call: MediaCall = media_call()
    call.connection.hold(call.person, play_source=FileSource(audio_server.url("stereo.wav")), operation_context="moh")
    failed = call.wait("HoldFailed")
    assert result(failed) == BAD_FORMAT
    assert failed["data"]["operationContext"] == "moh"


def test_hold_someone_not_in_the_call_is_404(media_call) -> None:
    call: MediaCall = media_call()
    with pytest.raises(ResourceNotFoundError):
        call.connection.hold(PhoneNumberIdentifier("+15559999999"))
    with pytest.raises(ResourceNotFoundError):
        call.connection.unhold(PhoneNumberIdentifier("+15559999999"))


async def test_aio_play_cancel_hold_unhold(media_call, emulator, audio_server: AudioServer) -> None:
    call: MediaCall = media_call()
    async with AsyncCallAutomationClient(emulator.url, AzureKeyCredential(emulator.config.access_key)) as client:
        connection = client.get_call_connection(call.id)
        await connection.play_media(FileSource(audio_server.url("hello.wav")), operation_context="aio")
        call.wait("PlayStarted", operationContext="aio")
        call.advance(HELLO_SECONDS)
        assert result(call.wait("PlayCompleted", operationContext="aio")) == OK
        await connection.play_media(FileSource(audio_server.url("hello.wav")), loop=True, operation_context="loop")
        call.wait("PlayStarted", operationContext="loop")
        await connection.cancel_all_media_operations()
        assert result(call.wait("PlayCanceled", operationContext="loop")) == CANCELED
        await connection.hold(call.person)
        assert on_hold(call.wait("ParticipantsUpdated", count=2), call.person.raw_id) is True
        await connection.unhold(call.person)
        assert on_hold(call.wait("ParticipantsUpdated", count=3), call.person.raw_id) is False
