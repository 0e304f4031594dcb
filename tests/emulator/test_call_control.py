"""Call connection operations driven by the real sync SDK: create, answer, redirect, reject, connect, hang up,
terminate, transfer, and what the emulator's view of the call shows afterwards."""

import pytest
from azure.communication.callautomation import (
    CallAutomationClient,
    CommunicationUserIdentifier,
    PhoneNumberIdentifier,
)
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from emulator.control_client import ControlApiError, EmulatorControl, PlacedCall
from emulator.server import EmulatorServer
from emulator.testing import CallbackRecorder, EventGridRecorder

pytestmark = pytest.mark.usefixtures("conformant_events")

APP_NUMBER = "+18005550100"
CALLER_ID = PhoneNumberIdentifier("+15550009999")
CUSTOMER = PhoneNumberIdentifier("+15551230000")
AGENT = PhoneNumberIdentifier("+15557770001")
SUPERVISOR = PhoneNumberIdentifier("+15557770002")
ALICE = CommunicationUserIdentifier("8:acs:res_alice")
BOB = CommunicationUserIdentifier("8:acs:res_bob")


def raw_ids(event: dict) -> set[str]:
    return {p["identifier"]["rawId"] for p in event["data"]["participants"]}


def answered_call(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder, caller: str = CUSTOMER.raw_id
) -> tuple[PlacedCall, str]:
    """A customer calls the app's number and the app answers: (the placed call, its callConnectionId)."""
    placed = control.place_call(caller, APP_NUMBER)
    call_id = client.answer_call(placed.incoming_call_context, recorder.url).call_connection_id
    recorder.wait_for("ParticipantsUpdated", call_connection_id=call_id)
    return placed, call_id


