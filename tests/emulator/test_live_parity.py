"""Behaviours where the emulator follows the live service's captures and docs (issue 11), driven by the real SDK."""

import base64
import re

import pytest
from azure.communication.callautomation import (
    CallAutomationClient,
    ChannelAffinity,
    CommunicationUserIdentifier,
    FileSource,
    PhoneNumberIdentifier,
)
from azure.core.credentials import AzureKeyCredential

from emulator.control_client import EmulatorControl
from emulator.recording.operations import FILE_READY_SECONDS
from emulator.server import EmulatorServer
from emulator.testing import CallbackRecorder, EventGridRecorder
from tests.emulator.conftest import AudioServer, MediaCall

pytestmark = pytest.mark.usefixtures("conformant_events")

CALLER_ID = PhoneNumberIdentifier("+15550009999")
CUSTOMER = PhoneNumberIdentifier("+15551230000")
SECOND = PhoneNumberIdentifier("+15551230001")


def on_hold(event: dict, raw_id: str) -> bool:
    return next(p["isOnHold"] for p in event["data"]["participants"] if p["identifier"]["rawId"] == raw_id)


def test_create_call_with_a_source_user_makes_that_user_the_app_leg(
    emulator: EmulatorServer, recorder: CallbackRecorder
) -> None:
    bot = CommunicationUserIdentifier(f"8:acs:{emulator.config.resource_id}_bot")
    client = CallAutomationClient(emulator.url, AzureKeyCredential(emulator.config.access_key), source=bot)
    created = client.create_call(CUSTOMER, recorder.url, source_caller_id_number=CALLER_ID)
    assert created.source == bot
    recorder.wait_for("CallConnected", call_connection_id=created.call_connection_id)
    listed = {p.identifier.raw_id for p in client.get_call_connection(created.call_connection_id).list_participants()}
    assert listed == {bot.raw_id, CUSTOMER.raw_id}


def test_a_call_to_a_user_routed_to_an_app_is_answered_by_that_app(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder, eventgrid: EventGridRecorder
) -> None:
    user = CommunicationUserIdentifier("8:acs:res_other-app")
    control.set_behaviour(user.raw_id, answer="app")
    caller = client.create_call(user, recorder.url + "/a", source_caller_id_number=CALLER_ID).call_connection_id
    offer = eventgrid.wait_for("IncomingCall", predicate=lambda e: e["data"]["to"]["rawId"] == user.raw_id)
    callee = client.answer_call(offer["data"]["incomingCallContext"], recorder.url + "/b").call_connection_id
    recorder.wait_for("CallConnected", call_connection_id=caller)
    recorder.wait_for("CallConnected", call_connection_id=callee)
    legs = {caller, callee}
    updated = recorder.wait_for(
        "ParticipantsUpdated", call_connection_id=caller, predicate=lambda e: len(e["data"]["participants"]) == 2
    )
    assert {p["identifier"]["rawId"] for p in updated["data"]["participants"]} == {CALLER_ID.raw_id, user.raw_id}
    assert control.call(caller)["state"] == "connected"  # two app legs and no person: the call goes on
    client.get_call_connection(callee).hang_up(is_for_everyone=False)
    recorder.wait_for("CallDisconnected", call_connection_id=caller)
    assert legs == {e["data"]["callConnectionId"] for e in recorder.matching("CallDisconnected")}


def test_a_group_call_ends_once_only_app_legs_remain(
    media_call, eventgrid: EventGridRecorder, client: CallAutomationClient
) -> None:
    call: MediaCall = media_call(CUSTOMER.raw_id.removeprefix("4:"), SECOND.raw_id.removeprefix("4:"))
    recording = client.start_recording(call_connection_id=call.id)
    call.wait("RecordingStateChanged", state="active")
    call.hang_up_person(CUSTOMER)
    call.hang_up_person(SECOND)
    call.wait("CallDisconnected")
    call.advance(FILE_READY_SECONDS)
    eventgrid.wait_for(
        "RecordingFileStatusUpdated",
        predicate=lambda e: e["subject"].endswith(f"/recordingId/{recording.recording_id}"),
    )


def test_channel_affinity_may_name_someone_not_in_the_call(client: CallAutomationClient, media_call) -> None:
    call: MediaCall = media_call()
    started = client.start_recording(
        call_connection_id=call.id, recording_content_type="audio", recording_channel_type="unmixed",
        recording_format_type="wav", channel_affinity=[ChannelAffinity(PhoneNumberIdentifier("+15550001111"), 1)],
    )  # fmt: skip
    assert started.recording_id
    call.wait("RecordingStateChanged", state="active")


