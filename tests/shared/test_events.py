"""Parsing callback CloudEvents and IncomingCall: typed fields, validation messages, unknown types."""

import json

import pytest

from shared.errors import BadRequest
from shared.events import (
    CallEvent,
    RecognizeCompleted,
    parse_callback_body,
    parse_event_grid_event,
    parse_incoming_call,
)
from tests.fixtures.fakes import EVENTS, payload


@pytest.mark.parametrize("path", sorted(p.name for p in EVENTS.glob("*.json") if p.name != "incoming_call.json"))
def test_every_fixture_parses(path):
    [event] = parse_callback_body((EVENTS / path).read_bytes())
    assert event.call_connection_id == "0b004880-e406-40bf-8384-a4042a72fecd"
    assert not event.type.startswith("Microsoft.")


def test_call_connected_common_fields():
    [event] = parse_callback_body(json.dumps(payload("call_connected")).encode())
    assert type(event) is CallEvent
    assert (event.id, event.type, event.operation_context) == (
        "1fd82d0c-d2e2-431b-9d8c-73137cd44bb6",
        "CallConnected",
        "ivr",
    )
    assert event.correlation_id == "1b541d21-bd0e-4695-a9ce-bf3290a807bd"
    assert (event.result.code, event.result.sub_code) == (200, 0)


def test_recognize_completed_variants():
    [dtmf] = parse_callback_body(json.dumps(payload("recognize_completed_dtmf")).encode())
    [choice] = parse_callback_body(json.dumps(payload("recognize_completed_choice")).encode())
    [speech] = parse_callback_body(json.dumps(payload("recognize_completed_speech")).encode())
    assert isinstance(dtmf, RecognizeCompleted) and dtmf.keys == "12345#" and dtmf.result.sub_code == 8514
    assert (choice.recognition_type, choice.choice_label, choice.confidence) == ("choices", "agent", 0.89)
    assert speech.speech_text == "I want to speak to an agent"


def test_typed_extras_of_other_events():
    def one(name):
        return parse_callback_body(json.dumps(payload(name)).encode())[0]

    updated = one("participants_updated")
    assert updated.sequence_number == 4 and [p.is_on_hold for p in updated.participants] == [False, True]
    assert one("add_participant_failed").participant.phone_number == "+18005550123"
    assert one("cancel_add_participant_succeeded").invitation_id == "d0a3f609-8237-4b80-8e60-b854bca65bb4"
    assert (one("continuous_dtmf_tone_received").tone, one("continuous_dtmf_tone_received").sequence_id) == ("five", 3)
    assert one("recording_state_changed").state == "active"
    assert one("media_streaming_started").status == "mediaStreamingStarted"
    assert one("transcription_updated").status_details == "transcriptionLocaleUpdated"
    assert one("call_transfer_accepted").transfer_target.raw_id == "4:+18005550123"
    assert one("play_failed").failed_play_source_index == 0


def test_unknown_event_type_parses_to_the_generic_event():
    body = payload("call_connected")
    body[0]["type"] = "Microsoft.Communication.SomethingNew"
    [event] = parse_callback_body(json.dumps(body).encode())
    assert type(event) is CallEvent and event.type == "SomethingNew"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "body is not valid JSON"),
        (b"[]", "non-empty JSON array"),
        (b"[1]", "event[0] must be an object"),
        (json.dumps([{"type": "x", "data": {}}]).encode(), "event[0].id must be a non-empty string"),
        (json.dumps([{"id": "1", "type": "x", "data": {}}]).encode(), "event[0].data.callConnectionId"),
        (json.dumps([{"id": "1", "type": "x", "data": []}]).encode(), "event[0].data must be an object"),
    ],
)
def test_malformed_bodies_name_the_element_and_field(body, message):
    with pytest.raises(BadRequest, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_callback_body(body)


def test_second_element_errors_name_it():
    good = payload("call_connected")[0]
    bad = {
        **good,
        "data": {**good["data"], "dtmfResult": {"tones": "one"}},
        "type": "Microsoft.Communication.RecognizeCompleted",
    }
    with pytest.raises(BadRequest, match=r"event\[1\]\.data\.dtmfResult\.tones"):
        parse_callback_body(json.dumps([good, bad]).encode())


def test_incoming_call_from_the_event_grid_payload():
    [envelope] = payload("incoming_call")
    call = parse_incoming_call(envelope["data"], event_id=envelope["id"])
    assert call.caller.phone_number == "+18447649276" and call.callee.raw_id == "4:+18005550100"
    assert call.incoming_call_context.startswith("eyJ")
    assert call.sip_headers["X-MS-Custom-myheader1"] == "35567842"
    assert call.voip_headers == {"customHeader": "customValue"}


def test_incoming_call_without_context_is_a_bad_request():
    [envelope] = payload("incoming_call")
    del envelope["data"]["incomingCallContext"]
    with pytest.raises(BadRequest, match=r"data\.incomingCallContext"):
        parse_incoming_call(envelope["data"])


def test_other_event_grid_types_are_generic_notifications():
    event = parse_event_grid_event(event_id="1", event_type="Microsoft.Communication.CallEnded", data={})
    assert event.type == "CallEnded"
