"""Participant operations driven by the real sync SDK: list, get, add, cancel add, remove, mute, move here."""

from collections.abc import Callable

import pytest
from azure.communication.callautomation import (
    CallAutomationClient,
    CallConnectionClient,
    CommunicationUserIdentifier,
    PhoneNumberIdentifier,
)
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from emulator.control_client import EmulatorControl
from emulator.server import EmulatorServer
from emulator.testing import CallbackRecorder

pytestmark = pytest.mark.usefixtures("conformant_events")

CALLER_ID = PhoneNumberIdentifier("+15550009999")
CUSTOMER = PhoneNumberIdentifier("+15551230000")
AGENT = PhoneNumberIdentifier("+15557770001")
ALICE = CommunicationUserIdentifier("8:acs:res_alice")
BOB = CommunicationUserIdentifier("8:acs:res_bob")
Call = tuple[CallConnectionClient, str]


def raw_ids(event: dict) -> set[str]:
    return {p["identifier"]["rawId"] for p in event["data"]["participants"]}


@pytest.fixture
def start_call(client: CallAutomationClient, recorder: CallbackRecorder) -> Callable[..., Call]:
    """start(*targets): a connected call from the app to the targets, once all of them are in it."""

    def start(*targets: PhoneNumberIdentifier | CommunicationUserIdentifier) -> Call:
        targets = targets or (CUSTOMER,)
        created = client.create_call(
            list(targets) if len(targets) > 1 else targets[0], recorder.url, source_caller_id_number=CALLER_ID
        )
        call_id = created.call_connection_id
        wanted = {t.raw_id for t in targets}
        recorder.wait_for("ParticipantsUpdated", call_connection_id=call_id, predicate=lambda e: wanted <= raw_ids(e))
        return client.get_call_connection(call_id), call_id

    return start


def test_list_and_get_participants_carry_identifier_kinds(start_call: Callable[..., Call]) -> None:
    connection, _ = start_call(CUSTOMER, ALICE)
    listed = {p.identifier.raw_id: p for p in connection.list_participants()}
    assert set(listed) == {CALLER_ID.raw_id, CUSTOMER.raw_id, ALICE.raw_id}
    assert listed[ALICE.raw_id].identifier == ALICE
    assert listed[CUSTOMER.raw_id].identifier == CUSTOMER
    assert connection.get_participant(ALICE).is_muted is False
    with pytest.raises(ResourceNotFoundError):
        connection.get_participant(AGENT)


def test_participant_list_pages_with_next_link(start_call: Callable[..., Call]) -> None:
    targets = [PhoneNumberIdentifier(f"+1555000{n:04d}") for n in range(24)]
    connection, _ = start_call(*targets)
    listed = [p.identifier.raw_id for p in connection.list_participants()]
    assert len(listed) == 25
    assert set(listed) == {CALLER_ID.raw_id, *(t.raw_id for t in targets)}


