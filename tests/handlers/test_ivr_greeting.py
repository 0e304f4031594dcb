"""An IVR call that connects is greeted and asked for a main-menu choice."""

from azure.communication.callautomation import FileSource, TextSource

from tests.fixtures.fakes import CALLER, answered_call, deliver, make_context


async def test_connected_call_hears_greeting_then_main_menu():
    ctx, acs, store = make_context()
    call = await answered_call(ctx)

    await deliver(ctx, "call_connected", call)

    play, recognize = acs.ops[-2:]
    assert (play.name, play.kwargs["operation_context"]) == ("play_media", "greeting")
    assert isinstance(play.args[0][0], TextSource) and play.args[0][0].text == "Thank you for calling Contoso."
    assert recognize.name == "start_recognizing_media"
    assert recognize.args[0] == "choices" and recognize.args[1].raw_id == CALLER
    assert [c.label for c in recognize.kwargs["choices"]] == ["order-status", "agent", "pay-bill"]
    assert recognize.kwargs["operation_context"] == "main-menu"
    state = store.states[call]
    assert (state.step, state.pending) == ("main-menu", ())


async def test_greeting_audio_file_replaces_text_when_configured():
    ctx, acs, _ = make_context(ivr_greeting_audio_url="https://media.example/greeting.wav")
    call = await answered_call(ctx)

    await deliver(ctx, "call_connected", call)

    [play] = acs.calls("play_media")
    [source] = play.args[0]
    assert isinstance(source, FileSource) and source.url == "https://media.example/greeting.wav"


async def test_same_call_connected_delivered_twice_greets_once():
    ctx, acs, _ = make_context()
    call = await answered_call(ctx)

    await deliver(ctx, "call_connected", call, event_id="connected-1")
    await deliver(ctx, "call_connected", call, event_id="connected-1")

    assert acs.names().count("play_media") == 1
    assert acs.names().count("start_recognizing_media") == 1


async def test_call_connected_that_overtakes_the_answer_bookkeeping_adopts_the_call():
    ctx, acs, store = make_context()
    call = await answered_call(ctx)
    del store.states[call]  # as if CallConnected arrived before the IncomingCall handler saved the state

    await deliver(ctx, "call_connected", call)

    assert store.states[call].step == "main-menu"
    assert acs.names()[-2:] == ["play_media", "start_recognizing_media"]
