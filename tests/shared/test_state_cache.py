"""The per-instance state cache: an event on a call this instance knows costs one write and no read, a cached copy
another instance has moved on from never makes the app act on it, nor keeps it from acting, and an event no step of
the call's flow acts on costs no read at all."""

from dataclasses import replace

from shared.state import InMemoryStateStore
from shared.state_cache import CachedStateStore
from tests.fixtures.fakes import CountingStore, FakeAcs, call_at_main_menu, context, deliver, make_context


def instances(store):
    """Two app instances on one store, each with its own cache, ACS client and lease owner name."""
    ctx, acs, _ = make_context()
    first = replace(ctx, state=CachedStateStore(store), instance_id="instance-a")
    other_acs = FakeAcs()
    second = replace(ctx, state=CachedStateStore(store), acs=other_acs, instance_id="instance-b")
    return (first, acs), (second, other_acs)


async def test_an_event_on_a_call_this_instance_knows_costs_one_write_and_no_read():
    store = CountingStore()
    (ctx, acs), _ = instances(store)
    call = await call_at_main_menu(ctx)
    store.loads, store.commits = 0, 0

    await deliver(ctx, "recognize_completed_choice", call, choiceResult={"label": "order-status"})

    assert (store.loads, store.commits) == (0, 1)
    assert [context(op) for op in acs.ops] == ["order-number"]
    assert store.states[call].step == "order-number"


async def test_a_redelivered_event_served_from_the_cache_acts_once():
    store = CountingStore()
    (ctx, acs), _ = instances(store)
    call = await call_at_main_menu(ctx)

    store.loads, store.commits = 0, 0

    for _ in range(3):
        await deliver(ctx, "recognize_completed_choice", call, event_id="menu-1")

    assert acs.names() == ["play", "add-participant"]
    # The copies find the event's marker in the cached state: proof enough, no read of the store to confirm.
    assert (store.loads, store.commits) == (0, 1)


async def test_an_event_for_a_step_another_instance_reached_is_acted_on_not_ignored():
    store = CountingStore()
    (first, first_acs), (second, second_acs) = instances(store)
    call = await call_at_main_menu(first)  # the first instance caches the call at the main menu
    await deliver(second, "recognize_completed_choice", call, choiceResult={"label": "order-status"})

    # The answer to the order-number prompt reaches the first instance, whose copy still says main menu: the event
    # means nothing there, so before ignoring it the instance reads the store, and reads the order number step.
    await deliver(first, "recognize_completed_dtmf", call)

    assert [context(op) for op in first_acs.ops] == ["order-status", "main-menu"]
    assert [context(op) for op in second_acs.ops] == ["order-number"]
    assert store.states[call].step == "main-menu"


async def test_a_cached_copy_that_would_act_on_an_old_prompt_loses_its_write_and_decides_again():
    store = CountingStore()
    (first, first_acs), (second, second_acs) = instances(store)
    call = await call_at_main_menu(first)
    old_prompt = store.states[call].tag
    # The caller was silent: the second instance re-asks, a newer prompt with a new tag.
    await deliver(second, "recognize_failed", call)
    assert store.states[call].tag != old_prompt

    # A late answer to the old prompt reaches the first instance, whose cached copy still has the old tag.
    await deliver(first, "recognize_completed_choice", call, operationContext=f"main-menu/{old_prompt}")

    assert first_acs.ops == []  # the write failed on the ETag; the stored state says the answer is stale
    assert store.states[call].step == "main-menu"
    assert len(second_acs.ops) == 1


async def test_the_cache_forgets_least_recently_used_calls_beyond_its_capacity():
    from shared.state import CallState

    cached = CachedStateStore(InMemoryStateStore(), capacity=2)
    for call in ("a", "b", "c"):
        await cached.commit(CallState(call_connection_id=call, flow="ivr", step="main-menu"))

    assert [(await cached.load(call, for_event=True)).cached for call in ("c", "b", "a")] == [True, True, False]


async def test_an_event_no_flow_or_policy_acts_on_is_ignored_without_reading_the_store():
    store = CountingStore()
    ctx, acs, _ = make_context()
    ctx = replace(ctx, state=store)  # no cache: every load is a read of the store
    call = await call_at_main_menu(ctx)
    store.loads, store.commits = 0, 0
    acs.ops.clear()

    await deliver(ctx, "play_started", call)

    assert (store.loads, store.commits, acs.ops) == (0, 0, [])


async def test_a_cached_copy_ignores_at_once_an_event_its_flow_acts_on_at_no_step():
    store = CountingStore()
    (first, first_acs), (second, _) = instances(store)
    call = await call_at_main_menu(first)
    await deliver(second, "recognize_completed_choice", call, choiceResult={"label": "order-status"})
    store.loads = 0

    # The menu prompt's PlayCompleted: the IVR acts on PlayCompleted only for its goodbye prompt, at whatever step
    # the stored state is, so the first instance's stale copy is enough to ignore it.
    await deliver(first, "play_completed", call, operationContext="main-menu/1")
    assert store.loads == 0
    # ParticipantsUpdated has a row at the agent steps: ignoring it on the stale copy needs the stored state.
    await deliver(first, "participants_updated", call)
    assert store.loads == 1
    assert first_acs.ops == []
    assert store.states[call].step == "order-number"
