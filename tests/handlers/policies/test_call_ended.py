"""CallDisconnected ends the call's flow; later events are ignored."""

from tests.fixtures.fakes import call_at_main_menu, deliver, make_context


async def test_caller_hangs_up_mid_menu_and_late_results_are_ignored():
    ctx, acs, store = make_context()
    call = await call_at_main_menu(ctx)

    await deliver(ctx, "call_disconnected", call)
    await deliver(ctx, "recognize_completed_choice", call)

    assert store.states[call].ended
    assert acs.ops == []


async def test_events_for_unknown_calls_are_ignored():
    ctx, acs, store = make_context()

    await deliver(ctx, "recognize_completed_choice", "not-our-call", serverCallId="")

    assert acs.ops == [] and store.states == {}
