"""Reminder flow: placed through the API, read out on answer, outcome stored; every way of not reaching someone."""

import pytest

from handlers import engine
from shared.engine import CallNotReady
from tests.fixtures.fakes import deliver
from tests.fixtures.outbound_fakes import api, deliver_event, outbound_context

CALL = "call-1"
REMINDER = {"to": "+14255550111", "when": "2026-03-14T15:30:00+00:00", "name": "Alex"}


async def placed(**settings):
    ctx, acs, store = outbound_context(outbound_caller_id="+18005550100", **settings)
    status, reminder = await api(ctx, "POST", "reminders", REMINDER)
    assert status == 201
    return ctx, acs, store, reminder


async def asked(**settings):
    ctx, acs, store, reminder = await placed(**settings)
    await deliver(ctx, "call_connected", CALL, operationContext="reminder")
    return ctx, acs, store, reminder


async def test_the_reminder_call_is_placed_from_the_caller_id_and_stored_pending():
    ctx, acs, store, reminder = await placed()

    [create] = acs.calls("create_call")
    assert create.request.targets == ("+14255550111",)
    assert create.request.caller_id == "+18005550100"
    assert create.request.flow == "reminder"
    assert reminder["outcome"] == "pending" and store.states[CALL].step == "dialling"
    assert (await ctx.reminders.get(reminder["id"]))["call_connection_id"] == CALL


async def test_on_answer_the_reminder_is_read_with_choices():
    _, acs, store, _ = await asked()

    [recognize] = acs.calls("recognize")
    assert recognize.request.prompts[0].text.startswith(
        "Hello Alex, this is a reminder of your appointment on Saturday, March 14 at 3:30 PM."
    )
    assert [c.label for c in recognize.request.choices] == ["confirm", "cancel", "reschedule"]
    assert store.states[CALL].step == "confirming"


@pytest.mark.parametrize(
    ("result", "outcome"),
    [
        ({"choiceResult": {"label": "confirm"}}, "confirmed"),
        ({"choiceResult": {"label": "cancel"}}, "cancelled"),
        ({"recognitionType": "dtmf", "choiceResult": None, "dtmfResult": {"tones": ["three"]}}, "reschedule-requested"),
    ],
)
async def test_the_answer_is_stored_then_the_call_hangs_up(result, outcome):
    ctx, acs, _, reminder = await asked()

    await deliver(ctx, "recognize_completed_choice", CALL, operationContext="confirming", **result)
    assert acs.calls("play")[-1].request.prompts[0].text.endswith("Goodbye.")
    await deliver(ctx, "play_completed", CALL, operationContext="closing")

    assert acs.ops[-1].name == "hang-up" and acs.ops[-1].request.for_everyone is True
    assert (await api(ctx, "GET", "reminders/{id}", id=reminder["id"]))[1]["outcome"] == outcome


async def test_no_input_is_retried_then_recorded_as_no_response():
    ctx, acs, store, _ = await asked(reminder_max_retries=2)

    await deliver(ctx, "recognize_failed", CALL, operationContext="confirming")
    assert acs.calls("recognize")[-1].request.prompts[0].text == "Sorry, I didn't catch that."
    await deliver(ctx, "recognize_failed", CALL, operationContext="confirming")

    assert store.states[CALL].data["outcome"] == "no-response"
    assert acs.calls("play")[-1].request.prompts[0].text.startswith("We did not get your answer")


@pytest.mark.parametrize(
    ("sub_code", "outcome"), [(8541, "no-answer"), (8539, "busy"), (8538, "declined"), (8522, "failed")]
)
async def test_create_call_failed_is_recorded(sub_code, outcome):
    ctx, _, store, _ = await placed()

    await deliver_event(
        ctx, "CreateCallFailed", CALL, operationContext="reminder", resultInformation={"code": 400, "subCode": sub_code}
    )

    assert store.states[CALL].step == "ended" and store.states[CALL].data["outcome"] == outcome


async def test_hanging_up_before_answering_is_no_response():
    ctx, _, store, _ = await asked()

    await deliver(ctx, "call_disconnected", CALL)

    assert store.states[CALL].step == "ended" and store.states[CALL].data["outcome"] == "no-response"


async def test_call_connected_before_the_state_is_written_asks_for_redelivery():
    ctx, _, _ = outbound_context()

    with pytest.raises(CallNotReady):
        await deliver(ctx, "call_connected", "unknown-call", operationContext="reminder")


async def overdue(ctx, store):
    ctx.clock.now = store.states[CALL].deadline
    await engine.sweep(ctx)


async def test_a_reminder_whose_answer_never_came_asks_again():
    ctx, acs, store, _ = await asked()
    acs.ops.clear()

    await overdue(ctx, store)

    assert acs.names() == ["call_properties", "recognize"]
    assert store.states[CALL].retries == 1


async def test_a_reminder_call_that_vanished_while_ringing_is_recorded_as_failed():
    ctx, acs, store, reminder = await placed()
    acs.call_state = None  # CreateCallFailed never arrived and ACS no longer knows the call

    await overdue(ctx, store)

    assert store.states[CALL].step == "ended"
    assert (await api(ctx, "GET", "reminders/{id}", id=reminder["id"]))[1]["outcome"] == "failed"


async def test_a_reminder_answered_without_word_is_read_once_acs_says_it_is_up():
    ctx, acs, store, _ = await placed()

    await overdue(ctx, store)

    assert acs.names()[-1] == "recognize" and store.states[CALL].step == "confirming"
