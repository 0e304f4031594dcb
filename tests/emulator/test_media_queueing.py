"""Contract §7.2, row by row: which media operations run or queue behind which, and what ends pending media."""

from collections.abc import Callable

import pytest
from azure.communication.callautomation import DtmfTone, FileSource, RecognizeInputType
from azure.core.exceptions import HttpResponseError

from emulator.media.compatibility import COMPATIBLE, Kind
from tests.emulator.conftest import AudioServer, MediaCall

# The table as the docs print it: existing operation -> its "Disallowed" column (everything else is allowed).
DOCUMENTED_DISALLOWED = {
    "PlayToAll": "None",
    "Recognize(Non-Group Call)": "None",
    "PlayTo": "PlayTo, Recognize(Group Call), SendDTMF, StartContinuousDtmfRecognition",
    "Recognize(Group Call)": "PlayTo, Recognize(Group Call), SendDTMF, StartContinuousDtmfRecognition",
    "SendDTMF": "PlayTo, Recognize(Group Call), SendDTMF, StartContinuousDtmfRecognition",
    "StartContinuousDtmfRecognition": "None",
}
PAIRS = [(existing, new) for existing in Kind for new in Kind]
GROUP_ONLY = {Kind.RECOGNIZE_GROUP}
ONE_TO_ONE_ONLY = {Kind.RECOGNIZE}


def documented_allowed(existing: Kind, new: Kind) -> bool:
    return new.value not in DOCUMENTED_DISALLOWED[existing.value].split(", ")


@pytest.mark.parametrize(("existing", "new"), PAIRS, ids=[f"{e.name}-then-{n.name}" for e, n in PAIRS])
def test_table_row(existing: Kind, new: Kind) -> None:
    assert COMPATIBLE[(existing, new)] is documented_allowed(existing, new)


def start(call: MediaCall, kind: Kind, audio: AudioServer, context: str) -> None:
    """Begin an operation of that kind; the long ones stay running for the rest of the test."""
    connection = call.connection
    music = FileSource(audio.url("long.wav"))
    if kind is Kind.PLAY_TO_ALL:
        connection.play_media(music, operation_context=context)
    elif kind is Kind.PLAY_TO:
        connection.play_media(music, play_to=[call.person], operation_context=context)
    elif kind in (Kind.RECOGNIZE, Kind.RECOGNIZE_GROUP):
        connection.start_recognizing_media(
            RecognizeInputType.DTMF,
            call.person,
            dtmf_max_tones_to_collect=1,
            initial_silence_timeout=300,
            operation_context=context,
        )
    elif kind is Kind.SEND_DTMF:
        connection.send_dtmf_tones([DtmfTone.ONE] * 18, call.person, operation_context=context)
    else:
        connection.start_continuous_dtmf_recognition(call.person, operation_context=context)


FEASIBLE = [(e, n) for e, n in PAIRS if not ({e, n} & GROUP_ONLY and {e, n} & ONE_TO_ONE_ONLY)]


@pytest.mark.parametrize(("existing", "new"), FEASIBLE, ids=[f"{e.name}-then-{n.name}" for e, n in FEASIBLE])
def test_table_row_through_the_sdk(media_call, audio_server: AudioServer, existing: Kind, new: Kind) -> None:
    """Emulated time stands still, so the existing operation (18 tones being sent, say) is still running."""
    group = bool({existing, new} & GROUP_ONLY)
    call: MediaCall = media_call("+15551230000", "+15551230001") if group else media_call()
    start(call, existing, audio_server, "existing")
    if COMPATIBLE[(existing, new)]:
        start(call, new, audio_server, "new")
        return
    with pytest.raises(HttpResponseError) as raised:
        start(call, new, audio_server, "new")
    assert (raised.value.status_code, raised.value.error.code) == (412, "8583")
    assert new.value in raised.value.error.message and existing.value in raised.value.error.message


def context_order(call: MediaCall, *types: str) -> list[tuple[str, str]]:
    return [(e["type"].rsplit(".", 1)[-1], e["data"].get("operationContext")) for e in call.events(*types)]


