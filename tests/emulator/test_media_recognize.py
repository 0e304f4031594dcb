"""Recognize through the real SDK: DTMF, speech, choices, speech-or-DTMF, timeouts, prompts, and their codes."""

import pytest
from azure.communication.callautomation import (
    DtmfTone,
    FileSource,
    PhoneNumberIdentifier,
    RecognitionChoice,
    RecognizeInputType,
    TextSource,
)
from azure.communication.callautomation.aio import CallAutomationClient as AsyncCallAutomationClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.emulator.conftest import AudioServer, MediaCall

END_SILENCE = 0.5  # seconds of silence that end a phrase unless endSilenceTimeoutInMs says otherwise
CHOICES = [
    RecognitionChoice(label="Yes", phrases=["yes", "yeah sure"], tone=DtmfTone.ONE),
    RecognitionChoice(label="No", phrases=["no"], tone=DtmfTone.TWO),
]


def words(count: int) -> TextSource:
    """A text prompt that takes count * 0.4 emulated seconds to say (150 words a minute)."""
    return TextSource(text=" ".join(["menu"] * count))


def result(event: dict) -> tuple[int, int, str]:
    info = event["data"]["resultInformation"]
    return info["code"], info["subCode"], info["message"]


def start_dtmf(call: MediaCall, **options: object) -> None:
    call.connection.start_recognizing_media(
        RecognizeInputType.DTMF, call.person, operation_context="menu", **{"initial_silence_timeout": 30, **options}
    )


def test_max_tones_completes_8531(media_call) -> None:
    call: MediaCall = media_call()
    start_dtmf(call, dtmf_max_tones_to_collect=3)
    call.wait_for_recognize_phase("listening")
    call.press("123")
    done = call.wait("RecognizeCompleted")
    assert result(done) == (200, 8531, "Action completed, max digits received.")
    assert done["data"]["recognitionType"] == "dtmf"
    assert done["data"]["dtmfResult"] == {"tones": ["one", "two", "three"]}
    assert done["data"]["operationContext"] == "menu"


def test_stop_tone_completes_8514_without_the_stop_tone(media_call) -> None:
    call: MediaCall = media_call()
    start_dtmf(call, dtmf_max_tones_to_collect=10, dtmf_stop_tones=[DtmfTone.POUND])
    call.wait_for_recognize_phase("listening")
    call.press("42#")
    done = call.wait("RecognizeCompleted")
    assert result(done) == (200, 8514, "Action completed as stop tone was detected.")
    assert done["data"]["dtmfResult"] == {"tones": ["four", "two"]}


def test_inter_digit_timeout_completes_8532_with_the_tones_so_far(media_call) -> None:
    call: MediaCall = media_call()
    start_dtmf(call, dtmf_max_tones_to_collect=5, dtmf_inter_tone_timeout=1)
    call.wait_for_recognize_phase("listening")
    call.press("78")
    call.advance(0.9)
    assert "RecognizeCompleted" not in call.types()
    call.advance(0.2)
    done = call.wait("RecognizeCompleted")
    assert result(done) == (400, 8532, "Action failed, inter-digit silence time out reached.")
    assert done["data"]["dtmfResult"] == {"tones": ["seven", "eight"]}


def test_initial_silence_fails_8510_counted_after_the_prompt(media_call) -> None:
    call: MediaCall = media_call()
    call.connection.start_recognizing_media(
        RecognizeInputType.DTMF,
        call.person,
        dtmf_max_tones_to_collect=1,
        play_prompt=words(20),
        initial_silence_timeout=1,
    )
    call.wait_for_recognize_phase("prompt")
    call.advance(20 * 0.4 + 0.9)  # the prompt, and not quite the timeout after it
    assert "RecognizeFailed" not in call.types()
    call.advance(0.2)
    failed = call.wait("RecognizeFailed")
    assert result(failed) == (400, 8510, "Action failed, initial silence time out reached.")


def test_default_initial_silence_is_five_seconds(media_call) -> None:
    call: MediaCall = media_call()
    call.connection.start_recognizing_media(RecognizeInputType.DTMF, call.person, dtmf_max_tones_to_collect=1)
    call.wait_for_recognize_phase("listening")
    call.advance(4.9)
    assert "RecognizeFailed" not in call.types()
    call.advance(0.2)
    assert result(call.wait("RecognizeFailed"))[1] == 8510


def test_a_tone_interrupts_the_prompt_and_counts(media_call) -> None:
    call: MediaCall = media_call()
    start_dtmf(call, dtmf_max_tones_to_collect=1, play_prompt=words(100), interrupt_prompt=True)
    call.wait_for_recognize_phase("prompt")
    call.press("9")
    done = call.wait("RecognizeCompleted")  # with no emulated time passing: the prompt was still playing
    assert done["data"]["dtmfResult"] == {"tones": ["nine"]}


