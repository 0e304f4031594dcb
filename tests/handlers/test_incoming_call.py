"""IncomingCall: answer into a flow, reject, redirect; redeliveries are no-ops."""

import pytest

from shared.routing_rules import RoutingRule
from shared.seed import put_routing_rule
from tests.fixtures.fakes import dispatch, incoming_call, make_context


async def test_call_to_the_demo_line_is_answered_into_the_ivr():
    ctx, acs, store = make_context()

    await dispatch(incoming_call(), ctx)

    [answer] = acs.ops
    assert answer.name == "answer"
    assert answer.request.callback_url == "https://app.example/api/callbacks"
    assert answer.request.flow == "ivr"
    assert answer.request.cognitive_services_endpoint == "https://ai.example"
    [state] = store.states.values()
    assert (state.flow, state.step, state.data["caller"]) == ("ivr", "answering", "4:+18447649276")
    assert next(iter(store.incoming.values())).outcome == "answered"


async def test_redelivered_incoming_call_is_answered_once():
    ctx, acs, store = make_context()

    await dispatch(incoming_call(), ctx)
    await dispatch(incoming_call(), ctx)

    assert acs.names() == ["answer"]
    assert len(store.states) == 1


async def test_retry_after_a_crash_before_bookkeeping_reuses_the_repeatability_id():
    ctx, acs, store = make_context()
    acs.fail_with["answer"] = TimeoutError("answer timed out")
    with pytest.raises(TimeoutError):
        await dispatch(incoming_call(), ctx)

    await dispatch(incoming_call(), ctx)

    first, second = acs.calls("answer")
    assert first.headers == second.headers
    assert len(store.states) == 1


async def test_busy_line_is_rejected_and_redelivery_does_not_reject_again():
    ctx, acs, _ = make_context()
    await put_routing_rule(ctx, RoutingRule(number="+18005550100", mode="busy"))

    await dispatch(incoming_call(), ctx)
    await dispatch(incoming_call(), ctx)

    [reject] = acs.ops
    assert reject.name == "reject" and reject.request == "busy"


async def test_forwarding_number_redirects_to_an_acs_user():
    ctx, acs, store = make_context()
    await put_routing_rule(ctx, RoutingRule(number="+18005550100", mode="forward", forward_to="8:acs:r_user"))

    await dispatch(incoming_call(), ctx)

    [redirect] = acs.ops
    assert redirect.name == "redirect" and redirect.request == "8:acs:r_user"
    assert store.states == {}