def test_main_queue_runs_in_order(media_call, audio_server: AudioServer) -> None:
    call: MediaCall = media_call()
    hello = FileSource(audio_server.url("hello.wav"))
    call.connection.play_media(hello, operation_context="first")
    call.connection.play_media(hello, operation_context="second")
    call.connection.start_recognizing_media(
        RecognizeInputType.DTMF,
        call.person,
        dtmf_max_tones_to_collect=1,
        initial_silence_timeout=1,
        operation_context="third",
    )
    for context in ("first", "second"):
        call.wait("PlayStarted", operationContext=context)
        call.advance(1)  # hello.wav
    call.wait_for_recognize_phase("listening")
    call.advance(1)
    call.wait("RecognizeFailed", operationContext="third")
    assert context_order(call, "PlayStarted", "PlayCompleted", "RecognizeFailed") == [
        ("PlayStarted", "first"),
        ("PlayCompleted", "first"),
        ("PlayStarted", "second"),
        ("PlayCompleted", "second"),
        ("RecognizeFailed", "third"),
    ]


def test_play_to_one_runs_beside_the_main_queue(media_call, audio_server: AudioServer) -> None:
    call: MediaCall = media_call()
    call.connection.play_media(FileSource(audio_server.url("long.wav")), operation_context="all")
    call.connection.play_media(
        FileSource(audio_server.url("hello.wav")), play_to=[call.person], operation_context="one"
    )
    call.wait("PlayStarted", operationContext="one")
    call.advance(1)  # hello.wav; long.wav plays on for a minute
    call.wait("PlayCompleted", operationContext="one")
    assert [e["data"]["operationContext"] for e in call.events("PlayCompleted")] == ["one"]


MEDIA_EVENTS = (
    "PlayStarted",
    "PlayCompleted",
    "PlayFailed",
    "PlayCanceled",
    "RecognizeCompleted",
    "RecognizeFailed",
    "RecognizeCanceled",
    "SendDtmfTonesCompleted",
    "ContinuousDtmfRecognitionStopped",
)


def start_everything(call: MediaCall, audio: AudioServer) -> None:
    call.connection.play_media(FileSource(audio.url("hello.wav")), loop=True)
    call.connection.start_recognizing_media(
        RecognizeInputType.DTMF, call.person, dtmf_max_tones_to_collect=1, initial_silence_timeout=1
    )
    call.connection.start_continuous_dtmf_recognition(call.person)
    call.wait("PlayStarted")


ENDINGS = {
    "app-leaves": lambda call: call.connection.hang_up(is_for_everyone=False),
    "terminate": lambda call: call.connection.hang_up(is_for_everyone=True),
    "person-hangs-up": lambda call: call.hang_up_person(),
}


@pytest.mark.parametrize("end", ENDINGS.values(), ids=ENDINGS.keys())
def test_ending_the_call_drops_pending_media_silently(
    media_call, audio_server: AudioServer, end: Callable[[MediaCall], None]
) -> None:
    call: MediaCall = media_call()
    start_everything(call, audio_server)
    end(call)
    call.wait("CallDisconnected")
    call.advance(60)  # past the queued recognize's silence timeout and the music's end, had they survived
    after = call.types()[call.types().index("CallDisconnected") :]
    assert after == ["CallDisconnected"]
    assert call.types(*MEDIA_EVENTS) == ["PlayStarted"]


def test_a_person_leaving_a_group_call_drops_only_their_media(media_call, audio_server: AudioServer) -> None:
    call: MediaCall = media_call("+15551230000", "+15551230001")
    leaver, stayer = call.people
    call.connection.start_recognizing_media(
        RecognizeInputType.DTMF,
        leaver,
        dtmf_max_tones_to_collect=1,
        initial_silence_timeout=2,
        operation_context="leaver",
    )
    call.wait_for_recognize_phase("listening")
    call.hang_up_person(leaver)
    call.connection.play_media(FileSource(audio_server.url("hello.wav")), operation_context="still-here")
    call.connection.start_recognizing_media(
        RecognizeInputType.DTMF,
        stayer,
        dtmf_max_tones_to_collect=1,
        initial_silence_timeout=1,
        operation_context="stayer",
    )
    call.wait("PlayStarted", operationContext="still-here")
    call.advance(2)  # hello.wav, the stayer's silence timeout, and the leaver's had their recognize survived
    call.wait("RecognizeFailed", operationContext="stayer")
    assert call.wait("PlayCompleted")["data"]["operationContext"] == "still-here"
    assert [e["data"]["operationContext"] for e in call.events(*MEDIA_EVENTS) if "Recognize" in e["type"]] == ["stayer"]
