"""A CallConnected that overtakes the IncomingCall handler's state write on the instance answering the call waits
for that write instead of racing it through the store (shared/answering.py)."""

import asyncio
from dataclasses import replace

from shared.state import ANSWERING, InMemoryStateStore
from tests.fixtures.fakes import deliver, dispatch, incoming_call, make_context


class SlowCreate(InMemoryStateStore):
    """Holds the IncomingCall handler's state write until released; counts IncomingCall record reads."""

    def __init__(self) -> None:
        super().__init__()
        self.writing, self.release, self.loaded = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self.record_reads = 0

    async def commit(self, state, *, marker=None):
        if state.step == ANSWERING and marker is None:
            self.writing.set()
            await self.release.wait()
        return await super().commit(state, marker=marker)

    async def load(self, call_connection_id, *, for_event=False):
        loaded = await super().load(call_connection_id, for_event=for_event)
        self.loaded.set()
        return loaded

    async def get_incoming_call(self, *, server_call_id):
        self.record_reads += 1
        return await super().get_incoming_call(server_call_id=server_call_id)


async def test_call_connected_waits_for_the_state_this_instance_is_writing() -> None:
    ctx, acs, _ = make_context()
    store = SlowCreate()
    ctx = replace(ctx, state=store)
    handler = asyncio.create_task(dispatch(incoming_call(), ctx))
    await store.writing.wait()  # answered; the state write is in flight
    [call] = acs.answered.values()

    connected = asyncio.create_task(deliver(ctx, "call_connected", call))
    await store.loaded.wait()  # the callback found no state yet
    assert store.record_reads == 0  # the callback is waiting, not adopting the call from its record
    store.release.set()
    await asyncio.gather(handler, connected)

    assert store.record_reads == 0
    assert acs.names() == ["answer", "play", "recognize"]
    assert store.states[call].step == "main-menu"


async def test_an_answer_that_takes_too_long_is_not_waited_for_twice(monkeypatch) -> None:
    from shared import answering

    monkeypatch.setattr(answering, "WAIT_SECONDS", 0.01)
    with answering.answering("server-call"):
        # Another task asks while the answer hangs: it gives up after WAIT_SECONDS and adopts the call instead.
        assert await asyncio.create_task(answering.answered("server-call")) is False
    assert await answering.answered("server-call") is False  # answered: nothing left to wait for
