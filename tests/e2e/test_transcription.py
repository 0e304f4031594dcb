"""Live transcription end to end: what the caller says reaches the receiver, Table Storage and the HTTP API."""

from __future__ import annotations

from devhost.stack import LocalStack
from emulator.control_client import EmulatorControl
from emulator.scripting import ScriptedCaller
from tests.e2e.api_client import BOB, CALLER_ID, Api, callbacks, connected, place
from tests.e2e.helpers import read_call_state, wait_for_app_connection, wait_until


def transcript(api: Api, call: str) -> list[dict]:
    status, body = api.get(f"/calls/{call}/transcript")
    assert status == 200, body
    return body["lines"]


def test_what_the_caller_says_arrives_in_the_transcript(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    caller = ScriptedCaller(control, "+14255550171").dial("+18005550100")
    call = wait_for_app_connection(control, caller.call_id)
    caller.wait_for_prompt("press 1")
    assert api.post(f"/calls/{call}/transcription") == (202, {"transcription": "starting", "locale": "en-US"})
    wait_until(lambda: callbacks(control, caller.call_id, "TranscriptionStarted"), "TranscriptionStarted")
    caller.say("order status")
    caller.wait_for_prompt("order number")  # the IVR heard it too

    [line] = wait_until(lambda: transcript(api, call), "a transcript line")

    assert line["text"] == "order status" and line["speaker"] == caller.raw_id
    assert line["locale"] == "en-US" and 0 < line["confidence"] <= 1
    caller.hang_up()


def test_agent_changes_the_language_then_stops_transcription(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    caller = ScriptedCaller(control, "+14255550172").dial("+18005550100")
    call = wait_for_app_connection(control, caller.call_id)
    caller.wait_for_prompt("press 1")
    assert api.post(f"/calls/{call}/transcription")[0] == 202
    wait_until(lambda: callbacks(control, caller.call_id, "TranscriptionStarted"), "TranscriptionStarted")

    status, body = api.request("PATCH", f"/calls/{call}/transcription", {"locale": "fr-FR"})
    assert (status, body) == (202, {"transcription": "updating", "locale": "fr-FR"})
    wait_until(lambda: callbacks(control, caller.call_id, "TranscriptionUpdated"), "TranscriptionUpdated")
    assert api.delete(f"/calls/{call}/transcription")[0] == 202
    wait_until(lambda: callbacks(control, caller.call_id, "TranscriptionStopped"), "TranscriptionStopped")

    def noted() -> dict | None:
        note = (read_call_state(stack, call) or {}).get("data", {}).get("transcription", {})
        return note if note.get("status") == "transcriptionStopped" else None

    note = wait_until(noted, "TranscriptionStopped noted on the call's state")
    assert note["locale"] == "fr-FR"
    assert [entry[1] for entry in note["history"]] == [
        "subscriptionStarted",
        "transcriptionLocaleUpdated",
        "subscriptionStopped",
    ]
    status, body = api.request("PATCH", f"/calls/{call}/transcription", {"locale": "english"})
    assert status == 400 and body["error"]["message"] == 'locale must be a locale such as "en-US"'
    caller.hang_up()


def test_transcript_of_an_unknown_call_is_not_found(stack: LocalStack) -> None:
    status, body = Api(stack).get("/calls/no-such-call/transcript")

    assert status == 404 and body["error"]["message"] == "call no-such-call is not known to this app"


def test_a_call_the_app_placed_can_be_transcribed_too(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    call = place(api, target=BOB, callerId=CALLER_ID)
    connected(api, call)

    assert api.post(f"/calls/{call}/transcription")[0] == 202
    wait_until(lambda: callbacks(control, call, "TranscriptionStarted"), "TranscriptionStarted")
    control.say(call, BOB, "hello from the other side")

    [line] = wait_until(lambda: transcript(api, call), "a transcript line")
    assert line["text"] == "hello from the other side" and line["speaker"] == f"4:{BOB}"
    api.post(f"/calls/{call}/terminate")
