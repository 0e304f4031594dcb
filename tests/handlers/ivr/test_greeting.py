"""An IVR call that connects is greeted and asked for a main-menu choice."""

import asyncio
import contextlib
from dataclasses import replace

import pytest

from shared.actions import Prompt
from shared.state import InMemoryStateStore
from tests.fixtures.fakes import CALLER, answered_call, deliver, dispatch, event, incoming_call, make_context


async def test_connected_call_hears_greeting_then_main_menu():
    ctx, acs, store = make_context()
    call = await answered_call(ctx)

    await deliver(ctx, "call_connected", call, event_id="connected-event")

    play, recognize = acs.ops[-2:]
    assert (play.name, play.request.operation_context) == ("play", "greeting/1")
    assert play.request.prompts[0].text == "Thank you for calling Contoso."
    assert recognize.name == "recognize"
    assert recognize.request.input_type == "choices" and recognize.request.target == CALLER
    assert [c.label for c in recognize.request.choices] == ["order-status", "agent", "pay-bill"]
    assert recognize.request.operation_context == "main-menu/1"  # tagged with the claim that asked
    state = store.states[call]
    assert (state.step, state.tag, state.outbox.claim) == ("main-menu", "1", "connected-event")


async def test_greeting_audio_file_replaces_text_when_configured():
    ctx, acs, _ = make_context(ivr_greeting_audio_url="https://media.example/greeting.wav")
    call = await answered_call(ctx)

    await deliver(ctx, "call_connected", call)

    [play] = acs.calls("play")
    [source] = play.request.prompts
    assert source == Prompt(audio_url="https://media.example/greeting.wav")


async def test_same_call_connected_delivered_twice_greets_once():
    ctx, acs, _ = make_context()
    call = await answered_call(ctx)

    await deliver(ctx, "call_connected", call, event_id="connected-1")
    await deliver(ctx, "call_connected", call, event_id="connected-1")

    assert acs.names().count("play") == 1
    assert acs.names().count("recognize") == 1


async def test_call_connected_that_overtakes_the_answer_bookkeeping_adopts_the_call():
    ctx, acs, store = make_context()
    call = await answered_call(ctx)
    del store.states[call]  # as if CallConnected arrived before the IncomingCall handler saved the state

    await deliver(ctx, "call_connected", call)

    assert store.states[call].step == "main-menu"
    assert acs.names()[-2:] == ["play", "recognize"]


async def test_call_connected_that_overtakes_the_state_write_greets_once_and_keeps_its_step():
    ctx, acs, store = make_context()
    delivered = []
    answer = acs.answer

    async def answer_then_connect(*args, **kwargs):
        # ACS sends CallConnected at once; here it is handled before the IncomingCall handler writes any state.
        call_connection_id = await answer(*args, **kwargs)
        delivered.append(await deliver(ctx, "call_connected", call_connection_id))
        return call_connection_id

    acs.answer = answer_then_connect
    await dispatch(incoming_call(), ctx)
    [call] = acs.answered.values()

    assert acs.names() == ["answer", "play", "recognize"]
    assert store.states[call].step == "main-menu"  # not reset to answering
    assert next(iter(store.incoming.values())).outcome == "answered"
    await dispatch(delivered[0], ctx)  # a redelivery of that CallConnected is recognised
    await dispatch(incoming_call(), ctx)  # and so is a redelivered IncomingCall
    assert acs.names() == ["answer", "play", "recognize"]


class LockstepMemoryStore(InMemoryStateStore):
    """Holds the first `parties` loads until all have read, so every delivery sees the call without state."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.barrier = asyncio.Barrier(parties)
        self.held = 0
        self.parties = parties

    async def load(self, call_connection_id, *, for_event=False):
        result = await super().load(call_connection_id, for_event=for_event)
        if self.held < self.parties:
            self.held += 1
            await self.barrier.wait()
        return result


async def test_concurrent_deliveries_of_an_overtaking_call_connected_greet_once():
    ctx, acs, _ = make_context()
    store = LockstepMemoryStore(parties=3)
    ctx = replace(ctx, state=store)
    call = await answered_call(ctx)
    del store.states[call]  # CallConnected overtook the IncomingCall handler's state write
    connected = event("call_connected", call_connection_id=call, event_id="connected-1")

    await asyncio.gather(*(dispatch(connected, ctx) for _ in range(3)))

    assert acs.names().count("play") == 1 and acs.names().count("recognize") == 1
    assert store.states[call].step == "main-menu"
    assert store.states[call].handled_event("connected-1")


class StateWrittenMeanwhile(InMemoryStateStore):
    """Lands the IncomingCall handler's state write between a callback's state read and its own write."""

    late = None

    async def get_incoming_call(self, **kwargs):
        record = await super().get_incoming_call(**kwargs)
        if self.late is not None:
            await self.commit(self.late)
            self.late = None
        return record


async def test_call_connected_whose_adoption_races_the_handlers_state_write_greets_once():
    ctx, acs, _ = make_context()
    store = StateWrittenMeanwhile()
    ctx = replace(ctx, state=store)
    call = await answered_call(ctx)
    store.late = replace(store.states.pop(call), etag=None)

    await deliver(ctx, "call_connected", call, event_id="connected-1")

    assert acs.names().count("play") == 1
    assert store.states[call].step == "main-menu"
    assert store.states[call].handled_event("connected-1")


class StateWriteFails(InMemoryStateStore):
    """The IncomingCall handler's state write (the only insert without an event marker) always fails."""

    async def commit(self, state, *, marker=None):
        if marker is None and state.etag is None:
            raise ConnectionResetError("instance died while writing the state")
        return await super().commit(state, marker=marker)


async def test_call_whose_handler_died_before_writing_its_state_is_still_greeted_once():
    ctx, acs, _ = make_context()
    store = StateWriteFails()
    ctx = replace(ctx, state=store)
    with pytest.raises(ConnectionResetError):
        await dispatch(incoming_call(), ctx)
    await asyncio.sleep(0)
    with contextlib.suppress(ConnectionResetError):  # Event Grid retries: a no-op, or the same answer again
        await dispatch(incoming_call(), ctx)
    answers = acs.calls("answer")
    assert len({str(answer.headers) for answer in answers}) == 1
    [call] = acs.answered.values()

    await deliver(ctx, "call_connected", call)
    await deliver(ctx, "call_connected", call)

    assert acs.names().count("play") == 1
    assert store.states[call].step == "main-menu"
