"""The unavoidable I/O of one callback, measured alone: one state read, one conditional write, one ACS request."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

from .localstack import BenchStack
from .stats import Summary

RAW_IO_TABLE = "benchrawio"
APP_USER = "8:acs:00000000-0000-4000-8000-00000000ac5e_00000000-0000-4000-8000-0000000be7c4"
CONNECT_TIMEOUT = 10.0
THROUGHPUT_CONCURRENCY = 50


@dataclass
class RawIoResult:
    """Per-operation latency over `iterations` sequential rounds, and the round trip of all three."""

    iterations: int
    state_read: Summary
    state_write: Summary
    acs_get: Summary
    acs_post: Summary
    total: Summary  # state_read + state_write + acs_get, per round
    store_rounds_per_s: float  # read + conditional write pairs per second with THROUGHPUT_CONCURRENCY in flight

    def to_dict(self) -> dict[str, Any]:
        return {
            "iterations": self.iterations,
            "state_read_ms": self.state_read.to_dict(),
            "state_write_ms": self.state_write.to_dict(),
            "acs_get_ms": self.acs_get.to_dict(),
            "acs_post_ms": self.acs_post.to_dict(),
            "read_write_acs_ms": self.total.to_dict(),
            "store_rounds_per_s": self.store_rounds_per_s,
            "store_concurrency": THROUGHPUT_CONCURRENCY,
        }


def measure_raw_io(bench: BenchStack, iterations: int = 100) -> RawIoResult:
    """Run the rounds on a fresh event loop in this thread (the app's clients live on the dev host's loop)."""
    return asyncio.run(asyncio.wait_for(_measure(bench, iterations), timeout=60 + iterations * 0.5))


async def _measure(bench: BenchStack, iterations: int) -> RawIoResult:
    from azure.communication.callautomation import CommunicationUserIdentifier
    from azure.communication.callautomation.aio import CallAutomationClient
    from azure.core.credentials import AzureKeyCredential
    from azure.data.tables.aio import TableClient

    from shared.state import CallState

    stack = bench.stack
    assert stack.azurite and stack.emulator
    reads, writes, gets, posts, totals = [], [], [], [], []
    partition = f"bench-{uuid.uuid4().hex}"
    table = TableClient.from_connection_string(stack.azurite.connection_string, table_name=RAW_IO_TABLE)
    acs = CallAutomationClient(stack.emulator.url, AzureKeyCredential(stack.emulator.config.access_key))
    async with table, acs:
        await _ensure_table(table)
        state = CallState(call_connection_id=partition, flow="ivr", step="main-menu", data={"caller": "4:+1"})
        await table.upsert_entity(state.to_entity())
        # A live call the app does not know: it acknowledges the callbacks and leaves the call alone.
        created = await acs.create_call(CommunicationUserIdentifier(APP_USER), bench.callback_url)
        if created.call_connection_id is None:
            raise RuntimeError("CreateCall answered without a callConnectionId")
        connection = acs.get_call_connection(created.call_connection_id)
        await _wait_connected(connection)
        try:
            for _ in range(iterations):
                started = time.perf_counter()
                stored = await _read(table, partition)
                read_done = time.perf_counter()
                await _write(table, stored)
                write_done = time.perf_counter()
                await connection.get_call_properties()
                get_done = time.perf_counter()
                await connection.cancel_all_media_operations()
                post_done = time.perf_counter()
                reads.append((read_done - started) * 1000)
                writes.append((write_done - read_done) * 1000)
                gets.append((get_done - write_done) * 1000)
                posts.append((post_done - get_done) * 1000)
                totals.append((get_done - started) * 1000)
            throughput = await _store_throughput(table, state, rounds=max(iterations, THROUGHPUT_CONCURRENCY))
        finally:
            await connection.hang_up(is_for_everyone=True)
            await table.delete_table()
    return RawIoResult(
        iterations=iterations,
        state_read=Summary.of(reads),
        state_write=Summary.of(writes),
        acs_get=Summary.of(gets),
        acs_post=Summary.of(posts),
        total=Summary.of(totals),
        store_rounds_per_s=throughput,
    )


def measure_store_capacity(connection_string: str, rounds: int = 200) -> float:
    """Azurite's ceiling for the unavoidable I/O of a callback: read + conditional write pairs per second with
    THROUGHPUT_CONCURRENCY in flight, on a table of its own (through the app's own connection pool)."""
    return asyncio.run(_store_capacity(connection_string, rounds))


async def _store_capacity(connection_string: str, rounds: int) -> float:
    from azure.data.tables.aio import TableClient

    from shared.state import CallState
    from shared.transport import client_options

    endpoint = connection_string.split("TableEndpoint=", 1)[-1].split(";", 1)[0]
    options = client_options(endpoint, use_env_proxies=False)
    name = f"benchcapacity{uuid.uuid4().hex[:8]}"
    async with TableClient.from_connection_string(connection_string, table_name=name, **options) as table:
        await _ensure_table(table)
        try:
            state = CallState(call_connection_id="capacity", flow="ivr", step="main-menu", data={"caller": "4:+1"})
            return await _store_throughput(table, state, rounds)
        finally:
            await table.delete_table()


async def _store_throughput(table: Any, state: Any, rounds: int) -> float:
    """How many state read + conditional write pairs the table store completes per second under concurrency."""
    partitions = [f"bench-load-{index}-{uuid.uuid4().hex[:8]}" for index in range(rounds)]
    for partition in partitions:
        await table.upsert_entity({**state.to_entity(), "PartitionKey": partition})
    gate = asyncio.Semaphore(THROUGHPUT_CONCURRENCY)

    async def one(partition: str) -> None:
        async with gate:
            await _write(table, await _read(table, partition))

    started = time.perf_counter()
    await asyncio.gather(*(one(partition) for partition in partitions))
    return round(rounds / (time.perf_counter() - started), 1)


async def _ensure_table(table: Any) -> None:
    from azure.core.exceptions import ResourceExistsError

    with contextlib.suppress(ResourceExistsError):
        await table.create_table()


async def _read(table: Any, partition: str) -> Any:
    """The app's state read: a point read of the state row, which carries the markers of the call's events."""
    from shared.state import STATE_ROW

    return await table.get_entity(partition, STATE_ROW)


async def _write(table: Any, stored: Any) -> None:
    """The app's claim: the next step with a new event's marker, an ETag-conditional replace of the one row."""
    from azure.core import MatchConditions
    from azure.data.tables import UpdateMode

    from shared.state import CallState

    state = CallState.from_entity(stored, stored.metadata["etag"])
    # The throughput rounds share one state under many partitions: write back to the partition read.
    claimed = {**state.marked(uuid.uuid4().hex).to_entity(), "PartitionKey": stored["PartitionKey"]}
    await table.update_entity(
        claimed, mode=UpdateMode.REPLACE, etag=state.etag, match_condition=MatchConditions.IfNotModified
    )


async def _wait_connected(connection: Any) -> None:
    deadline = time.monotonic() + CONNECT_TIMEOUT
    while True:
        properties = await connection.get_call_properties()
        if properties.call_connection_state == "connected":
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"raw I/O benchmark: the emulator did not connect the call within {CONNECT_TIMEOUT}s "
                f"(state {properties.call_connection_state})"
            )
        await asyncio.sleep(0.02)
