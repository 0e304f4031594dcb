"""Incoming-call routing end to end: rejected and redirected calls never reach a flow, and never get callbacks.

emulator (IncomingCall over Event Grid) -> dev host -> incoming_call -> RejectCall / RedirectCall -> emulator.
"""

from collections.abc import Iterator

import pytest

from devhost.stack import LocalStack
from emulator.control_client import EmulatorControl
from emulator.scripting import ScriptedCaller
from shared.routing_rules import RoutingRule
from tests.e2e.helpers import (
    app_connection_id,
    callback_types,
    incoming_call_event,
    participant,
    participant_states,
    post_event_grid,
    read_call_state,
    read_incoming_record,
    request_bodies,
    requests_made,
    routing_rule,
    summaries,
    wait_for_timeline,
    wait_until,
)

BUSY_LINE = "+18005550199"  # seeded: mode busy
IVR_LINE = "+18005550100"  # seeded: answered into the IVR
SUPPORT_LINE = "+18005550111"  # answered into the IVR, except for one blocked caller
FORWARDING_LINE = "+18005550122"  # forwards to a PSTN number
USER_FORWARDING_LINE = "+18005550133"  # forwards to an ACS user
NUISANCE_CALLER = "+14255550666"
MOBILE = "+14255550999"
ACS_USER = "8:acs:00000000-0000-4000-8000-000000000001_00000000-0000-4000-8000-0000000f0a0d"


@pytest.fixture
def support_line(stack: LocalStack) -> Iterator[RoutingRule]:
    rule = RoutingRule(number=SUPPORT_LINE, mode="answer", flow="ivr", blocked_callers=(NUISANCE_CALLER,))
    with routing_rule(stack, rule):
        yield rule


def wait_for_outcome(stack: LocalStack, server_call_id: str, outcome: str) -> dict:
    """Wait until the app has recorded what it did with the IncomingCall."""
    return wait_until(
        lambda: (r := read_incoming_record(stack, server_call_id)) and r["outcome"] == outcome and r,
        f"IncomingCall record {outcome!r}",
    )


def no_callbacks_for(control: EmulatorControl, server_call_id: str) -> bool:
    return not [
        event
        for delivery in control.deliveries("callback")
        for event in delivery["events"]
        if event["data"].get("serverCallId") == server_call_id
    ]


def assert_rejected(stack: LocalStack, control: EmulatorControl, caller: ScriptedCaller, reason: str) -> None:
    view = caller.wait_until_ended()
    timeline = wait_for_timeline(control, caller.call_id, lambda t: "RejectCall" in requests_made(t), "RejectCall")
    # (1) what the emulator saw: one RejectCall with the reason, nothing else asked, no callbacks sent
    assert requests_made(timeline) == ["RejectCall"], summaries(timeline)
    assert [body["callRejectReason"] for body in request_bodies(timeline, "RejectCall")] == [reason]
    assert next(e for e in timeline if e["summary"] == "RejectCall")["detail"]["status"] == 204
    assert any(e["summary"] == f"reject reason: {reason}" for e in timeline), summaries(timeline)
    assert callback_types(timeline) == []
    assert no_callbacks_for(control, caller.call_id)
    # (2) the emulator's view: the offer was rejected, the app never had a leg, the caller is gone
    assert view["state"] == "ended"
    assert [offer["state"] for offer in view["incomingCalls"]] == ["rejected"]
    assert view["callConnectionIds"] == []
    assert participant_states(view) == {caller.raw_id: "left"}
    # (3) stored: the outcome, so a redelivered IncomingCall is a no-op; no call state (there is no call connection)
    record = wait_for_outcome(stack, caller.call_id, "rejected")
    assert record["call_connection_id"] == ""


def test_a_blocked_caller_is_rejected_as_forbidden(
    stack: LocalStack, control: EmulatorControl, support_line: RoutingRule
) -> None:
    nuisance = ScriptedCaller(control, NUISANCE_CALLER).dial(SUPPORT_LINE)
    assert_rejected(stack, control, nuisance, "forbidden")

    # The block is the caller's, not the line's: anyone else calling the same number is answered into the IVR.
    customer = ScriptedCaller(control, "+14255550123").dial(SUPPORT_LINE)
    customer.wait_for_prompt("Thank you for calling")
    assert requests_made(customer.timeline)[0] == "AnswerCall"
    customer.hang_up()


def test_the_busy_line_is_rejected_as_busy(stack: LocalStack, control: EmulatorControl) -> None:
    caller = ScriptedCaller(control, "+14255550124").dial(BUSY_LINE)
    assert_rejected(stack, control, caller, "busy")


