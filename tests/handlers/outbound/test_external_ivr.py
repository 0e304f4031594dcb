"""Outbound to an external IVR: the DTMF sequence parsed into steps of at most 18 tones, sent one after another."""

import pytest

from handlers import engine
from handlers.outbound.external_ivr import parse_sequence
from tests.fixtures.fakes import deliver
from tests.fixtures.outbound_fakes import api, deliver_event, outbound_context

CALL = "call-1"


def test_sequences_are_split_into_steps_of_at_most_18_tones():
    assert parse_sequence("1,2#") == [["one"], ["two", "pound"]]
    assert [len(step) for step in parse_sequence(["1" * 20])] == [18, 2]
    with pytest.raises(ValueError, match=r"^\[1\] holds 'x'"):
        parse_sequence(["1", "x"])


async def test_the_api_names_the_bad_step():
    ctx, _, _ = outbound_context()
    body = {"target": "+14255550130", "callerId": "+18005550100", "flow": "external-ivr", "dtmf": ["1", "x"]}

    status, answer = await api(ctx, "POST", "calls", body)

    assert status == 400 and answer["error"]["message"].startswith("dtmf[1] holds 'x'")


async def dialled(hang_up: bool):
    ctx, acs, store = outbound_context()
    body = {
        "target": "+14255550130",
        "callerId": "+18005550100",
        "flow": "external-ivr",
        "dtmf": "1,2#",
        "hangUpAfterDtmf": hang_up,
    }
    status, placed = await api(ctx, "POST", "calls", body)
    assert status == 201 and placed["flow"] == "external-ivr"
    await deliver(ctx, "call_connected", CALL, operationContext="external-ivr")
    return ctx, acs, store


async def test_each_step_is_sent_after_the_previous_one_then_the_call_hangs_up():
    ctx, acs, store = await dialled(hang_up=True)
    assert acs.calls("send-dtmf")[-1].request.tones == ("one",)

    await deliver_event(ctx, "SendDtmfTonesCompleted", CALL, operationContext="sending-dtmf")
    [_, second] = acs.calls("send-dtmf")
    assert second.request.tones == ("two", "pound") and second.request.target == "+14255550130"
    assert second.headers["Repeatability-Request-ID"]
    await deliver_event(ctx, "SendDtmfTonesCompleted", CALL, operationContext="sending-dtmf")

    assert acs.ops[-1].name == "hang-up"
    assert store.states[CALL].data["dtmf_sent"] == [["one"], ["two", "pound"]]


async def test_without_hang_up_the_call_stays_navigated():
    ctx, acs, store = await dialled(hang_up=False)
    await deliver_event(ctx, "SendDtmfTonesCompleted", CALL, operationContext="sending-dtmf")
    await deliver_event(ctx, "SendDtmfTonesCompleted", CALL, operationContext="sending-dtmf")

    assert store.states[CALL].step == "navigated" and not acs.calls("hang-up")


async def test_a_failed_send_stops_navigation():
    ctx, _, store = await dialled(hang_up=False)

    await deliver_event(
        ctx,
        "SendDtmfTonesFailed",
        CALL,
        operationContext="sending-dtmf",
        resultInformation={"code": 400, "subCode": 8523, "message": "bad"},
    )

    assert store.states[CALL].step == "dtmf-failed" and store.states[CALL].data["dtmf_failure"] == "400/8523 bad"


async def test_a_step_whose_completion_never_came_is_taken_as_sent():
    ctx, acs, store = await dialled(hang_up=False)

    ctx.clock.now = store.states[CALL].deadline
    await engine.sweep(ctx)

    assert [send.request.tones for send in acs.calls("send-dtmf")] == [("one",), ("two", "pound")]
    assert store.states[CALL].data["dtmf_sent"] == [["one"]]