def test_a_play_to_one_participant_holds_them_for_the_prompt(media_call, audio_server: AudioServer) -> None:
    call: MediaCall = media_call()
    before = len(call.events("ParticipantsUpdated"))
    call.connection.play_media(FileSource(audio_server.url("hello.wav")), play_to=[call.person])
    call.wait("PlayStarted")
    call.advance(1)  # hello.wav
    call.wait("PlayCompleted")
    call.wait("ParticipantsUpdated", count=before + 2)
    updates = call.events("ParticipantsUpdated")[before:]
    assert [on_hold(e, call.person.raw_id) for e in updates] == [True, False]
    assert call.types("ParticipantsUpdated", "PlayStarted", "PlayCompleted")[before:] == [
        "ParticipantsUpdated",
        "PlayStarted",
        "PlayCompleted",
        "ParticipantsUpdated",
    ]


def test_hold_music_reports_its_audio_and_pauses_for_a_prompt(media_call, audio_server: AudioServer) -> None:
    call: MediaCall = media_call()
    call.connection.hold(call.person, play_source=FileSource(audio_server.url("hello.wav")), operation_context="held")
    started = call.wait("HoldAudioStarted")
    assert started["data"]["operationContext"] == "held"
    call.connection.play_media(FileSource(audio_server.url("hello.wav")), play_to=[call.person])
    call.wait("PlayStarted")
    call.advance(1)  # hello.wav
    call.wait("PlayCompleted")
    call.wait("HoldAudioResumed")
    call.connection.unhold(call.person)
    completed = call.wait("HoldAudioCompleted")
    assert completed["data"]["resultInformation"] == {
        "code": 400,
        "subCode": 8508,
        "message": "Action failed, the operation was canceled.",
    }
    assert call.types("HoldAudioStarted", "HoldAudioPaused", "PlayStarted", "HoldAudioResumed", "HoldAudioCompleted")[
        :5
    ] == ["HoldAudioStarted", "HoldAudioPaused", "PlayStarted", "HoldAudioResumed", "HoldAudioCompleted"]


def test_sequence_numbers_count_per_call_across_legs(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    placed = control.place_call(CUSTOMER.raw_id, "+18005550100")
    first = client.answer_call(placed.incoming_call_context, recorder.url + "/a").call_connection_id
    recorder.wait_for("ParticipantsUpdated", call_connection_id=first)
    second = client.connect_call(server_call_id=placed.server_call_id, callback_url=recorder.url + "/b")
    recorder.wait_for("ParticipantsUpdated", call_connection_id=second.call_connection_id)
    recorder.wait_for("ParticipantsUpdated", call_connection_id=first, count=2)
    client.get_call_connection(first).hold(CUSTOMER)
    recorder.wait_for("ParticipantsUpdated", call_connection_id=first, count=3)
    recorder.wait_for("ParticipantsUpdated", call_connection_id=second.call_connection_id, count=2)
    # This call's legs only (another test's late callbacks may arrive), each event once (a retried callback twice).
    legs = (first, second.call_connection_id)
    told = {
        e["id"]: e["data"]["sequenceNumber"]
        for leg in legs
        for e in recorder.matching("ParticipantsUpdated", call_connection_id=leg)
    }
    numbers = sorted(told.values())
    assert len(numbers) == len(set(numbers))  # no two legs were told the same number
    mine = sorted(
        {
            e["id"]: e["data"]["sequenceNumber"]
            for e in recorder.matching("ParticipantsUpdated", call_connection_id=first)
        }.values()
    )
    assert mine[-1] - mine[0] > len(mine) - 1  # gaps where the other leg was told


def test_cancel_add_result_and_id_shapes_match_the_service(
    client: CallAutomationClient, control: EmulatorControl, media_call
) -> None:
    call: MediaCall = media_call()
    control.set_behaviour("+15557770001", answer="never")
    added = call.connection.add_participant(PhoneNumberIdentifier("+15557770001"), source_caller_id_number=CALLER_ID)
    call.connection.cancel_add_participant_operation(added.invitation_id)
    canceled = call.wait("CancelAddParticipantSucceeded")
    result = canceled["data"]["resultInformation"]
    assert (result["code"], result["subCode"]) == (200, 5300)
    assert result["message"].startswith("addParticipants failed for participant 4:+15557770001.")
    assert re.fullmatch(r"[0-9a-f]{2}00[0-9a-f]{2}80-[0-9a-f-]{27}", call.id)
    conversation = base64.b64decode(canceled["data"]["serverCallId"]).decode()
    assert int(re.search(r"&e=(\d+)$", conversation).group(1)) > 638_000_000_000_000_000
