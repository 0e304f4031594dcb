"""The IVR's way back when a step's answer never comes: the watchdog asks ACS, then re-asks, connects or ends."""

from datetime import timedelta

from handlers import engine
from tests.fixtures.fakes import AGENT, CALLER, answered_call, call_at_main_menu, deliver, make_context, present


async def overdue(ctx, store, call):
    """Move the clock to the call's step deadline and run the watchdog once."""
    ctx.clock.now = store.states[call].deadline
    return await engine.sweep(ctx)


async def test_a_lost_call_connected_is_made_up_for_by_greeting_once_acs_says_the_call_is_up():
    ctx, acs, store = make_context()
    call = await answered_call(ctx)
    acs.ops.clear()

    await overdue(ctx, store, call)

    assert acs.names() == ["call_properties", "play", "recognize"]
    assert store.states[call].step == "main-menu"


async def test_a_call_still_connecting_is_left_to_connect():
    ctx, acs, store = make_context()
    call = await answered_call(ctx)
    acs.call_state = "connecting"

    await overdue(ctx, store, call)

    assert "play" not in acs.names() and store.states[call].step == "answering"
    assert store.states[call].deadline > ctx.clock()


async def test_unanswered_prompts_are_asked_again_until_the_retries_run_out():
    ctx, acs, store = make_context(ivr_max_retries=2)
    call = await call_at_main_menu(ctx)

    await overdue(ctx, store, call)
    await overdue(ctx, store, call)

    assert store.states[call].step == "goodbye"
    assert acs.calls("play")[-1].request.prompts[0].text == "Thank you for calling. Goodbye."


async def test_an_agent_who_joined_without_word_is_found_in_the_call():
    ctx, acs, store = make_context()
    call = await call_at_main_menu(ctx)
    await deliver(ctx, "recognize_completed_choice", call)  # agent chosen; AddParticipantSucceeded gets lost
    acs.participants_present = present(CALLER, AGENT)
    acs.ops.clear()

    await overdue(ctx, store, call)

    assert acs.names() == ["call_properties", "cancel-all-media"]
    assert store.states[call].step == "with-agent"


async def test_a_lost_goodbye_completion_still_hangs_up():
    ctx, acs, store = make_context(ivr_max_retries=1)
    call = await call_at_main_menu(ctx)
    await deliver(ctx, "recognize_failed", call)  # goodbye; its PlayCompleted gets lost

    await overdue(ctx, store, call)

    assert acs.ops[-1].name == "hang-up" and store.states[call].step == "hanging-up"


async def test_caller_and_agent_talking_are_checked_on_and_left_alone():
    ctx, acs, store = make_context()
    call = await call_at_main_menu(ctx)
    await deliver(ctx, "recognize_completed_choice", call)
    await deliver(ctx, "add_participant_succeeded", call)
    acs.participants_present = present(CALLER, AGENT)
    acs.ops.clear()

    await overdue(ctx, store, call)

    assert acs.names() == ["call_properties"] and store.states[call].step == "with-agent"
    assert store.states[call].deadline == ctx.clock() + timedelta(seconds=ctx.settings.watchdog_idle_seconds)
