"""advance(): exactly-once steps under redelivery, crashes and concurrent deliveries."""

import asyncio
import uuid
from dataclasses import replace

import pytest
from azure.data.tables.aio import TableServiceClient

from shared.flow import Transition, advance
from shared.state import TableStateStore
from tests.fixtures.fakes import call_at_main_menu, deliver, event, make_context


async def test_crash_after_claim_is_resumed_by_the_redelivery_without_a_double_prompt():
    ctx, acs, store = make_context()
    call = await call_at_main_menu(ctx)
    acs.fail_with["add_participant"] = ConnectionResetError("instance died mid-request")
    with pytest.raises(ConnectionResetError):
        await deliver(ctx, "recognize_completed_choice", call, event_id="menu-1")
    assert store.states[call].pending  # the outbox survived the crash
    acs.ops.clear()

    await deliver(ctx, "recognize_completed_choice", call, event_id="menu-1")

    # The hold music that may already be playing is cancelled before it is started again, and the
    # invitation repeats with the same Repeatability-Request-ID so ACS does not ring the agent twice.
    assert acs.names() == ["cancel_all_media_operations", "play_media", "add_participant"]
    assert store.states[call].pending == () and store.states[call].step == "connecting-agent"


async def test_repeatable_actions_reuse_their_request_id_on_resume():
    ctx, acs, _ = make_context()
    call = await call_at_main_menu(ctx)
    acs.fail_with["add_participant"] = ConnectionResetError()
    with pytest.raises(ConnectionResetError):
        await deliver(ctx, "recognize_completed_choice", call, event_id="menu-1")

    await deliver(ctx, "recognize_completed_choice", call, event_id="menu-1")

    first, second = acs.calls("add_participant")
    assert first.kwargs["headers"] == second.kwargs["headers"]


async def test_different_calls_give_different_request_ids():
    headers = []
    for _ in range(2):
        ctx, acs, _ = make_context()
        call = await call_at_main_menu(ctx)
        await deliver(ctx, "recognize_completed_choice", call, event_id="menu-1")
        headers.append(acs.calls("add_participant")[0].kwargs["headers"]["Repeatability-Request-ID"])

    assert headers[0] != headers[1]


async def test_concurrent_deliveries_of_the_same_event_act_once():
    ctx, acs, _ = make_context()
    call = await call_at_main_menu(ctx)

    await asyncio.gather(*(deliver(ctx, "recognize_completed_choice", call, event_id="menu-1") for _ in range(5)))

    assert acs.names().count("add_participant") == 1


class LockstepStore(TableStateStore):
    """Holds the first two loads until both have read, so the two writers are guaranteed to race."""

    def __init__(self, table):
        super().__init__(table)
        self.barrier = asyncio.Barrier(2)
        self.held = 0

    async def load(self, **kwargs):
        result = await super().load(**kwargs)
        if self.held < 2:
            self.held += 1
            await self.barrier.wait()
        return result


async def test_loser_of_a_race_re_reads_and_re_decides_on_the_winners_state(storage_connection_string):
    ctx, _, _ = make_context()
    async with TableServiceClient.from_connection_string(storage_connection_string) as service:
        table = await service.create_table(f"flow{uuid.uuid4().hex[:12]}")
        ctx = replace(ctx, state=TableStateStore(table))
        call = await call_at_main_menu(ctx)
        ctx = replace(ctx, state=LockstepStore(table))
        decided_on = []

        def moving_to(step):
            def decide(state):
                decided_on.append(state.step)
                return Transition(step=step, retries=state.retries + 1)

            return decide

        first = event("recognize_completed_choice", call_connection_id=call)
        second = event("recognize_failed", call_connection_id=call)
        await asyncio.gather(advance(first, ctx, decide=moving_to("a")), advance(second, ctx, decide=moving_to("b")))

        final, _ = await ctx.state.load(call_connection_id=call, event_id="")
        assert decided_on[:2] == ["main-menu", "main-menu"]
        assert decided_on[2] in {"a", "b"} and final.step != decided_on[2]
        assert final.retries == 2  # both increments survived
        await service.delete_table(table.table_name)


async def test_an_event_without_actions_keeps_another_events_outbox():
    ctx, acs, store = make_context()
    call = await call_at_main_menu(ctx)
    acs.fail_with["add_participant"] = ConnectionResetError("instance died mid-request")
    with pytest.raises(ConnectionResetError):
        await deliver(ctx, "recognize_completed_choice", call, event_id="menu-1")
    outbox = store.states[call].pending
    acs.ops.clear()

    # A data-only update (a ParticipantsUpdated with the caller present) lands while that outbox is unsent.
    await advance(
        event("participants_updated", call_connection_id=call),
        ctx,
        decide=lambda state: Transition(step=state.step, data={"seen": True}),
    )

    assert store.states[call].pending == outbox and store.states[call].data["seen"] is True
    assert acs.names() == []  # it sent nobody else's actions
    await deliver(ctx, "recognize_completed_choice", call, event_id="menu-1")
    assert acs.names() == ["cancel_all_media_operations", "play_media", "add_participant"]