def test_without_interrupt_prompt_tones_during_the_prompt_are_ignored(media_call) -> None:
    call: MediaCall = media_call()
    start_dtmf(call, dtmf_max_tones_to_collect=1, play_prompt=words(40), initial_silence_timeout=1)
    call.wait_for_recognize_phase("prompt")
    call.press("9")
    call.advance(40 * 0.4 + 1)
    assert result(call.wait("RecognizeFailed"))[1] == 8510
    # The timeline says why the tone did nothing, for whoever wonders why the app never heard it.
    summaries = [entry["summary"] for entry in call.emulator.control.timeline(call.id)]
    assert (
        f"tone nine from {call.person.raw_id} ignored: the prompt is still playing and is not interruptible "
        "(interruptPrompt false)"
    ) in summaries


@pytest.mark.parametrize(("prompts", "index"), [(["stereo.wav"], 0), (["hello.wav", "missing.wav"], 1)])
def test_prompt_that_cannot_play_fails_8511(
    media_call, audio_server: AudioServer, prompts: list[str], index: int
) -> None:
    call: MediaCall = media_call()
    sources = [FileSource(audio_server.url(name)) for name in prompts]
    start_dtmf(call, dtmf_max_tones_to_collect=1, play_prompt=sources if len(sources) > 1 else sources[0])
    failed = call.wait("RecognizeFailed")
    assert result(failed) == (500, 8511, "Action failed, encountered failure while trying to play the prompt.")
    assert failed["data"]["failedPlaySourceIndex"] == index


def start_choices(call: MediaCall) -> None:
    call.connection.start_recognizing_media(
        RecognizeInputType.CHOICES,
        call.person,
        choices=CHOICES,
        initial_silence_timeout=30,
        operation_context="confirm",
    )
    call.wait_for_recognize_phase("listening")


def test_choice_by_tone_8533(media_call) -> None:
    call: MediaCall = media_call()
    start_choices(call)
    call.press("2")
    done = call.wait("RecognizeCompleted")
    assert result(done) == (200, 8533, "Action completed, DTMF option matched.")
    assert done["data"]["recognitionType"] == "choices"
    assert done["data"]["choiceResult"] == {"label": "No", "recognizedPhrase": None}


def test_choice_by_phrase_ignores_case_8545(media_call) -> None:
    call: MediaCall = media_call()
    start_choices(call)
    call.say("Yeah  SURE")
    call.advance(END_SILENCE)
    done = call.wait("RecognizeCompleted")
    assert result(done) == (200, 8545, "Action completed, speech option matched.")
    assert done["data"]["choiceResult"] == {"label": "Yes", "recognizedPhrase": "Yeah  SURE", "confidence": 1.0}


def test_choice_with_an_unknown_tone_fails_8534(media_call) -> None:
    call: MediaCall = media_call()
    start_choices(call)
    call.press("9")
    assert result(call.wait("RecognizeFailed")) == (500, 8534, "Action failed, incorrect tone entered.")


def test_choice_with_an_unknown_phrase_fails_8547(media_call) -> None:
    call: MediaCall = media_call()
    start_choices(call)
    call.say("maybe later")
    call.advance(END_SILENCE)
    failed = call.wait("RecognizeFailed")
    assert result(failed) == (400, 8547, "Action failed, recognized phrase does not match a valid option.")


def test_speech_returns_what_was_said_8569(media_call) -> None:
    call: MediaCall = media_call()
    call.connection.start_recognizing_media(
        RecognizeInputType.SPEECH, call.person, initial_silence_timeout=30, end_silence_timeout=1, play_prompt=words(2)
    )
    call.wait_for_recognize_phase("prompt")
    call.advance(2 * 0.4)
    call.wait_for_recognize_phase("listening")
    call.press("1")  # a speech-only recognize does not hear keys
    call.say("I want to speak to an agent")
    call.advance(0.9)  # not yet the 1 s of silence that ends the phrase
    assert "RecognizeCompleted" not in call.types()
    call.advance(0.2)
    done = call.wait("RecognizeCompleted")
    assert result(done) == (200, 8569, "Action completed, speech was recognized.")
    assert done["data"]["recognitionType"] == "speech"
    assert done["data"]["speechResult"] == {"speech": "I want to speak to an agent", "confidence": 1.0}


@pytest.mark.parametrize(("act", "expected"), [
    (lambda call: call.press("5#"), {"recognitionType": "dtmf", "dtmfResult": {"tones": ["five"]}}),
    (lambda call: call.say("billing"), {"recognitionType": "speech",
                                        "speechResult": {"speech": "billing", "confidence": 1.0}}),
])  # fmt: skip
def test_speech_or_dtmf_takes_whichever_comes_first(media_call, act, expected: dict) -> None:
    call: MediaCall = media_call()
    call.connection.start_recognizing_media(
        RecognizeInputType.SPEECH_OR_DTMF,
        call.person,
        initial_silence_timeout=30,
        dtmf_max_tones_to_collect=4,
        dtmf_stop_tones=[DtmfTone.POUND],
    )
    call.wait_for_recognize_phase("listening")
    act(call)
    call.advance(END_SILENCE)
    done = call.wait("RecognizeCompleted")
    assert {key: done["data"][key] for key in expected} == expected


