"""The control API under /emulator and its client: people, placed calls, person actions, views, negatives."""

import pytest
import requests
from azure.communication.callautomation import CallAutomationClient, PhoneNumberIdentifier

from emulator.control_client import ControlApiError, EmulatorControl, PlacedCall
from emulator.models import CallListener, Participant, ServerCall
from emulator.server import EmulatorServer
from emulator.testing import CallbackRecorder

pytestmark = pytest.mark.usefixtures("conformant_events")

APP_NUMBER = "+18005550100"
CUSTOMER = "+15551230000"
AGENT = "+15557770001"
CALLER_ID = PhoneNumberIdentifier("+15550009999")


class HeardBy(CallListener):
    """A listener like the media feature's, recording what people on calls do."""

    def __init__(self) -> None:
        self.tones: list[tuple[str, list[str]]] = []
        self.speech: list[tuple[str, str]] = []

    def on_tones(self, call: ServerCall, participant: Participant, tones: list[str]) -> None:
        self.tones.append((participant.identifier.raw_id, tones))

    def on_speech(self, call: ServerCall, participant: Participant, text: str) -> None:
        self.speech.append((participant.identifier.raw_id, text))


@pytest.fixture
def heard(emulator: EmulatorServer) -> HeardBy:
    listener = HeardBy()
    emulator.backend.listeners.append(listener)
    yield listener
    emulator.backend.listeners.remove(listener)


