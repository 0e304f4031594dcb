"""Recording end to end: the IVR records its calls into Azurite, pauses while a card number is keyed, indexes the file.

The local stack records the IVR (RECORDING_ENABLED_FLOWS=ivr in the sample settings) into the Azurite container
the stack names in RECORDING_CONTAINER_URL.
"""

from __future__ import annotations

import io
import json
import wave
from array import array
from typing import Any

import pytest
from azure.storage.blob import BlobClient

from devhost.stack import LocalStack
from emulator.control_client import EmulatorControl
from emulator.scripting import ScriptedCaller
from tests.e2e.api_client import Api
from tests.e2e.helpers import post_event_grid, read_call_state, wait_for_app_connection, wait_until

CARD = "4242424242424242"  # a Luhn-valid test card number


def blob(stack: LocalStack, url: str) -> bytes:
    assert stack.azurite is not None
    connection = dict(item.split("=", 1) for item in stack.azurite.connection_string.split(";") if "=" in item)
    key = {"account_name": connection["AccountName"], "account_key": connection["AccountKey"]}
    with BlobClient.from_blob_url(url, credential=key) as client:
        return client.download_blob().readall()


def finished_recordings(api: Api, call: str) -> list[dict[str, Any]]:
    status, body = api.get(f"/calls/{call}/recordings")
    assert status == 200, body
    return body["recordings"]


def pay_by_card(control: EmulatorControl, number: str) -> tuple[ScriptedCaller, str]:
    """A caller who chooses "pay a bill", keys a card number and hears it accepted; returns the caller and call."""
    caller = ScriptedCaller(control, number).dial("+18005550100")
    connection_id = wait_for_app_connection(control, caller.call_id)
    caller.wait_for_prompt("press 3")
    caller.press("3")
    caller.wait_for_prompt("card number")
    caller.press(CARD + "#")
    assert caller.wait_for_prompt("card ending in") == "Thank you. The card ending in 4 2 4 2 has been accepted."
    caller.wait_until_listening()  # back at the main menu
    return caller, connection_id


def samples(wav_bytes: bytes, start_s: float, end_s: float) -> array:
    with wave.open(io.BytesIO(wav_bytes)) as wav:
        rate = wav.getframerate()
        wav.setpos(int(start_s * rate))
        frames = wav.readframes(max(int((end_s - start_s) * rate), 0))
    return array("h", frames)


@pytest.mark.slow  # a payment call with a recording read back: over 2 s
def test_card_digits_are_not_recorded(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    caller, call = pay_by_card(control, "+14255550161")
    caller.hang_up()
    caller.wait_until_ended()

    # The recording paused before the first key of the card and resumed only after the last one.
    events = [(e["kind"], e["summary"]) for e in caller.timeline]
    paused = events.index(("emulator", "recording paused"))
    keyed = next(i for i, (kind, summary) in enumerate(events) if kind == "person" and "pressed four two" in summary)
    resumed = events.index(("emulator", "recording active"))
    assert paused < keyed < resumed, events

    # The file lands in the app's container and is indexed under the call.
    [recording] = wait_until(lambda: finished_recordings(api, call), "the recording's index row", timeout=15)
    assert recording["sessionEndReason"] == "CallEnded" and recording["formatType"] == "Wav"
    [chunk] = recording["chunks"]
    assert chunk["contentLocation"].startswith(
        f"http://127.0.0.1:{stack.azurite.blob_port}/devstoreaccount1/recordings/"
    )
    metadata = json.loads(blob(stack, chunk["metadataLocation"]))["emulator"]
    assert metadata["recordingId"] == recording["recordingId"]
    [gap] = metadata["pausedIntervals"]
    assert [span["startMs"] for span in metadata["activeIntervals"]] == [0, gap["endMs"]]

    # ...and the WAV is a tone while recording and silence while the card was keyed.
    wav = blob(stack, chunk["contentLocation"])
    scale = metadata["wavTimeScale"] / 1000
    margin = 0.05 * (gap["endMs"] - gap["startMs"]) * scale
    assert not any(samples(wav, gap["startMs"] * scale + margin, gap["endMs"] * scale - margin))
    first = metadata["activeIntervals"][0]
    assert any(samples(wav, first["startMs"] * scale, first["endMs"] * scale))

    # The call's state keeps the last four digits and the recording's history, never the number.
    state = read_call_state(stack, call)
    assert state is not None and state["data"]["payment"] == {"card_last4": "4242"}
    assert CARD not in json.dumps(state, default=str)
    assert [entry[1] for entry in state["data"]["recording"]["history"]] == ["active", "inactive", "active"]


def test_a_redelivered_file_event_leaves_one_index_row(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    caller = ScriptedCaller(control, "+14255550162").dial("+18005550100")
    call = wait_for_app_connection(control, caller.call_id)
    caller.wait_for_prompt("press 1")
    caller.wait_for_event("RecordingStateChanged")  # the recording starts just after the greeting is sent
    caller.hang_up()
    [first] = wait_until(lambda: finished_recordings(api, call), "the recording's index row", timeout=15)
    [event] = [
        event
        for delivery in control.deliveries("eventgrid")
        for event in delivery["events"]
        if event["eventType"].endswith("RecordingFileStatusUpdated") and first["recordingId"] in event["subject"]
    ]

    response = post_event_grid(stack, [event], function_name="recording_file_status")

    assert response.ok, response.text
    assert finished_recordings(api, call) == [first]


def test_starting_a_second_recording_is_a_clear_conflict(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    caller = ScriptedCaller(control, "+14255550163").dial("+18005550100")
    call = wait_for_app_connection(control, caller.call_id)
    caller.wait_for_prompt("press 1")
    recording_id = wait_until(
        lambda: (read_call_state(stack, call) or {}).get("data", {}).get("recording", {}).get("id"), "the recording id"
    )

    status, body = api.post(f"/calls/{call}/recording")

    assert status == 409, body
    assert body["error"]["message"] == f"call {call} is already being recorded (recording {recording_id})"
    caller.hang_up()


def test_agent_pauses_and_resumes_the_recording(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    caller = ScriptedCaller(control, "+14255550164").dial("+18005550100")
    call = wait_for_app_connection(control, caller.call_id)
    caller.wait_for_prompt("press 1")

    assert api.post(f"/calls/{call}/recording/pause")[0] == 202
    wait_until(lambda: any(e["summary"] == "recording paused" for e in caller.timeline), "the pause")
    assert api.post(f"/calls/{call}/recording/resume")[0] == 202
    wait_until(lambda: any(e["summary"] == "recording active" for e in caller.timeline), "the resume")
    assert api.delete(f"/calls/{call}/recording")[0] == 204
    [recording] = wait_until(lambda: finished_recordings(api, call), "the stopped recording's index row", timeout=15)

    assert recording["sessionEndReason"] == "StopRecordingRequested"
    status, body = api.delete(f"/calls/{call}/recording")
    assert status == 409 and "not being recorded" in body["error"]["message"]
    caller.hang_up()


def test_recordings_of_an_unknown_call_are_not_found(stack: LocalStack) -> None:
    status, body = Api(stack).get("/calls/no-such-call/recordings")

    assert status == 404 and body["error"]["message"] == "call no-such-call is not known to this app"
