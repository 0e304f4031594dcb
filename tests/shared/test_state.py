"""TableStateStore against Azurite, and InMemoryStateStore with the same semantics."""

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from azure.data.tables.aio import TableServiceClient

from shared.actions import HangUp, Play, Prompt
from shared.errors import StateConflict
from shared.state import (
    HANDLED_EVENTS,
    CallState,
    IncomingCallRecord,
    InMemoryStateStore,
    Outbox,
    TableStateStore,
    table_key,
)

NOW = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)


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


def new_call(**fields) -> CallState:
    values = {"call_connection_id": str(uuid.uuid4()), "flow": "ivr", "step": "answering", "data": {"caller": "4:+1"}}
    return CallState(**{**values, **fields})


def outbox(*actions, claim="e1") -> Outbox:
    return Outbox(claim=claim, tag="1", actions=actions, owner="me", lease_until=NOW, first_sent="x")


async def test_commit_without_etag_inserts_and_loads_back_with_its_marker(store):
    call = new_call(server_call_id="c2VydmVy", deadline=NOW)
    created = await store.commit(call, marker="incoming-1")

    loaded = await store.load(call.call_connection_id)
    assert loaded.state.handled_event("incoming-1") and loaded.state.etag == created.etag
    assert (loaded.state.flow, loaded.state.step, loaded.state.data) == ("ivr", "answering", {"caller": "4:+1"})
    assert (loaded.state.server_call_id, loaded.state.deadline) == ("c2VydmVy", NOW)
    with pytest.raises(StateConflict):  # the first state stays
        await store.commit(replace(call, step="main-menu"))
    assert not (await store.load(call.call_connection_id)).state.handled_event("other")


async def test_commit_writes_state_outbox_and_marker_in_one_row(store):
    call = await store.commit(new_call())
    actions = (Play(prompts=(Prompt(text="hi"),), operation_context="greeting/1"), HangUp())

    saved = await store.commit(replace(call, step="main-menu", claims=1, outbox=outbox(*actions)), marker="e1")

    loaded = await store.load(call.call_connection_id)
    assert loaded.state.handled_event("e1") and loaded.state.step == "main-menu" and loaded.state.etag == saved.etag
    assert loaded.state.outbox == outbox(*actions) and loaded.state.tag == "1"
    assert loaded.state == saved


async def test_redelivered_event_cannot_commit_twice_and_leaves_state_untouched(store):
    call = await store.commit(new_call())
    saved = await store.commit(replace(call, retries=1), marker="e1")

    with pytest.raises(StateConflict):
        await store.commit(replace(saved, retries=2), marker="e1")

    loaded = (await store.load(call.call_connection_id)).state
    assert loaded.retries == 1 and loaded.etag == saved.etag


async def test_a_writer_holding_an_older_etag_loses(store):
    call = await store.commit(new_call())
    newer = await store.commit(replace(call, step="main-menu"))

    with pytest.raises(StateConflict):
        await store.commit(replace(call, step="stale"))

    assert (await store.load(call.call_connection_id)).state.etag == newer.etag


async def test_concurrent_writers_exactly_one_wins(store):
    call = await store.commit(new_call())

    async def write(step: str, event_id: str):
        return await store.commit(replace(call, step=step), marker=event_id)

    results = await asyncio.gather(write("order-number", "a"), write("connecting-agent", "b"), return_exceptions=True)

    winners = [r for r in results if isinstance(r, CallState)]
    assert len(winners) == 1 and sum(isinstance(r, StateConflict) for r in results) == 1
    assert (await store.load(call.call_connection_id)).state.step == winners[0].step
    loser_event = "b" if winners[0].step == "order-number" else "a"
    assert not (await store.load(call.call_connection_id)).state.handled_event(loser_event)


async def test_a_row_keeps_the_latest_markers_only(store):
    call = await store.commit(new_call())
    for number in range(HANDLED_EVENTS + 1):
        call = await store.commit(replace(call, retries=number), marker=f"event-{number}")

    stored = (await store.load(call.call_connection_id)).state
    assert len(stored.handled) == HANDLED_EVENTS
    assert not stored.handled_event("event-0")
    assert stored.handled_event("event-1") and stored.handled_event(f"event-{HANDLED_EVENTS}")