def test_incoming_call_answered_connects_with_both_parties(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    placed = control.place_call(CUSTOMER.raw_id, APP_NUMBER)
    answered = client.answer_call(placed.incoming_call_context, recorder.url, operation_context="hello")
    assert answered.call_connection_state == "connecting"
    assert answered.server_call_id == placed.server_call_id
    assert answered.answered_for.raw_id == "4:" + APP_NUMBER
    connected = recorder.wait_for("CallConnected", call_connection_id=answered.call_connection_id)
    assert connected["data"]["operationContext"] == "hello"
    updated = recorder.wait_for("ParticipantsUpdated", call_connection_id=answered.call_connection_id)
    assert raw_ids(updated) == {CUSTOMER.raw_id, "4:" + APP_NUMBER}
    properties = client.get_call_connection(answered.call_connection_id).get_call_properties()
    assert properties.call_connection_state == "connected"
    assert properties.correlation_id == placed.correlation_id
    assert control.call(placed.server_call_id)["state"] == "connected"


def test_answer_records_answered_by(
    emulator: EmulatorServer, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    bot = CommunicationUserIdentifier("8:acs:res_bot")
    client = CallAutomationClient(emulator.url, AzureKeyCredential(emulator.config.access_key), source=bot)
    placed = control.place_call(CUSTOMER.raw_id, APP_NUMBER)
    answered = client.answer_call(placed.incoming_call_context, recorder.url)
    assert answered.answered_by.raw_id == bot.raw_id


def test_answering_twice_is_a_400_saying_it_was_answered(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    placed, _ = answered_call(client, control, recorder)
    with pytest.raises(HttpResponseError) as raised:
        client.answer_call(placed.incoming_call_context, recorder.url)
    assert raised.value.status_code == 400
    assert raised.value.error.code == "8585"
    assert "already answered" in raised.value.error.message


def test_garbage_incoming_call_context_is_a_400_naming_it(
    client: CallAutomationClient, recorder: CallbackRecorder
) -> None:
    with pytest.raises(HttpResponseError) as raised:
        client.answer_call("not-a-context", recorder.url)
    assert raised.value.status_code == 400
    assert "incomingCallContext" in raised.value.error.message


def test_reject_publishes_no_callbacks_and_ends_the_call(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    placed = control.place_call(CUSTOMER.raw_id, APP_NUMBER)
    client.reject_call(placed.incoming_call_context, call_reject_reason="busy")
    view = control.wait_for_call(placed.server_call_id, "ended")
    assert [p["state"] for p in view["participants"]] == ["left"]
    with pytest.raises(HttpResponseError) as raised:
        client.answer_call(placed.incoming_call_context, recorder.url)
    assert "already rejected" in raised.value.error.message
    assert recorder.events == []
    assert any(e["summary"] == "reject reason: busy" for e in control.timeline(placed.server_call_id))


def test_unanswered_call_stops_ringing_then_answer_fails(
    emulator: EmulatorServer, client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    placed = control.place_call(CUSTOMER.raw_id, APP_NUMBER)
    emulator.advance(emulator.config.ring_timeout_seconds - 0.1)
    assert control.call(placed.server_call_id)["state"] == "ringing"
    emulator.advance(0.2)
    assert control.call(placed.server_call_id)["state"] == "ended"
    with pytest.raises(HttpResponseError) as raised:
        client.answer_call(placed.incoming_call_context, recorder.url)
    assert raised.value.status_code == 400
    assert raised.value.error.code == "8587"


def test_redirect_to_acs_user_offers_a_new_incoming_call(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder, eventgrid: EventGridRecorder
) -> None:
    placed = control.place_call(CUSTOMER.raw_id, APP_NUMBER)
    client.redirect_call(placed.incoming_call_context, ALICE)
    offered = eventgrid.wait_for("IncomingCall", predicate=lambda e: e["data"]["to"]["rawId"] == ALICE.raw_id)
    assert offered["data"]["serverCallId"] == placed.server_call_id
    assert offered["data"]["from"]["rawId"] == CUSTOMER.raw_id
    assert recorder.events == []
    answered = client.answer_call(offered["data"]["incomingCallContext"], recorder.url)
    recorder.wait_for("CallConnected", call_connection_id=answered.call_connection_id)
    assert client.get_call_connection(answered.call_connection_id).get_participant(ALICE).identifier == ALICE


def test_redirect_to_a_number_rings_that_person_without_callbacks(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    placed = control.place_call(CUSTOMER.raw_id, APP_NUMBER)
    client.redirect_call(placed.incoming_call_context, AGENT)
    view = control.wait_for_call(
        placed.server_call_id,
        lambda v: any(p["rawId"] == AGENT.raw_id and p["state"] == "connected" for p in v["participants"]),
    )
    assert {p["rawId"] for p in view["participants"] if p["state"] == "connected"} == {CUSTOMER.raw_id, AGENT.raw_id}
    assert recorder.events == []


def test_create_call_to_phone_needs_a_caller_id(client: CallAutomationClient, recorder: CallbackRecorder) -> None:
    with pytest.raises(HttpResponseError) as raised:
        client.create_call(CUSTOMER, recorder.url)
    assert raised.value.status_code == 400
    assert "sourceCallerIdNumber" in raised.value.error.message


def test_declined_create_call_fails_without_connecting(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    control.set_behaviour(CUSTOMER.raw_id, answer="decline")
    created = client.create_call(CUSTOMER, recorder.url, source_caller_id_number=CALLER_ID, operation_context="out")
    failed = recorder.wait_for("CreateCallFailed", call_connection_id=created.call_connection_id)
    assert failed["data"]["resultInformation"]["subCode"] == 8538
    assert failed["data"]["operationContext"] == "out"
    assert recorder.types(created.call_connection_id) == ["CreateCallFailed"]
    with pytest.raises(ResourceNotFoundError):
        client.get_call_connection(created.call_connection_id).get_call_properties()


def test_group_call_connects_when_first_target_answers(
    emulator: EmulatorServer, client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    control.set_behaviour(AGENT.raw_id, answer="answer", answer_after_ms=500)
    created = client.create_call([CUSTOMER, AGENT], recorder.url, source_caller_id_number=CALLER_ID)
    recorder.wait_for("CallConnected", call_connection_id=created.call_connection_id)
    participants = control.call(created.call_connection_id)["participants"]
    assert [p["state"] for p in participants if p["rawId"] == AGENT.raw_id] == ["ringing"]
    emulator.advance(0.5)
    everyone = recorder.wait_for(
        "ParticipantsUpdated",
        call_connection_id=created.call_connection_id,
        predicate=lambda e: AGENT.raw_id in raw_ids(e),
    )
    assert raw_ids(everyone) == {CALLER_ID.raw_id, CUSTOMER.raw_id, AGENT.raw_id}
    assert control.call(created.call_connection_id)["isGroup"] is True


def test_hang_up_in_group_call_leaves_the_others(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    created = client.create_call([CUSTOMER, AGENT], recorder.url, source_caller_id_number=CALLER_ID)
    recorder.wait_for(
        "ParticipantsUpdated",
        call_connection_id=created.call_connection_id,
        predicate=lambda e: len(e["data"]["participants"]) == 3,
    )
    client.get_call_connection(created.call_connection_id).hang_up(is_for_everyone=False)
    disconnected = recorder.wait_for("CallDisconnected", call_connection_id=created.call_connection_id)
    assert "Call Automation API" in disconnected["data"]["resultInformation"]["message"]
    view = control.call(created.call_connection_id)
    assert view["state"] == "connected"
    assert {p["rawId"] for p in view["participants"] if p["state"] == "connected"} == {CUSTOMER.raw_id, AGENT.raw_id}


def test_terminate_in_group_call_ends_it_for_everyone(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    created = client.create_call([CUSTOMER, AGENT], recorder.url, source_caller_id_number=CALLER_ID)
    recorder.wait_for(
        "ParticipantsUpdated",
        call_connection_id=created.call_connection_id,
        predicate=lambda e: len(e["data"]["participants"]) == 3,
    )
    client.get_call_connection(created.call_connection_id).hang_up(is_for_everyone=True)
    recorder.wait_for("CallDisconnected", call_connection_id=created.call_connection_id)
    view = control.wait_for_call(created.call_connection_id, "ended")
    assert {p["state"] for p in view["participants"]} == {"left"}


def test_hang_up_in_one_to_one_call_ends_it_for_the_caller(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    placed, call_id = answered_call(client, control, recorder)
    client.get_call_connection(call_id).hang_up(is_for_everyone=False)
    recorder.wait_for("CallDisconnected", call_connection_id=call_id)
    assert control.wait_for_call(placed.server_call_id, "ended")


def test_no_events_and_404_after_call_disconnected(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    placed, call_id = answered_call(client, control, recorder)
    connection = client.get_call_connection(call_id)
    connection.hang_up(is_for_everyone=True)
    recorder.wait_for("CallDisconnected", call_connection_id=call_id)
    with pytest.raises(ResourceNotFoundError) as raised:
        connection.hold(CUSTOMER)
    assert raised.value.error.code == "8522"
    with pytest.raises(ResourceNotFoundError):
        connection.add_participant(AGENT, source_caller_id_number=CALLER_ID)
    with pytest.raises(ControlApiError) as refused:
        control.hang_up(placed.server_call_id, CUSTOMER.raw_id)
    assert refused.value.status == 409
    assert recorder.types(call_id)[-1] == "CallDisconnected"


def test_caller_hanging_up_disconnects_the_app(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    placed, call_id = answered_call(client, control, recorder)
    control.hang_up(placed.server_call_id, CUSTOMER.raw_id)
    disconnected = recorder.wait_for("CallDisconnected", call_connection_id=call_id)
    assert disconnected["data"]["resultInformation"] == {
        "code": 200,
        "subCode": 7000,
        "message": "The conversation has ended. DiagCode: 0#7000.@",
    }


@pytest.mark.parametrize("kind", ["server", "group", "room"])
def test_connect_by_each_locator(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder, kind: str
) -> None:
    if kind == "server":
        placed, _ = answered_call(client, control, recorder)
        connected = client.connect_call(recorder.url, server_call_id=placed.server_call_id, operation_context="join")
        assert connected.server_call_id == placed.server_call_id
    elif kind == "group":
        connected = client.connect_call(recorder.url, group_call_id="0f5ddc1e-1111-4a3e-9b0a-000000000001")
    else:
        connected = client.connect_call(recorder.url, room_id="99486837513245380")
    event = recorder.wait_for("CallConnected", call_connection_id=connected.call_connection_id)
    view = control.call(connected.call_connection_id)
    assert view["state"] == "connected"
    if kind == "server":
        assert event["data"]["operationContext"] == "join"
        assert len(view["connections"]) == 2
    else:
        assert view["isGroup"] is True
        assert view["groupCallId" if kind == "group" else "roomId"] is not None


def test_connect_to_existing_group_call_joins_it(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    first = client.connect_call(recorder.url, group_call_id="team-standup")
    second = client.connect_call(recorder.url, group_call_id="team-standup")
    recorder.wait_for("CallConnected", call_connection_id=second.call_connection_id)
    assert first.server_call_id == second.server_call_id


def test_connect_to_unknown_server_call_reports_connect_failed(
    client: CallAutomationClient, recorder: CallbackRecorder
) -> None:
    connected = client.connect_call(recorder.url, server_call_id="bm8tc3VjaC1jYWxs")
    failed = recorder.wait_for("ConnectFailed", call_connection_id=connected.call_connection_id)
    assert failed["data"]["resultInformation"]["code"] == 404
    assert recorder.types(connected.call_connection_id) == ["ConnectFailed"]
    with pytest.raises(ResourceNotFoundError):
        client.get_call_connection(connected.call_connection_id).get_call_properties()


def test_one_to_one_transfer_puts_caller_through_and_ends_the_app_leg(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    placed, call_id = answered_call(client, control, recorder)
    result = client.get_call_connection(call_id).transfer_call_to_participant(AGENT, operation_context="to-agent")
    assert result.operation_context == "to-agent"
    accepted = recorder.wait_for("CallTransferAccepted", call_connection_id=call_id)
    assert accepted["data"]["transferTarget"]["rawId"] == AGENT.raw_id
    assert accepted["data"]["transferee"]["rawId"] == CUSTOMER.raw_id
    assert accepted["data"]["operationContext"] == "to-agent"
    recorder.wait_for("CallDisconnected", call_connection_id=call_id)
    view = control.call(placed.server_call_id)
    assert view["state"] == "connected"
    assert {p["rawId"] for p in view["participants"] if p["state"] == "connected"} == {CUSTOMER.raw_id, AGENT.raw_id}


@pytest.mark.parametrize(("answer", "sub_code"), [("decline", 8538), ("busy", 8539), ("never", 8541)])
def test_transfer_the_target_does_not_take_fails(
    emulator: EmulatorServer,
    client: CallAutomationClient,
    control: EmulatorControl,
    recorder: CallbackRecorder,
    answer: str,
    sub_code: int,
) -> None:
    control.set_behaviour(AGENT.raw_id, answer=answer)
    _, call_id = answered_call(client, control, recorder)
    callback = recorder.url + "/transfers"
    client.get_call_connection(call_id).transfer_call_to_participant(AGENT, operation_callback_url=callback)
    emulator.advance(emulator.config.ring_timeout_seconds)  # long enough for someone who never answers
    failed = recorder.wait_for("CallTransferFailed", call_connection_id=call_id)
    assert failed["data"]["resultInformation"]["subCode"] == sub_code
    assert failed["_path"] == "/callbacks/transfers"
    assert client.get_call_connection(call_id).get_call_properties().call_connection_state == "connected"


def test_group_transfer_replaces_only_the_transferee(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    created = client.create_call([CUSTOMER, AGENT], recorder.url, source_caller_id_number=CALLER_ID)
    call_id = created.call_connection_id
    recorder.wait_for(
        "ParticipantsUpdated", call_connection_id=call_id, predicate=lambda e: len(e["data"]["participants"]) == 3
    )
    connection = client.get_call_connection(call_id)
    connection.transfer_call_to_participant(SUPERVISOR, transferee=AGENT)
    accepted = recorder.wait_for("CallTransferAccepted", call_connection_id=call_id)
    assert accepted["data"]["transferee"]["rawId"] == AGENT.raw_id
    updated = recorder.wait_for(
        "ParticipantsUpdated",
        call_connection_id=call_id,
        predicate=lambda e: SUPERVISOR.raw_id in raw_ids(e) and AGENT.raw_id not in raw_ids(e),
    )
    assert raw_ids(updated) == {CALLER_ID.raw_id, CUSTOMER.raw_id, SUPERVISOR.raw_id}
    assert connection.get_call_properties().call_connection_state == "connected"
    assert "CallDisconnected" not in recorder.types(call_id)


def test_group_transfer_needs_a_transferee(client: CallAutomationClient, recorder: CallbackRecorder) -> None:
    created = client.create_call([CUSTOMER, AGENT], recorder.url, source_caller_id_number=CALLER_ID)
    recorder.wait_for("CallConnected", call_connection_id=created.call_connection_id)
    with pytest.raises(HttpResponseError) as raised:
        client.get_call_connection(created.call_connection_id).transfer_call_to_participant(SUPERVISOR)
    assert raised.value.status_code == 400
    assert "transferee" in raised.value.error.message