def test_speech_recognition_needs_the_cognitive_services_endpoint(media_call, audio_server: AudioServer) -> None:
    call: MediaCall = media_call(cognitive=False)
    with pytest.raises(HttpResponseError) as raised:
        call.connection.start_recognizing_media(RecognizeInputType.CHOICES, call.person, choices=CHOICES)
    assert (raised.value.status_code, raised.value.error.code) == (400, "8567")
    start_dtmf(call, dtmf_max_tones_to_collect=1, play_prompt=FileSource(audio_server.url("hello.wav")))
    call.wait_for_recognize_phase("prompt")
    call.advance(1)  # hello.wav
    call.wait_for_recognize_phase("listening")
    call.press("1")
    assert result(call.wait("RecognizeCompleted"))[1] == 8531


@pytest.mark.parametrize(("options", "field"), [
    ({"initial_silence_timeout": 301, "dtmf_max_tones_to_collect": 1}, "initialSilenceTimeoutInSeconds"),
    ({"initial_silence_timeout": -1, "dtmf_max_tones_to_collect": 1}, "initialSilenceTimeoutInSeconds"),
    ({"dtmf_inter_tone_timeout": 0, "dtmf_max_tones_to_collect": 1}, "interToneTimeoutInSeconds"),
    ({"dtmf_inter_tone_timeout": 61, "dtmf_max_tones_to_collect": 1}, "interToneTimeoutInSeconds"),
    ({"dtmf_max_tones_to_collect": 0}, "maxTonesToCollect"),
    ({}, "maxTonesToCollect"),
    ({"dtmf_max_tones_to_collect": 1, "dtmf_stop_tones": ["hash"]}, "stopTones[0]"),
])  # fmt: skip
def test_out_of_range_options_are_400_naming_the_field(media_call, options: dict, field: str) -> None:
    call: MediaCall = media_call()
    with pytest.raises(HttpResponseError) as raised:
        call.connection.start_recognizing_media(RecognizeInputType.DTMF, call.person, **options)
    assert raised.value.status_code == 400
    assert field in raised.value.error.message


def test_choices_are_required_for_a_choices_recognize(media_call) -> None:
    call: MediaCall = media_call()
    with pytest.raises(HttpResponseError) as raised:
        call.connection.start_recognizing_media(RecognizeInputType.CHOICES, call.person)
    assert raised.value.status_code == 400
    assert "recognizeOptions.choices" in raised.value.error.message


def test_target_must_be_in_the_call(media_call) -> None:
    call: MediaCall = media_call()
    with pytest.raises(ResourceNotFoundError) as raised:
        call.connection.start_recognizing_media(
            RecognizeInputType.DTMF, PhoneNumberIdentifier("+15559999999"), dtmf_max_tones_to_collect=1
        )
    assert raised.value.error.code == "8522"


def test_recognize_events_go_to_the_operation_callback_uri(media_call, recorder) -> None:
    call: MediaCall = media_call()
    start_dtmf(call, dtmf_max_tones_to_collect=1, operation_callback_url=recorder.url + "/menu")
    call.wait_for_recognize_phase("listening")
    call.press("3")
    assert call.wait("RecognizeCompleted")["_path"] == "/callbacks/menu"


async def test_aio_recognize_each_input_type(media_call, emulator) -> None:
    call: MediaCall = media_call()
    async with AsyncCallAutomationClient(emulator.url, AzureKeyCredential(emulator.config.access_key)) as client:
        connection = client.get_call_connection(call.id)
        await connection.start_recognizing_media(
            RecognizeInputType.DTMF, call.person, dtmf_max_tones_to_collect=2, initial_silence_timeout=30
        )
        call.wait_for_recognize_phase("listening")
        call.press("12")
        assert call.wait("RecognizeCompleted")["data"]["dtmfResult"] == {"tones": ["one", "two"]}
        await connection.start_recognizing_media(RecognizeInputType.SPEECH, call.person, initial_silence_timeout=30)
        call.wait_for_recognize_phase("listening")
        call.say("hello")
        call.advance(END_SILENCE)
        assert call.wait("RecognizeCompleted", count=2)["data"]["speechResult"]["speech"] == "hello"
        await connection.start_recognizing_media(
            RecognizeInputType.CHOICES, call.person, choices=CHOICES, initial_silence_timeout=30
        )
        call.wait_for_recognize_phase("listening")
        call.say("no")
        call.advance(END_SILENCE)
        assert call.wait("RecognizeCompleted", count=3)["data"]["choiceResult"]["label"] == "No"
        await connection.start_recognizing_media(
            RecognizeInputType.SPEECH_OR_DTMF, call.person, dtmf_max_tones_to_collect=1, initial_silence_timeout=30
        )
        call.wait_for_recognize_phase("listening")
        call.press("0")
        assert call.wait("RecognizeCompleted", count=4)["data"]["dtmfResult"] == {"tones": ["zero"]}
        await connection.start_recognizing_media(
            RecognizeInputType.DTMF, call.person, dtmf_max_tones_to_collect=1, initial_silence_timeout=300
        )
        call.wait_for_recognize_phase("listening")
        await connection.cancel_all_media_operations()
        assert result(call.wait("RecognizeCanceled"))[1] == 8508
