"""The main menu: order status, agent, and retries on no input or no match."""

from tests.fixtures.fakes import AGENT, call_at_main_menu, context, deliver, make_context


async def test_caller_presses_1_and_is_asked_for_an_order_number():
    ctx, acs, store = make_context()
    call = await call_at_main_menu(ctx)

    await deliver(ctx, "recognize_completed_choice", call, choiceResult={"label": "order-status"})

    [recognize] = acs.ops
    assert recognize.request.input_type == "dtmf"
    assert context(recognize) == "order-number"
    assert recognize.request.stop_tones == ("pound",)
    assert recognize.request.prompts[0].text.startswith("Please key in your order number")
    assert store.states[call].step == "order-number"


async def test_caller_keys_1_reported_as_raw_tones_also_chooses_order_status():
    ctx, _, store = make_context()
    call = await call_at_main_menu(ctx)

    await deliver(
        ctx,
        "recognize_completed_choice",
        call,
        recognitionType="dtmf",
        choiceResult=None,
        dtmfResult={"tones": ["one"]},
    )

    assert store.states[call].step == "order-number"


async def test_caller_says_agent_and_hears_hold_music_while_the_agent_is_invited():
    ctx, acs, store = make_context()
    call = await call_at_main_menu(ctx)

    await deliver(ctx, "recognize_completed_choice", call)

    play, add = acs.ops
    assert play.name == "play" and play.request.loop is True
    assert play.request.prompts[0].audio_url == "https://media.example/hold.wav"
    assert add.name == "add-participant" and add.request.target == AGENT
    assert add.request.invitation_timeout == 30 and add.request.caller_id is None
    assert "Repeatability-Request-ID" in add.headers
    assert store.states[call].step == "connecting-agent"


async def test_no_input_reprompts_with_an_apology():
    ctx, acs, store = make_context()
    call = await call_at_main_menu(ctx)

    await deliver(ctx, "recognize_failed", call)

    [recognize] = acs.ops
    assert recognize.request.prompts[0].text == "Sorry, I didn't catch that."
    assert context(recognize) == "main-menu"
    assert store.states[call].retries == 1


async def test_three_no_inputs_say_goodbye_and_hang_up():
    ctx, acs, store = make_context()
    call = await call_at_main_menu(ctx)

    for _ in range(3):
        await deliver(ctx, "recognize_failed", call)
    assert acs.names() == ["recognize", "recognize", "play"]
    assert context(acs.ops[-1]) == "goodbye"

    await deliver(ctx, "play_completed", call)

    hang_up = acs.ops[-1]
    assert hang_up.name == "hang-up" and hang_up.request.for_everyone is True
    assert store.states[call].step == "hanging-up"


async def test_unrecognised_choice_counts_as_a_failed_attempt():
    ctx, acs, store = make_context()
    call = await call_at_main_menu(ctx)

    await deliver(ctx, "recognize_completed_choice", call, choiceResult={"label": "billing"})

    assert acs.names() == ["recognize"]
    assert store.states[call].retries == 1


async def test_same_recognize_completed_delivered_twice_acts_once():
    ctx, acs, _ = make_context()
    call = await call_at_main_menu(ctx)

    await deliver(ctx, "recognize_completed_choice", call, event_id="menu-1")
    await deliver(ctx, "recognize_completed_choice", call, event_id="menu-1")

    assert acs.names() == ["play", "add-participant"]


async def test_late_menu_result_after_the_caller_moved_on_is_ignored():
    ctx, acs, store = make_context()
    call = await call_at_main_menu(ctx)
    await deliver(ctx, "recognize_completed_choice", call, choiceResult={"label": "order-status"})
    acs.ops.clear()

    await deliver(ctx, "recognize_completed_choice", call)  # a second menu result, for a step already left

    assert acs.ops == []
    assert store.states[call].step == "order-number"