def test_add_participant_succeeds_and_updates_participants(
    start_call: Callable[..., Call], control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    connection, call_id = start_call()
    added = connection.add_participant(
        AGENT,
        source_caller_id_number=CALLER_ID,
        operation_context="add-agent",
        invitation_timeout=30,
        sip_headers={"X-MS-Custom-Queue": "billing"},
        voip_headers={"priority": "high"},
    )
    assert added.invitation_id
    assert added.participant.identifier == AGENT
    succeeded = recorder.wait_for("AddParticipantSucceeded", call_connection_id=call_id)
    assert succeeded["data"]["participant"]["rawId"] == AGENT.raw_id
    assert succeeded["data"]["operationContext"] == "add-agent"
    updated = recorder.wait_for(
        "ParticipantsUpdated", call_connection_id=call_id, predicate=lambda e: AGENT.raw_id in raw_ids(e)
    )
    assert raw_ids(updated) == {CALLER_ID.raw_id, CUSTOMER.raw_id, AGENT.raw_id}
    agent = next(p for p in control.call(call_id)["participants"] if p["rawId"] == AGENT.raw_id)
    assert agent["customContext"] == {
        "sipHeaders": {"X-MS-Custom-Queue": "billing"},
        "voipHeaders": {"priority": "high"},
    }


def test_add_phone_participant_needs_a_caller_id(start_call: Callable[..., Call]) -> None:
    connection, _ = start_call()
    with pytest.raises(HttpResponseError) as raised:
        connection.add_participant(AGENT)
    assert raised.value.status_code == 400
    assert "sourceCallerIdNumber" in raised.value.error.message


def test_add_participant_invitation_timeout_is_bounded(start_call: Callable[..., Call]) -> None:
    connection, _ = start_call()
    with pytest.raises(HttpResponseError) as raised:
        connection.add_participant(ALICE, invitation_timeout=181)
    assert "invitationTimeoutInSeconds" in raised.value.error.message


def test_add_participant_times_out_when_nobody_answers(
    emulator: EmulatorServer, start_call: Callable[..., Call], control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    control.set_behaviour(ALICE.raw_id, answer="answer", answer_after_ms=5000)
    connection, call_id = start_call()
    connection.add_participant(ALICE, invitation_timeout=2)
    emulator.advance(1.9)
    assert "AddParticipantFailed" not in recorder.types(call_id)
    emulator.advance(0.2)
    failed = recorder.wait_for("AddParticipantFailed", call_connection_id=call_id)
    assert failed["data"]["resultInformation"]["code"] == 408
    assert failed["data"]["participant"]["rawId"] == ALICE.raw_id
    assert ALICE.raw_id not in [p.identifier.raw_id for p in connection.list_participants()]


@pytest.mark.parametrize(("answer", "code", "sub_code"), [("decline", 603, 8538), ("busy", 486, 8539)])
def test_add_participant_declined_or_busy_fails(
    start_call: Callable[..., Call],
    control: EmulatorControl,
    recorder: CallbackRecorder,
    answer: str,
    code: int,
    sub_code: int,
) -> None:
    control.set_behaviour(AGENT.raw_id, answer=answer)
    connection, call_id = start_call()
    callback = recorder.url + "/adds"
    connection.add_participant(AGENT, source_caller_id_number=CALLER_ID, operation_callback_url=callback)
    failed = recorder.wait_for("AddParticipantFailed", call_connection_id=call_id)
    assert (failed["data"]["resultInformation"]["code"], failed["data"]["resultInformation"]["subCode"]) == (
        code,
        sub_code,
    )
    assert failed["_path"] == "/callbacks/adds"


def test_cancel_add_participant_stops_the_invitation(
    emulator: EmulatorServer, start_call: Callable[..., Call], control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    control.set_behaviour(ALICE.raw_id, answer="answer", answer_after_ms=400)
    connection, call_id = start_call()
    added = connection.add_participant(ALICE)
    canceled = connection.cancel_add_participant_operation(added.invitation_id, operation_context="never-mind")
    assert canceled.invitation_id == added.invitation_id
    event = recorder.wait_for("CancelAddParticipantSucceeded", call_connection_id=call_id)
    assert event["data"]["invitationId"] == added.invitation_id
    assert event["data"]["operationContext"] == "never-mind"
    emulator.advance(1)  # past the moment Alice would have answered
    assert "AddParticipantSucceeded" not in recorder.types(call_id)
    assert ALICE.raw_id not in {p["rawId"] for p in control.call(call_id)["participants"]}


def test_cancel_after_the_invitation_completed_fails(
    start_call: Callable[..., Call], recorder: CallbackRecorder
) -> None:
    connection, call_id = start_call()
    added = connection.add_participant(ALICE)
    recorder.wait_for("AddParticipantSucceeded", call_connection_id=call_id)
    connection.cancel_add_participant_operation(added.invitation_id)
    failed = recorder.wait_for("CancelAddParticipantFailed", call_connection_id=call_id)
    assert failed["data"]["invitationId"] == added.invitation_id


def test_cancel_unknown_invitation_is_404(start_call: Callable[..., Call]) -> None:
    connection, _ = start_call()
    with pytest.raises(ResourceNotFoundError):
        connection.cancel_add_participant_operation("00000000-0000-0000-0000-000000000000")


def test_remove_participant_in_group_call(start_call: Callable[..., Call], recorder: CallbackRecorder) -> None:
    connection, call_id = start_call(CUSTOMER, AGENT)
    result = connection.remove_participant(AGENT, operation_context="bye-agent")
    assert result.operation_context == "bye-agent"
    removed = recorder.wait_for("RemoveParticipantSucceeded", call_connection_id=call_id)
    assert removed["data"]["participant"]["rawId"] == AGENT.raw_id
    recorder.wait_for(
        "ParticipantsUpdated",
        call_connection_id=call_id,
        predicate=lambda e: raw_ids(e) == {CALLER_ID.raw_id, CUSTOMER.raw_id},
    )
    assert "CallDisconnected" not in recorder.types(call_id)


def test_removing_the_only_other_party_ends_a_one_to_one_call(
    start_call: Callable[..., Call], recorder: CallbackRecorder
) -> None:
    connection, call_id = start_call()
    connection.remove_participant(CUSTOMER)
    recorder.wait_for("CallDisconnected", call_connection_id=call_id)
    assert recorder.types(call_id)[-2:] == ["RemoveParticipantSucceeded", "CallDisconnected"]


def test_remove_someone_not_in_the_call_is_404(start_call: Callable[..., Call]) -> None:
    connection, _ = start_call()
    with pytest.raises(ResourceNotFoundError):
        connection.remove_participant(AGENT)


def test_mute_acs_user_shows_in_participants_updated(
    start_call: Callable[..., Call], recorder: CallbackRecorder
) -> None:
    connection, call_id = start_call(CUSTOMER, ALICE)
    result = connection.mute_participant(ALICE, operation_context="quiet")
    assert result.operation_context == "quiet"
    muted = recorder.wait_for(
        "ParticipantsUpdated",
        call_connection_id=call_id,
        predicate=lambda e: any(p["isMuted"] for p in e["data"]["participants"]),
    )
    assert [p["identifier"]["rawId"] for p in muted["data"]["participants"] if p["isMuted"]] == [ALICE.raw_id]
    assert connection.get_participant(ALICE).is_muted is True


def test_mute_phone_participant_is_400_naming_the_field(start_call: Callable[..., Call]) -> None:
    connection, _ = start_call()
    with pytest.raises(HttpResponseError) as raised:
        connection.mute_participant(CUSTOMER)
    assert raised.value.status_code == 400
    assert "targetParticipants[0]" in raised.value.error.message


def test_move_participants_here_from_another_call(
    start_call: Callable[..., Call], control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    lobby, lobby_id = start_call(CUSTOMER, AGENT)
    meeting, meeting_id = start_call(ALICE, BOB)
    moved = meeting.move_participants([AGENT], lobby_id, operation_context="move")
    assert moved.from_call == lobby_id
    assert [p.identifier for p in moved.participants] == [AGENT]
    succeeded = recorder.wait_for("MoveParticipantSucceeded", call_connection_id=meeting_id)
    assert succeeded["data"]["fromCall"] == lobby_id
    assert succeeded["data"]["participant"]["rawId"] == AGENT.raw_id
    recorder.wait_for(
        "ParticipantsUpdated", call_connection_id=meeting_id, predicate=lambda e: AGENT.raw_id in raw_ids(e)
    )
    recorder.wait_for(
        "ParticipantsUpdated", call_connection_id=lobby_id, predicate=lambda e: AGENT.raw_id not in raw_ids(e)
    )
    assert AGENT.raw_id not in [p.identifier.raw_id for p in lobby.list_participants()]


def test_move_someone_not_in_the_other_call_fails(start_call: Callable[..., Call], recorder: CallbackRecorder) -> None:
    _, lobby_id = start_call(CUSTOMER)
    meeting, meeting_id = start_call(ALICE, BOB)
    meeting.move_participants([AGENT], lobby_id)
    failed = recorder.wait_for("MoveParticipantFailed", call_connection_id=meeting_id)
    assert failed["data"]["fromCall"] == lobby_id
    assert failed["data"]["resultInformation"]["code"] == 404