def answered(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> tuple[PlacedCall, str]:
    placed = control.place_call(CUSTOMER, APP_NUMBER)
    call_id = client.answer_call(placed.incoming_call_context, recorder.url).call_connection_id
    recorder.wait_for("ParticipantsUpdated", call_connection_id=call_id)
    return placed, call_id


def test_health_and_reset(control: EmulatorControl) -> None:
    control.place_call(CUSTOMER, APP_NUMBER)
    assert control.health()["activeCalls"] == 1
    control.reset()
    assert control.health() == {**control.health(), "status": "ok", "activeCalls": 0}
    assert control.calls() == []


def test_people_behaviours_are_listed_and_validated(control: EmulatorControl) -> None:
    assert control.set_behaviour(AGENT, answer="busy", answer_after_ms=250) == {
        "rawId": "4:" + AGENT,
        "answer": "busy",
        "answerAfterMs": 250,
    }
    listed = control.people()
    assert listed["default"] == {"answer": "answer", "answerAfterMs": 0}
    assert listed["people"] == [{"rawId": "4:" + AGENT, "answer": "busy", "answerAfterMs": 250}]
    with pytest.raises(ControlApiError) as raised:
        control.set_behaviour(AGENT, answer="maybe")
    assert raised.value.status == 400
    with pytest.raises(ControlApiError):
        control.set_behaviour("not-an-identity")


def test_place_call_returns_ids_and_shows_a_ringing_call(control: EmulatorControl) -> None:
    placed = control.place_call(
        CUSTOMER, APP_NUMBER, display_name="Pat", custom_context={"sipHeaders": {"X-MS-Custom-Order": "42"}}
    )
    assert placed.incoming_call_context.startswith("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.")
    view = control.call(placed.server_call_id)
    assert view["state"] == "ringing"
    assert view["correlationId"] == placed.correlation_id
    caller = view["participants"][0]
    assert caller["displayName"] == "Pat"
    assert caller["customContext"] == {"sipHeaders": {"X-MS-Custom-Order": "42"}}
    assert view["incomingCalls"][0]["state"] == "ringing"


def test_place_call_negatives(control: EmulatorControl, emulator: EmulatorServer) -> None:
    with pytest.raises(ControlApiError, match="from"):
        control.place_call("", APP_NUMBER)
    with pytest.raises(ControlApiError, match="customContext"):
        control.place_call(CUSTOMER, APP_NUMBER, custom_context={"headers": {}})
    broken = requests.post(f"{emulator.url}/emulator/calls", data=b"{nope", timeout=10)
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "BadRequest"


def test_person_actions_reach_listeners_and_the_timeline(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder, heard: HeardBy
) -> None:
    placed, call_id = answered(client, control, recorder)
    control.press(call_id, CUSTOMER, "12#*")
    control.press(placed.server_call_id, "4:" + CUSTOMER, ["nine", "Pound"])
    control.say(call_id, CUSTOMER, "order status")
    assert heard.tones == [("4:" + CUSTOMER, ["one", "two", "pound", "asterisk"]), ("4:" + CUSTOMER, ["nine", "pound"])]
    assert heard.speech == [("4:" + CUSTOMER, "order status")]
    summaries = [e["summary"] for e in control.timeline(call_id) if e["kind"] == "person"]
    assert "4:+15551230000 pressed one two pound asterisk" in summaries
    assert "4:+15551230000 said 'order status'" in summaries


def test_person_action_negatives(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    placed, call_id = answered(client, control, recorder)
    with pytest.raises(ControlApiError) as unknown_call:
        control.press("no-such-call", CUSTOMER, "1")
    assert unknown_call.value.status == 404
    with pytest.raises(ControlApiError) as stranger:
        control.press(call_id, AGENT, "1")
    assert stranger.value.status == 404
    with pytest.raises(ControlApiError) as bad_tones:
        control.press(call_id, CUSTOMER, "12x")
    assert bad_tones.value.status == 400
    with pytest.raises(ControlApiError):
        control.say(call_id, CUSTOMER, "")
    control.hang_up(call_id, CUSTOMER)
    with pytest.raises(ControlApiError) as gone:
        control.press(placed.server_call_id, CUSTOMER, "1")
    assert gone.value.status == 409


def test_person_hanging_up_in_group_call_updates_participants(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    targets = [PhoneNumberIdentifier(CUSTOMER), PhoneNumberIdentifier(AGENT)]
    call_id = client.create_call(targets, recorder.url, source_caller_id_number=CALLER_ID).call_connection_id
    recorder.wait_for(
        "ParticipantsUpdated", call_connection_id=call_id, predicate=lambda e: len(e["data"]["participants"]) == 3
    )
    view = control.hang_up(call_id, AGENT)
    assert view["state"] == "connected"
    recorder.wait_for(
        "ParticipantsUpdated", call_connection_id=call_id, predicate=lambda e: len(e["data"]["participants"]) == 2
    )


def test_call_view_lists_connections_and_participants(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    placed, call_id = answered(client, control, recorder)
    view = control.call(call_id)
    assert view["serverCallId"] == placed.server_call_id
    assert [c["callConnectionId"] for c in view["connections"]] == [call_id]
    assert view["connections"][0]["state"] == "connected"
    assert {p["rawId"]: p["isApp"] for p in view["participants"]} == {"4:" + CUSTOMER: False, "4:" + APP_NUMBER: True}
    assert control.calls()[0]["callConnectionIds"] == [call_id]


def test_timeline_has_requests_callbacks_and_event_grid(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    placed, call_id = answered(client, control, recorder)
    kinds = {(e["kind"], e["summary"]) for e in control.timeline(placed.server_call_id)}
    assert ("request", "AnswerCall") in kinds
    assert ("callback", "CallConnected") in kinds
    assert ("eventgrid", "IncomingCall") in kinds
    assert all(e["at"].endswith("+00:00") for e in control.timeline(call_id))


def test_wait_for_call_times_out_with_the_state(control: EmulatorControl) -> None:
    placed = control.place_call(CUSTOMER, APP_NUMBER)
    with pytest.raises(TimeoutError, match="ringing"):
        control.wait_for_call(placed.server_call_id, "connected", timeout=0.05)


def test_event_grid_subscriptions_can_be_managed(control: EmulatorControl) -> None:
    added = control.add_subscription(
        "http://127.0.0.1:7071/runtime/webhooks/eventgrid?functionName=incoming_call", event_types=["IncomingCall"]
    )
    assert added["name"] == "incoming_call"
    assert added["eventTypes"] == ["Microsoft.Communication.IncomingCall"]
    assert [s["url"] for s in control.subscriptions()] == [added["url"]]
    with pytest.raises(ControlApiError) as bad:
        control.add_subscription("ftp://nope")
    assert bad.value.status == 400
    control.remove_subscription(added["url"])
    assert control.subscriptions() == []
    with pytest.raises(ControlApiError) as missing:
        control.remove_subscription(added["url"])
    assert missing.value.status == 404


def test_deliveries_record_callback_outcomes(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    _, call_id = answered(client, control, recorder)
    callbacks = control.deliveries(kind="callback")
    assert callbacks
    assert all(d["ok"] and d["status"] == 200 for d in callbacks)
    assert callbacks[0]["events"][0]["data"]["callConnectionId"] == call_id
    assert control.deliveries(kind="eventgrid") == []


def test_unreachable_emulator_is_a_clear_error() -> None:
    with pytest.raises(ControlApiError, match="cannot reach the emulator"):
        EmulatorControl("http://127.0.0.1:9", timeout=1).health()
