"""Every call-control and participant operation once more through the SDK's aio client."""

import pytest
from azure.communication.callautomation import CommunicationUserIdentifier, PhoneNumberIdentifier
from azure.communication.callautomation.aio import CallAutomationClient
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from emulator.control_client import EmulatorControl
from emulator.testing import CallbackRecorder, EventGridRecorder

pytestmark = pytest.mark.usefixtures("conformant_events")

APP_NUMBER = "+18005550100"
CALLER_ID = PhoneNumberIdentifier("+15550009999")
CUSTOMER = PhoneNumberIdentifier("+15551230000")
AGENT = PhoneNumberIdentifier("+15557770001")
ALICE = CommunicationUserIdentifier("8:acs:res_alice")
BOB = CommunicationUserIdentifier("8:acs:res_bob")


def raw_ids(event: dict) -> set[str]:
    return {p["identifier"]["rawId"] for p in event["data"]["participants"]}


async def test_answer_transfer_and_hang_up(
    aio_client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    placed = control.place_call(CUSTOMER.raw_id, APP_NUMBER)
    answered = await aio_client.answer_call(placed.incoming_call_context, recorder.url)
    call_id = answered.call_connection_id
    recorder.wait_for("CallConnected", call_connection_id=call_id)
    connection = aio_client.get_call_connection(call_id)
    assert (await connection.get_call_properties()).call_connection_state == "connected"
    await connection.transfer_call_to_participant(AGENT)
    recorder.wait_for("CallTransferAccepted", call_connection_id=call_id)
    recorder.wait_for("CallDisconnected", call_connection_id=call_id)
    with pytest.raises(ResourceNotFoundError):
        await connection.hang_up(is_for_everyone=False)


async def test_reject_and_redirect_publish_no_callbacks(
    aio_client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder, eventgrid: EventGridRecorder
) -> None:
    rejected = control.place_call(CUSTOMER.raw_id, APP_NUMBER)
    await aio_client.reject_call(rejected.incoming_call_context, call_reject_reason="forbidden")
    redirected = control.place_call(AGENT.raw_id, APP_NUMBER)
    await aio_client.redirect_call(redirected.incoming_call_context, ALICE)
    eventgrid.wait_for("IncomingCall", predicate=lambda e: e["data"]["to"]["rawId"] == ALICE.raw_id)
    with pytest.raises(HttpResponseError) as raised:
        await aio_client.answer_call(redirected.incoming_call_context, recorder.url)
    assert "already redirected" in raised.value.error.message
    assert control.wait_for_call(rejected.server_call_id, "ended")
    assert recorder.events == []


async def test_connect_group_call_and_terminate(
    aio_client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    joined = await aio_client.connect_call(recorder.url, group_call_id="aio-group")
    recorder.wait_for("CallConnected", call_connection_id=joined.call_connection_id)
    by_server_id = await aio_client.connect_call(recorder.url, server_call_id=joined.server_call_id)
    recorder.wait_for("CallConnected", call_connection_id=by_server_id.call_connection_id)
    room = await aio_client.connect_call(recorder.url, room_id="aio-room")
    recorder.wait_for("CallConnected", call_connection_id=room.call_connection_id)
    await aio_client.get_call_connection(joined.call_connection_id).hang_up(is_for_everyone=True)
    recorder.wait_for("CallDisconnected", call_connection_id=by_server_id.call_connection_id)
    assert control.call(joined.server_call_id)["state"] == "ended"


async def test_participant_operations(
    aio_client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    created = await aio_client.create_call([CUSTOMER, ALICE], recorder.url, source_caller_id_number=CALLER_ID)
    call_id = created.call_connection_id
    recorder.wait_for("ParticipantsUpdated", call_connection_id=call_id, predicate=lambda e: len(raw_ids(e)) == 3)
    connection = aio_client.get_call_connection(call_id)
    assert {p.identifier.raw_id async for p in connection.list_participants()} == {
        CALLER_ID.raw_id,
        CUSTOMER.raw_id,
        ALICE.raw_id,
    }

    await connection.mute_participant(ALICE)
    recorder.wait_for(
        "ParticipantsUpdated",
        call_connection_id=call_id,
        predicate=lambda e: any(p["isMuted"] for p in e["data"]["participants"]),
    )

    control.set_behaviour(BOB.raw_id, answer="never")
    pending = await connection.add_participant(BOB, invitation_timeout=60)
    await connection.cancel_add_participant_operation(pending.invitation_id)
    recorder.wait_for("CancelAddParticipantSucceeded", call_connection_id=call_id)

    await connection.add_participant(AGENT, source_caller_id_number=CALLER_ID)
    recorder.wait_for("AddParticipantSucceeded", call_connection_id=call_id)
    await connection.remove_participant(AGENT)
    recorder.wait_for("RemoveParticipantSucceeded", call_connection_id=call_id)

    other = await aio_client.create_call(CommunicationUserIdentifier("8:acs:res_carol"), recorder.url)
    recorder.wait_for("CallConnected", call_connection_id=other.call_connection_id)
    moved = await aio_client.get_call_connection(other.call_connection_id).move_participants([ALICE], call_id)
    assert moved.from_call == call_id
    recorder.wait_for("MoveParticipantSucceeded", call_connection_id=other.call_connection_id)


async def test_get_participant(aio_client: CallAutomationClient, recorder: CallbackRecorder) -> None:
    created = await aio_client.create_call(ALICE, recorder.url)
    recorder.wait_for("CallConnected", call_connection_id=created.call_connection_id)
    connection = aio_client.get_call_connection(created.call_connection_id)
    assert (await connection.get_participant(ALICE)).identifier == ALICE
