"""The HTTP API's call operations end to end: place, read, connect and announce, transfer, hang up, terminate."""

import uuid

from devhost.stack import LocalStack
from emulator.control_client import EmulatorControl
from emulator.scripting import ScriptedCaller
from tests.e2e.api_client import ALICE, BOB, CALLER_ID, CAROL, Api, callbacks, connected, place, wait_until


def test_call_to_an_acs_user_is_read_then_left(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    call_id = place(api, target=ALICE, displayName="Contoso")

    view = connected(api, call_id)
    assert {p["rawId"] for p in view["participants"]} >= {ALICE}
    assert view["flow"] == "api" and view["targets"][0]["rawId"] == ALICE
    status, alice = api.get(f"/calls/{call_id}/participants/{ALICE}")
    assert status == 200 and alice == {"rawId": ALICE, "kind": "communicationUser", "isMuted": False, "isOnHold": False}
    status, listed = api.get(f"/calls/{call_id}/participants")
    assert status == 200 and alice in listed["participants"]

    assert api.delete(f"/calls/{call_id}")[0] == 204
    control.wait_for_call(call_id, "ended")  # a 1:1 call ends when the app leaves
    assert callbacks(control, call_id, "CallDisconnected")
    assert api.call(call_id)["state"] == "disconnected"


def test_group_call_with_a_caller_id_is_terminated_for_everyone(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    call_id = place(api, targets=[BOB, ALICE], callerId=CALLER_ID)

    view = connected(api, call_id, count=3)
    assert view["callerId"] == CALLER_ID
    assert control.call(call_id)["isGroup"]

    assert api.post(f"/calls/{call_id}/terminate")[0] == 204
    assert all(p["state"] == "left" for p in control.wait_for_call(call_id, "ended")["participants"])


def test_the_same_idempotency_key_places_one_call(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = api.post("/calls", {"target": ALICE}, headers=key)
    second = api.post("/calls", {"target": ALICE}, headers=key)

    assert first[0] == second[0] == 201
    assert first[1]["callConnectionId"] == second[1]["callConnectionId"]


def test_announcement_into_an_ongoing_call(stack: LocalStack, control: EmulatorControl) -> None:
    caller = ScriptedCaller(control, "+14255550144").dial("+18005550100")
    caller.wait_for_prompt("Thank you for calling")
    server_call_id = caller.call_id

    api = Api(stack)
    status, joined = api.post(
        "/calls/connect", {"serverCallId": server_call_id, "announce": [{"text": "This call may be recorded."}]}
    )
    assert status == 201, joined

    caller.wait_for_prompt("This call may be recorded.")
    wait_until(lambda: api.call(joined["callConnectionId"])["step"] == "ended", "the announcer to leave")
    assert control.call(server_call_id)["state"] == "connected"  # the caller's call goes on
    caller.hang_up()


def test_connect_to_a_room(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    announce = [{"ssml": "<speak>Welcome</speak>"}]
    status, joined = api.post("/calls/connect", {"roomId": "99486837513245399", "stay": True, "announce": announce})
    assert status == 201, joined

    view = wait_until(lambda: (v := api.call(joined["callConnectionId"]))["step"] == "joined" and v, "announcement")
    assert view["flow"] == "announce"
    assert control.call(joined["callConnectionId"])["roomId"] == "99486837513245399"
    assert api.delete(f"/calls/{joined['callConnectionId']}")[0] == 204


def test_blind_transfer_of_a_one_to_one_call_with_context(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    call_id = place(api, target=BOB, callerId=CALLER_ID)
    connected(api, call_id)

    context = {"sipHeaders": {"User-To-User": "case=42"}}
    status, body = api.post(f"/calls/{call_id}/transfer", {"target": CAROL, "customContext": context})
    assert status == 202, body

    wait_until(lambda: callbacks(control, call_id, "CallTransferAccepted"), "CallTransferAccepted")
    view = control.call(call_id)
    carol = next(p for p in view["participants"] if p["rawId"] == f"4:{CAROL}")
    assert carol["state"] == "connected" and carol["customContext"] == {"sipHeaders": {"User-To-User": "case=42"}}
    assert view["connections"][0]["state"] == "disconnected"  # the app stepped out


def test_transfer_of_one_participant_of_a_group_call(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    call_id = place(api, targets=[BOB, ALICE], callerId=CALLER_ID)
    connected(api, call_id, count=3)

    status, body = api.post(f"/calls/{call_id}/transfer", {"target": CAROL, "transferee": BOB})
    assert status == 202, body

    view = wait_until(
        lambda: (v := api.call(call_id)) and {p["rawId"] for p in v["participants"]} >= {f"4:{CAROL}"} and v,
        "Carol to replace Bob",
    )
    assert f"4:{BOB}" not in {p["rawId"] for p in view["participants"]}
    assert api.post(f"/calls/{call_id}/terminate")[0] == 204


def test_bad_requests_name_what_is_wrong(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    status, body = api.post("/calls", {"target": "425-555-0101"})
    assert status == 400 and body["error"]["message"].startswith("target must be an E.164 phone number")
    status, body = api.post("/calls", {"target": BOB, "flow": "karaoke"})
    assert status == 400 and body["error"]["message"].startswith("flow must be one of")
    status, body = api.post("/calls", {"target": BOB, "customContext": {"voipHeaders": {"a": "b"}}})
    assert status == 400 and "customContext" in body["error"]["message"]
    status, body = api.get("/calls/00000000-0000-0000-0000-000000000000")
    assert status == 404 and body["error"]["message"].startswith("ACS rejected the request")
    status, body = api.post("/calls/connect", {"serverCallId": "x", "roomId": "y"})
    assert status == 400 and "exactly one of serverCallId" in body["error"]["message"]


def test_the_document_is_served_and_every_other_path_answers_in_the_error_shape(stack: LocalStack) -> None:
    api = Api(stack)

    status, document = api.get("/openapi.json")
    assert status == 200 and "/calls/{callId}/transfer" in document["paths"]
    assert api.get("/nowhere")[0] == 404
    status, body = api.request("PUT", "/calls/call-1")
    assert status == 405 and body["error"]["code"] == "MethodNotAllowed"
    status, body = api.get("/callbacks")  # the callback route takes POST only; the API's catch-all answers
    assert status == 404 and set(body["error"]) == {"code", "message"}
