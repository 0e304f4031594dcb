"""The HTTP API's participant operations end to end: add, cancel an add, remove, mute, hold and unhold."""

from devhost.stack import LocalStack
from emulator.control_client import EmulatorControl
from tests.e2e.api_client import ALICE, BOB, CALLER_ID, Api, callbacks, connected, place, requests_of, wait_until

SUPERVISOR = "8:acs:00000000-0000-4000-8000-000000000001_00000000-0000-4000-8000-00000005e9e7"
SLOW = "+14255550145"


def person(control: EmulatorControl, call_id: str, raw_id: str) -> dict | None:
    return next((p for p in control.call(call_id)["participants"] if p["rawId"] == raw_id), None)


def test_supervisor_is_added_with_context_then_removed(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    call_id = place(api, target=BOB, callerId=CALLER_ID)
    connected(api, call_id)

    status, added = api.post(
        f"/calls/{call_id}/participants",
        {"participant": SUPERVISOR, "invitationTimeout": 20, "customContext": {"voipHeaders": {"case": "42"}}},
    )
    assert status == 202 and added["invitationId"], added
    wait_until(lambda: callbacks(control, call_id, "AddParticipantSucceeded"), "AddParticipantSucceeded")
    assert person(control, call_id, SUPERVISOR)["customContext"] == {"voipHeaders": {"case": "42"}}
    [invite] = requests_of(control, call_id, "CallConnection_AddParticipant")
    assert invite["body"]["invitationTimeoutInSeconds"] == 20

    assert api.delete(f"/calls/{call_id}/participants/{SUPERVISOR}")[0] == 202
    wait_until(lambda: person(control, call_id, SUPERVISOR)["state"] == "left", "the supervisor to leave")
    assert callbacks(control, call_id, "RemoveParticipantSucceeded")
    api.post(f"/calls/{call_id}/terminate")


def test_pending_invitation_is_canceled(stack: LocalStack, control: EmulatorControl) -> None:
    control.set_behaviour(SLOW, "never")
    api = Api(stack)
    call_id = place(api, target=ALICE)
    connected(api, call_id)

    status, added = api.post(f"/calls/{call_id}/participants", {"participant": SLOW, "callerId": CALLER_ID})
    assert status == 202, added
    [invite] = requests_of(control, call_id, "CallConnection_AddParticipant")
    assert invite["body"]["sourceCallerIdNumber"] == {"value": CALLER_ID}

    assert api.delete(f"/calls/{call_id}/invitations/{added['invitationId']}")[0] == 202
    wait_until(lambda: callbacks(control, call_id, "CancelAddParticipantSucceeded"), "the cancellation")
    assert person(control, call_id, f"4:{SLOW}") is None
    api.post(f"/calls/{call_id}/terminate")


def test_mute_hold_with_music_and_unhold(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    call_id = place(api, targets=[ALICE, BOB], callerId=CALLER_ID)
    connected(api, call_id, count=3)

    assert api.post(f"/calls/{call_id}/participants/{ALICE}/mute")[0] == 200
    music = {"music": [{"audioUrl": f"{stack.emulator.url}/emulator/media/hold-music.wav"}]}
    assert api.post(f"/calls/{call_id}/participants/{BOB}/hold", music)[0] == 200

    view = wait_until(
        lambda: (v := api.call(call_id)) and any(p["isOnHold"] for p in v["participants"]) and v, "Bob to be on hold"
    )
    by_id = {p["rawId"]: p for p in view["participants"]}
    assert by_id[ALICE]["isMuted"] and by_id[f"4:{BOB}"]["isOnHold"]
    [hold] = requests_of(control, call_id, "CallMedia_Hold")
    assert hold["body"]["playSourceInfo"]["file"]["uri"].endswith("hold-music.wav")

    assert api.post(f"/calls/{call_id}/participants/{BOB}/unhold")[0] == 200
    assert not person(control, call_id, f"4:{BOB}")["isOnHold"]
    api.post(f"/calls/{call_id}/terminate")


def test_participant_errors(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    call_id = place(api, target=ALICE)
    connected(api, call_id)

    status, body = api.get(f"/calls/{call_id}/participants/+14255550000")
    assert status == 404, body
    status, body = api.post(f"/calls/{call_id}/participants", {"participant": ALICE, "invitationTimeout": 500})
    assert status == 400 and body["error"]["message"] == "invitationTimeout must be an integer from 1 to 180"
    status, body = api.post(f"/calls/{call_id}/participants/{BOB}/mute")
    assert status in (400, 404), body  # not in the call, and ACS mutes only ACS users
    api.post(f"/calls/{call_id}/terminate")