async def test_overdue_finds_calls_past_their_deadline_that_have_not_ended(store):
    due = await store.commit(new_call(step="main-menu", deadline=NOW - timedelta(seconds=1)))
    await store.commit(new_call(step="main-menu", deadline=NOW + timedelta(seconds=1)))
    await store.commit(new_call(step="ended", ended_at=NOW))
    await store.commit(new_call(step="with-agent"))

    overdue = await store.overdue(NOW)

    assert [state.call_connection_id for state in overdue] == [due.call_connection_id]
    assert overdue[0].etag == due.etag


async def test_purge_deletes_an_ended_calls_rows_and_its_incoming_record(store):
    old = await store.commit(new_call(server_call_id="b2xk", step="ended", ended_at=NOW - timedelta(hours=2)))
    for event_id in ("e1", "e2", "e3"):
        old = await store.commit(replace(old, retries=old.retries + 1), marker=event_id)
    recent = await store.commit(new_call(step="ended", ended_at=NOW))
    await store.put_incoming_call(record=IncomingCallRecord(server_call_id="b2xk", outcome="answered"))

    [expired] = await store.ended_before(NOW - timedelta(hours=1))
    deleted = await store.purge(expired)

    assert deleted == 1  # the markers are in the state row
    assert (await store.load(old.call_connection_id)).state is None
    assert await store.get_incoming_call(server_call_id="b2xk") is None
    assert (await store.load(recent.call_connection_id)).state is not None


async def test_purge_also_deletes_the_marker_rows_of_earlier_releases(storage_connection_string):
    async with TableServiceClient.from_connection_string(storage_connection_string) as service:
        table = await service.create_table(f"state{uuid.uuid4().hex[:12]}")
        store = TableStateStore(table)
        ended = await store.commit(new_call(step="ended", ended_at=NOW))
        partition = table_key(ended.call_connection_id)
        await table.create_entity({"PartitionKey": partition, "RowKey": "event:e1"})

        assert await store.purge(ended) == 2
        assert [row async for row in table.query_entities("PartitionKey eq @p", parameters={"p": partition})] == []
        await service.delete_table(table.table_name)


async def test_purge_incoming_before_removes_only_old_records(store):
    await store.put_incoming_call(record=IncomingCallRecord(server_call_id="cmVqZWN0ZWQ=", outcome="rejected"))

    assert await store.purge_incoming_before(datetime.now(UTC) - timedelta(hours=1)) == 0
    assert await store.purge_incoming_before(datetime.now(UTC) + timedelta(minutes=1)) == 1
    assert await store.get_incoming_call(server_call_id="cmVqZWN0ZWQ=") is None


async def test_unsafe_event_ids_and_server_call_ids_are_stored_under_hashed_keys(store):
    call = await store.commit(new_call(), marker="a/b#c?")
    assert (await store.load(call.call_connection_id)).state.handled_event("a/b#c?")
    record = IncomingCallRecord(server_call_id="aHR0cHM6Ly9h/Yg==", outcome="answered", flow="ivr")
    await store.put_incoming_call(record=record)
    assert await store.get_incoming_call(server_call_id="aHR0cHM6Ly9h/Yg==") == record
    assert await store.get_incoming_call(server_call_id="other") is None


def test_keys_of_ids_with_lone_surrogates_are_stable_hashes():
    assert table_key("event-\ud800") == table_key("event-\ud800") != table_key("event-\udfff")
    assert table_key("safe-id_1.2:3") == "safe-id_1.2:3"


async def test_an_incoming_call_record_is_added_once_and_the_first_one_stands(store):
    first = IncomingCallRecord(server_call_id="Zmlyc3Q=", outcome="answering", flow="ivr", data={"caller": "4:+1"})
    assert await store.add_incoming_call(record=first) is None

    again = IncomingCallRecord(server_call_id="Zmlyc3Q=", outcome="answering", flow="reminder")
    assert await store.add_incoming_call(record=again) == first
    assert await store.get_incoming_call(server_call_id="Zmlyc3Q=") == first


async def test_concurrent_adds_of_one_incoming_call_record_leave_exactly_one_writer(store):
    records = [IncomingCallRecord(server_call_id="cmFjZQ==", outcome="answering", flow=f"flow-{n}") for n in range(5)]
    earlier = await asyncio.gather(*(store.add_incoming_call(record=record) for record in records))

    [winner] = [record for record, found in zip(records, earlier, strict=True) if found is None]
    assert all(found == winner for found in earlier if found is not None)
    assert await store.get_incoming_call(server_call_id="cmFjZQ==") == winner
