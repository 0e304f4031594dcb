"""Per-api-version answers, driven by the real SDK pinned to an older api-version (its `api_version=` option)."""

import pytest
from azure.communication.callautomation import CallAutomationClient, FileSource, PhoneNumberIdentifier
from azure.core.credentials import AzureKeyCredential

from emulator.clock import VirtualClock
from emulator.server import EmulatorServer
from emulator.testing import CallbackRecorder
from emulator.versions import at_least, event_type_for, shape, shape_of, status_for
from tests.emulator.conftest import AudioServer
from tests.emulator.stream_support import eventually

CALLER_ID = PhoneNumberIdentifier("+15550009999")
CUSTOMER = PhoneNumberIdentifier("+15551230000")


def test_previews_answer_like_the_stable_release_they_led_to() -> None:
    assert shape_of("2024-09-01-preview") == "2024-09-15"
    assert shape_of("2025-08-15-preview") == "2026-03-12"
    assert shape_of("2023-10-15") == "2023-10-15"
    assert at_least("2024-09-01-preview", "2024-09-15") and not at_least("2024-04-15", "2024-09-15")


def test_events_and_fields_follow_the_version() -> None:
    assert event_type_for("PlayStarted", "2023-10-15") is None
    assert event_type_for("CreateCallFailed", "2024-04-15") == "CallDisconnected"
    assert event_type_for("HoldAudioStarted", "2026-03-12") == "HoldAudioStarted"
    participants = {"participants": [{"identifier": {}, "isMuted": False, "isOnHold": True}], "sequenceNumber": 1}
    old = shape("ParticipantsUpdated", {**participants, "resultInformation": {}}, "2023-10-15")
    assert old == {"participants": [{"identifier": {}, "isMuted": False}], "sequenceNumber": 1}
    assert status_for("CallRecording_StartRecording", "2025-05-15", 202) == 200
    assert status_for("CallRecording_StartRecording", "2025-06-15", 202) == 202


@pytest.mark.parametrize(("api_version", "status"), [("2023-10-15", 200), ("2025-05-15", 200), ("2026-03-12", 202)])
def test_start_recording_answers_the_status_of_the_version(
    emulator: EmulatorServer, recorder: CallbackRecorder, api_version: str, status: int
) -> None:
    client = CallAutomationClient(emulator.url, AzureKeyCredential(emulator.config.access_key), api_version=api_version)
    call_id = client.create_call(CUSTOMER, recorder.url, source_caller_id_number=CALLER_ID).call_connection_id
    connected = recorder.wait_for("CallConnected", call_connection_id=call_id)
    assert connected["data"]["version"] == api_version
    assert ("resultInformation" in connected["data"]) is (api_version != "2023-10-15")
    server_call_id = client.get_call_connection(call_id).get_call_properties().server_call_id
    statuses: list[int] = []
    client.start_recording(
        server_call_id=server_call_id, raw_response_hook=lambda r: statuses.append(r.http_response.status_code)
    )
    assert statuses == [status]


def test_an_old_version_hears_no_play_started(
    emulator: EmulatorServer, recorder: CallbackRecorder, audio_server: AudioServer
) -> None:
    client = CallAutomationClient(
        emulator.url, AzureKeyCredential(emulator.config.access_key), api_version="2023-10-15"
    )
    call_id = client.create_call(CUSTOMER, recorder.url, source_caller_id_number=CALLER_ID).call_connection_id
    recorder.wait_for("CallConnected", call_connection_id=call_id)
    client.get_call_connection(call_id).play_media(FileSource(audio_server.url("hello.wav")))
    clock = emulator.clock
    assert isinstance(clock, VirtualClock)

    async def timers() -> int:
        return clock.pending

    eventually(lambda: emulator.run(timers()), "the play to start")  # no PlayStarted says so in this version
    emulator.advance(1)  # hello.wav
    recorder.wait_for("PlayCompleted", call_connection_id=call_id)
    types = [e["type"].rsplit(".", 1)[-1] for e in recorder.matching(call_connection_id=call_id)]
    assert "PlayStarted" not in types
    [updated] = [e for e in recorder.matching(call_connection_id=call_id) if e["type"].endswith("ParticipantsUpdated")]
    assert all("isOnHold" not in p for p in updated["data"]["participants"])
