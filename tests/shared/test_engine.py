"""The engine: one turn per event, exactly once under redelivery, concurrency, crashes and lost events."""

import asyncio
import uuid
from dataclasses import replace

import pytest
from azure.data.tables.aio import TableServiceClient

from handlers import engine
from handlers.policies.continuous_dtmf import RECOGNIZING as KEYS
from shared.engine import STEP_OVERDUE, CallNotReady, Flow, On, Transition, Turn
from shared.state import InMemoryStateStore, TableStateStore
from tests.fixtures.fakes import CALLER, CountingStore, call_at_main_menu, deliver, event, make_context, present


class CrashAfterCommit(InMemoryStateStore):
    """The process dies right after its claim is written, before any action is sent."""

    crash_next = False

    async def commit(self, state, *, marker=None):
        saved = await super().commit(state, marker=marker)
        if self.crash_next:
            self.crash_next = False
            raise ProcessKilled
        return saved


class ProcessKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs, not even except Exception handlers."""


def with_store(store):
    ctx, acs, _ = make_context()
    return replace(ctx, state=store), acs


async def test_an_event_redelivered_after_it_was_handled_does_nothing():
    ctx, acs, store = make_context()
    call = await call_at_main_menu(ctx)

    await deliver(ctx, "recognize_completed_choice", call, event_id="menu-1")
    await deliver(ctx, "recognize_completed_choice", call, event_id="menu-1")

    assert acs.names() == ["play", "add-participant"]
    assert store.states[call].step == "connecting-agent"


async def test_concurrent_copies_of_an_event_act_once():
    ctx, acs, _ = make_context()
    call = await call_at_main_menu(ctx)

    await asyncio.gather(*(deliver(ctx, "recognize_completed_choice", call, event_id="menu-1") for _ in range(5)))

    assert acs.names() == ["play", "add-participant"]


async def test_a_copy_that_finds_the_first_still_holding_its_lease_leaves_the_actions_to_it():
    store = CrashAfterCommit()
    ctx, acs = with_store(store)
    call = await call_at_main_menu(ctx)
    store.crash_next = True
    with pytest.raises(ProcessKilled):
        await deliver(ctx, "recognize_completed_choice", call, event_id="menu-1")
    claimed = store.states[call].outbox

    ctx.clock.advance(ctx.settings.claim_lease_seconds - 1)
    await deliver(ctx, "recognize_completed_choice", call, event_id="menu-1")

    assert acs.names() == []  # a second sender could repeat the hold music and ring the agent twice
    assert store.states[call].outbox == claimed and claimed.owner == ctx.instance_id


async def test_a_claim_whose_sender_died_is_recovered_by_the_watchdog_after_its_deadline():
    store = CrashAfterCommit()
    ctx, acs = with_store(store)
    call = await call_at_main_menu(ctx)
    store.crash_next = True
    with pytest.raises(ProcessKilled):
        await deliver(ctx, "recognize_completed_choice", call, event_id="menu-1")
    deadline = store.states[call].deadline

    ctx.clock.now = deadline  # the agent's invitation would have been answered or timed out by now
    acs.participants_present = present(CALLER)
    report = await engine.sweep(ctx)

    assert report.recovered == 1
    assert acs.names() == ["call_properties", "cancel-all-media", "play"]
    assert acs.ops[-1].request.prompts[0].text.startswith("Sorry, no agent is available")
    assert store.states[call].step == "goodbye"


async def test_a_prompt_that_was_never_answered_is_asked_again_once_overdue():
    ctx, acs, store = make_context()
    call = await call_at_main_menu(ctx)  # the RecognizeCompleted or RecognizeFailed never comes

    ctx.clock.now = store.states[call].deadline
    await engine.sweep(ctx)
    await engine.sweep(ctx)  # a second sweep, or a second instance's, finds nothing overdue

    assert acs.names() == ["call_properties", "recognize"]
    [recognize] = acs.calls("recognize")
    assert recognize.request.prompts[0].text == "Sorry, I didn't catch that."
    assert store.states[call].retries == 1 and store.states[call].deadline > ctx.clock()


async def test_a_late_answer_to_a_prompt_the_watchdog_replaced_is_stale():
    ctx, acs, store = make_context()
    call = await call_at_main_menu(ctx)
    first_tag = store.states[call].tag
    ctx.clock.now = store.states[call].deadline
    await engine.sweep(ctx)
    acs.ops.clear()

    await deliver(ctx, "recognize_completed_choice", call, operationContext=f"main-menu/{first_tag}")

    assert acs.names() == [] and store.states[call].step == "main-menu"
    await deliver(ctx, "recognize_completed_choice", call, operationContext=f"main-menu/{store.states[call].tag}")
    assert store.states[call].step == "connecting-agent"


async def test_a_call_that_is_gone_when_the_watchdog_asks_is_closed():
    ctx, acs, store = make_context()
    call = await call_at_main_menu(ctx)
    acs.call_state = None  # ACS answers 404: the CallDisconnected was lost

    ctx.clock.now = store.states[call].deadline
    await engine.sweep(ctx)

    assert store.states[call].step == "ended" and store.states[call].ended_at == ctx.clock()
    assert acs.names() == ["call_properties"]


async def test_failing_to_send_hands_the_step_to_the_watchdog_at_once():
    ctx, acs, store = make_context()
    call = await call_at_main_menu(ctx)
    acs.fail_with["add-participant"] = ConnectionResetError("ACS unreachable")

    await deliver(ctx, "recognize_completed_choice", call, event_id="menu-1")

    assert store.states[call].deadline == ctx.clock() and not store.states[call].outbox.leased(ctx.clock())
    acs.participants_present = present(CALLER)
    assert (await engine.sweep(ctx)).recovered == 1
    assert store.states[call].step == "goodbye"


async def test_ended_calls_are_deleted_after_the_retention():
    ctx, _, store = make_context(state_retention_hours=1.0)
    call = await call_at_main_menu(ctx)
    await deliver(ctx, "call_disconnected", call)

    ctx.clock.advance(3599)
    assert (await engine.sweep(ctx)).purged == 0
    ctx.clock.advance(2)
    await engine.sweep(ctx)

    assert call not in store.states


async def test_a_recorded_calls_call_connected_costs_one_load_and_one_write():
    store = CountingStore()
    ctx, acs = with_store(store)
    ctx = replace(ctx, settings=replace(ctx.settings, recording_enabled_flows=("ivr",)))
    call = str(uuid.uuid4())
    await store.commit(ivr_call(call))
    store.loads, store.commits = 0, 0

    await deliver(ctx, "call_connected", call)

    assert (store.loads, store.commits) == (1, 1)
    assert acs.names() == ["play", "recognize", "start-recording"]


def ivr_call(call):
    from shared.state import CallState

    return CallState(call_connection_id=call, flow="ivr", step="answering", data={"caller": CALLER})


class LockstepStore(TableStateStore):
    """Holds the first two loads until both have read, so the two writers are guaranteed to race."""

    def __init__(self, table):
        super().__init__(table)
        self.barrier = asyncio.Barrier(2)
        self.held = 0

    async def load(self, call_connection_id, *, for_event=False):
        loaded = await super().load(call_connection_id, for_event=for_event)
        if self.held < 2:
            self.held += 1
            await self.barrier.wait()
        return loaded


async def test_the_loser_of_a_race_re_reads_and_decides_on_the_winners_state(storage_connection_string):
    async with TableServiceClient.from_connection_string(storage_connection_string) as service:
        table = await service.create_table(f"engine{uuid.uuid4().hex[:12]}")
        ctx, _ = with_store(TableStateStore(table))
        call = await call_at_main_menu(ctx)
        ctx = replace(ctx, state=LockstepStore(table))

        # Two keys pressed during continuous recognition, delivered at the same instant: both read the same state.
        await asyncio.gather(
            deliver(ctx, "continuous_dtmf_tone_received", call, tone="one", sequenceId=1, operationContext=KEYS),
            deliver(ctx, "continuous_dtmf_tone_received", call, tone="two", sequenceId=2, operationContext=KEYS),
        )

        final = (await ctx.state.load(call)).state
        assert final.data["dtmf_received"] == [[1, "one"], [2, "two"]]  # the loser re-read and kept the winner's
        await service.delete_table(table.table_name)


async def test_an_event_the_step_does_not_expect_changes_nothing():
    ctx, acs, store = make_context()
    call = await call_at_main_menu(ctx)
    before = store.states[call]

    await deliver(ctx, "add_participant_succeeded", call)  # no agent was invited

    assert store.states[call] == before and acs.names() == []


async def noop(turn: Turn) -> Transition | None:
    return None


def test_a_flow_rejects_unknown_steps_and_duplicate_rows():
    with pytest.raises(ValueError, match="unknown step"):
        Flow(name="f", steps=("a",), transitions=(On("CallConnected", "b", noop),))
    with pytest.raises(ValueError, match="two transitions"):
        Flow(name="f", steps=("a",), transitions=(On("PlayCompleted", "a", noop), On("PlayCompleted", "a", noop)))


def test_rows_match_the_exact_step_and_context_before_wildcards():
    exact, any_context, any_step = (
        On("PlayCompleted", "a", noop, context="x"),
        On("PlayCompleted", "a", noop),
        On("PlayCompleted", "*", noop),
    )
    flow = Flow(name="f", steps=("a", "b"), transitions=(any_step, any_context, exact))

    assert flow.transition_for("a", "PlayCompleted", "x") is exact
    assert flow.transition_for("a", "PlayCompleted", "y") is any_context
    assert flow.transition_for("b", "PlayCompleted", "x") is any_step
    assert flow.transition_for("a", STEP_OVERDUE, None) is None


async def test_an_event_for_a_placed_call_whose_state_is_not_written_yet_is_refused_for_redelivery():
    ctx, _, _ = make_context()

    with pytest.raises(CallNotReady):
        await deliver(ctx, "call_connected", "not-written-yet", operationContext="reminder")
    assert await engine.handle(event("call_connected", call_connection_id="unknown", operationContext="x"), ctx) is None
