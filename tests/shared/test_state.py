"""TableStateStore against Azurite, and InMemoryStateStore with the same semantics."""

import asyncio
import uuid
from dataclasses import replace

import pytest
from azure.data.tables.aio import TableServiceClient

from shared.actions import HangUp, Play, Prompt
from shared.errors import StateConflict
from shared.state import CallState, IncomingCallRecord, InMemoryStateStore, TableStateStore


@pytest.fixture(params=["table", "memory"])
async def store(request):
    """Each test runs against Azurite's Table service and against the in-memory store."""
    if request.param == "memory":
        yield InMemoryStateStore()
        return
    connection_string = request.getfixturevalue("storage_connection_string")
    async with TableServiceClient.from_connection_string(connection_string) as service:
        table = await service.create_table(f"state{uuid.uuid4().hex[:12]}")
        yield TableStateStore(table)
        await service.delete_table(table.table_name)


def new_call() -> CallState:
    return CallState(call_connection_id=str(uuid.uuid4()), flow="ivr", step="answering", data={"caller": "4:+1"})


async def test_create_then_load_round_trips_state(store):
    call = new_call()
    assert await store.create(state=call, event_id="incoming-1")
    state, seen = await store.load(call_connection_id=call.call_connection_id, event_id="incoming-1")
    assert seen and state.etag
    assert (state.flow, state.step, state.data) == ("ivr", "answering", {"caller": "4:+1"})
    assert not await store.create(state=call, event_id="incoming-2")


async def test_create_returns_the_state_with_an_etag_that_a_save_can_match(store):
    call = new_call()
    created = await store.create(state=call)  # no event: the state row alone
    assert created.etag and created.step == "answering"
    assert await store.create(state=replace(call, step="main-menu")) is None  # the first one stays

    saved = await store.save(state=replace(created, step="main-menu"), event_id="e1")

    loaded, seen = await store.load(call_connection_id=call.call_connection_id, event_id="e1")
    assert seen and loaded.step == "main-menu" and loaded.etag == saved.etag


async def test_create_can_claim_an_event_with_its_outbox_in_one_write(store):
    call = replace(new_call(), step="main-menu", pending=(HangUp(),), pending_event_id="e1")
    created = await store.create(state=call, event_id="e1")

    loaded, seen = await store.load(call_connection_id=call.call_connection_id, event_id="e1")
    assert seen and loaded.pending == (HangUp(),) and loaded.etag == created.etag
    assert await store.create(state=call, event_id="e1") is None


async def test_save_writes_state_and_marker_together_and_keeps_the_outbox(store):
    call = new_call()
    await store.create(state=call, event_id="e0")
    state, _ = await store.load(call_connection_id=call.call_connection_id, event_id="e1")
    outbox = (Play(prompts=(Prompt(text="hi"),), operation_context="greeting"), HangUp())

    saved = await store.save(
        state=CallState(**{**state.__dict__, "step": "main-menu", "pending": outbox}), event_id="e1"
    )

    loaded, seen = await store.load(call_connection_id=call.call_connection_id, event_id="e1")
    assert seen and loaded.step == "main-menu" and loaded.pending == outbox and loaded.etag == saved.etag


async def test_redelivered_event_cannot_be_saved_twice_and_leaves_state_untouched(store):
    call = new_call()
    await store.create(state=call, event_id="e0")
    state, _ = await store.load(call_connection_id=call.call_connection_id, event_id="e1")
    saved = await store.save(state=CallState(**{**state.__dict__, "retries": 1}), event_id="e1")

    with pytest.raises(StateConflict):
        await store.save(state=CallState(**{**saved.__dict__, "retries": 2}), event_id="e1")

    # The failed transaction wrote nothing: the marker's create failing rolled back the state update too.
    loaded, _ = await store.load(call_connection_id=call.call_connection_id, event_id="e1")
    assert loaded.retries == 1 and loaded.etag == saved.etag


async def test_clearing_the_outbox_without_an_event_is_still_guarded_by_the_etag(store):
    call = new_call()
    await store.create(state=call, event_id="e0")
    state, _ = await store.load(call_connection_id=call.call_connection_id, event_id="e1")
    claimed = await store.save(state=CallState(**{**state.__dict__, "pending": (HangUp(),)}), event_id="e1")

    cleared = await store.save(state=CallState(**{**claimed.__dict__, "pending": ()}))

    assert cleared.etag != claimed.etag
    with pytest.raises(StateConflict):  # a writer still holding the older etag loses
        await store.save(state=CallState(**{**claimed.__dict__, "step": "stale"}))
    loaded, _ = await store.load(call_connection_id=call.call_connection_id, event_id="e1")
    assert loaded.pending == () and loaded.etag == cleared.etag


async def test_concurrent_writers_exactly_one_wins(store):
    call = new_call()
    await store.create(state=call, event_id="e0")
    state, _ = await store.load(call_connection_id=call.call_connection_id, event_id="x")

    async def write(step: str, event_id: str):
        return await store.save(state=CallState(**{**state.__dict__, "step": step}), event_id=event_id)

    results = await asyncio.gather(write("order-number", "a"), write("connecting-agent", "b"), return_exceptions=True)

    winners = [r for r in results if isinstance(r, CallState)]
    assert len(winners) == 1 and sum(isinstance(r, StateConflict) for r in results) == 1
    loaded, _ = await store.load(call_connection_id=call.call_connection_id, event_id="x")
    assert loaded.step == winners[0].step
    loser_event = "b" if winners[0].step == "order-number" else "a"
    assert not (await store.load(call_connection_id=call.call_connection_id, event_id=loser_event))[1]


async def test_unsafe_event_ids_and_server_call_ids_are_stored_under_hashed_keys(store):
    call = new_call()
    await store.create(state=call, event_id="a/b#c?")
    assert (await store.load(call_connection_id=call.call_connection_id, event_id="a/b#c?"))[1]
    record = IncomingCallRecord(server_call_id="aHR0cHM6Ly9h/Yg==", outcome="answered", flow="ivr")
    await store.put_incoming_call(record=record)
    assert await store.get_incoming_call(server_call_id="aHR0cHM6Ly9h/Yg==") == record
    assert await store.get_incoming_call(server_call_id="other") is None