def test_a_number_forwarding_to_a_phone_redirects_and_the_phone_rings(
    stack: LocalStack, control: EmulatorControl
) -> None:
    control.set_behaviour(MOBILE, answer="answer", answer_after_ms=2000)
    with routing_rule(stack, RoutingRule(number=FORWARDING_LINE, mode="forward", forward_to=MOBILE)):
        caller = ScriptedCaller(control, "+14255550125").dial(FORWARDING_LINE)
        view = control.wait_for_call(
            caller.call_id,
            lambda v: (p := participant(v, f"4:{MOBILE}")) is not None and p["state"] == "connected",
            timeout=15,
        )

    timeline = caller.timeline
    # (1) one RedirectCall to the number; the phone rang, then answered; the app got no callbacks
    assert requests_made(timeline) == ["RedirectCall"], summaries(timeline)
    assert [body["target"]["rawId"] for body in request_bodies(timeline, "RedirectCall")] == [f"4:{MOBILE}"]
    rang = [e["summary"] for e in timeline if e["kind"] == "person" and e["summary"].startswith(f"4:{MOBILE}")]
    assert rang == [f"4:{MOBILE} ringing", f"4:{MOBILE} answered", f"4:{MOBILE} joined"]
    assert callback_types(timeline) == []
    assert no_callbacks_for(control, caller.call_id)
    # (2) caller and the forwarded-to phone talk directly; the app has no leg in the call
    assert view["state"] == "connected"
    assert participant_states(view) == {caller.raw_id: "connected", f"4:{MOBILE}": "connected"}
    assert view["callConnectionIds"] == []
    assert [offer["state"] for offer in view["incomingCalls"]] == ["redirected"]
    # (3) stored: redirected, no call state
    record = wait_for_outcome(stack, caller.call_id, "redirected")
    assert record["call_connection_id"] == ""

    caller.hang_up()
    assert caller.wait_until_ended()["state"] == "ended"


def test_a_number_forwarding_to_an_acs_user_rings_that_user(
    stack: LocalStack, control: EmulatorControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.emulator is not None
    # The user lets it ring (long enough to look at it), so the emulator rings them rather than offering the app
    # a new IncomingCall for the user.
    monkeypatch.setattr(stack.emulator.backend.config, "ring_timeout_seconds", 600.0)
    control.set_behaviour(ACS_USER, answer="never")
    with routing_rule(stack, RoutingRule(number=USER_FORWARDING_LINE, mode="forward", forward_to=ACS_USER)):
        caller = ScriptedCaller(control, "+14255550126").dial(USER_FORWARDING_LINE)
        view = control.wait_for_call(
            caller.call_id,
            lambda v: (p := participant(v, ACS_USER)) is not None and p["state"] == "ringing",
            timeout=15,
        )

    # (2) the user's phone is ringing; the caller waits on the line; the app is not in the call
    assert participant_states(view) == {caller.raw_id: "connected", ACS_USER: "ringing"}
    assert view["callConnectionIds"] == []
    assert [offer["state"] for offer in view["incomingCalls"]] == ["redirected"]
    # (1) RedirectCall to the user, no callbacks, and no second IncomingCall for the user
    timeline = caller.timeline
    assert requests_made(timeline) == ["RedirectCall"], summaries(timeline)
    assert [body["target"]["rawId"] for body in request_bodies(timeline, "RedirectCall")] == [ACS_USER]
    assert [e["summary"] for e in timeline if e["kind"] == "eventgrid"] == ["IncomingCall"]
    assert callback_types(timeline) == []
    # (3) stored
    wait_for_outcome(stack, caller.call_id, "redirected")

    caller.hang_up()
    view = caller.wait_until_ended()
    assert view["state"] == "ended"
    assert no_callbacks_for(control, caller.call_id)


def test_a_redelivered_incoming_call_is_not_answered_twice(stack: LocalStack, control: EmulatorControl) -> None:
    caller = ScriptedCaller(control, "+14255550127").dial(IVR_LINE)
    caller.wait_for_prompt("press 1")
    connection_id = app_connection_id(control.call(caller.call_id))
    record = wait_for_outcome(stack, caller.call_id, "answered")
    state = read_call_state(stack, connection_id)
    assert state is not None

    # Event Grid delivers the very same IncomingCall again (at least once delivery).
    response = post_event_grid(stack, [incoming_call_event(control, caller.call_id)])

    assert response.status_code == 202, response.text
    timeline = caller.timeline
    assert requests_made(timeline).count("AnswerCall") == 1, summaries(timeline)
    view = control.call(caller.call_id)
    assert view["callConnectionIds"] == [connection_id]
    assert [offer["state"] for offer in view["incomingCalls"]] == ["answered"]
    assert participant_states(view) == {caller.raw_id: "connected", f"4:{IVR_LINE}": "connected"}
    # Stored: the IncomingCall record was not rewritten, and the call's state was not recreated.
    assert read_incoming_record(stack, caller.call_id)["etag"] == record["etag"]
    again = read_call_state(stack, connection_id)
    assert again is not None and again["flow"] == "ivr"
    # The recording's note changes as ACS reports its state (docs/recording.md); the rest must be as it was.
    assert {k: v for k, v in again["data"].items() if k != "recording"} == {
        k: v for k, v in state["data"].items() if k != "recording"
    }

    # The call goes on as if nothing happened.
    caller.press("1")
    caller.wait_for_prompt("order number")
    caller.hang_up()
    caller.wait_until_ended()


def test_a_redelivered_incoming_call_is_not_rejected_twice(stack: LocalStack, control: EmulatorControl) -> None:
    caller = ScriptedCaller(control, "+14255550128").dial(BUSY_LINE)
    caller.wait_until_ended()
    record = wait_for_outcome(stack, caller.call_id, "rejected")

    response = post_event_grid(stack, [incoming_call_event(control, caller.call_id)])

    assert response.status_code == 202, response.text
    assert requests_made(caller.timeline) == ["RejectCall"], summaries(caller.timeline)
    assert read_incoming_record(stack, caller.call_id)["etag"] == record["etag"]
