"""Order status: keyed order number, status read back, unknown orders and retries."""

from tests.fixtures.fakes import call_at_main_menu, context, deliver, make_context


async def order_number_step(ctx):
    call = await call_at_main_menu(ctx)
    await deliver(ctx, "recognize_completed_choice", call, choiceResult={"label": "order-status"})
    ctx.acs.ops.clear()
    return call


async def test_known_order_status_is_read_back_then_the_menu_returns():
    ctx, acs, store = make_context()
    call = await order_number_step(ctx)

    await deliver(ctx, "recognize_completed_dtmf", call)  # keys 1 2 3 4 5 #

    play, menu = acs.ops
    assert play.request.prompts[0].text == "Order 1 2 3 4 5 is out for delivery."
    assert context(play) == "order-status"
    assert context(menu) == "main-menu"
    assert (store.states[call].step, store.states[call].retries) == ("main-menu", 0)


async def test_unknown_order_says_not_found_and_asks_again():
    ctx, acs, store = make_context()
    call = await order_number_step(ctx)

    await deliver(ctx, "recognize_completed_dtmf", call, dtmfResult={"tones": ["nine", "nine", "pound"]})

    [ask] = acs.ops
    prompts = [p.text for p in ask.request.prompts]
    assert prompts[0] == "Sorry, we could not find order 9 9."
    assert context(ask) == "order-number"
    assert store.states[call].retries == 1


async def test_only_pound_keyed_counts_as_no_input():
    ctx, acs, store = make_context()
    call = await order_number_step(ctx)

    await deliver(ctx, "recognize_completed_dtmf", call, dtmfResult={"tones": ["pound"]})

    assert acs.ops[0].request.prompts[0].text == "Sorry, I didn't catch that."
    assert store.states[call].retries == 1


async def test_three_failed_order_numbers_say_goodbye():
    ctx, acs, store = make_context()
    call = await order_number_step(ctx)

    await deliver(ctx, "recognize_failed", call, operationContext="order-number")
    await deliver(ctx, "recognize_completed_dtmf", call, dtmfResult={"tones": ["nine", "pound"]})
    await deliver(ctx, "recognize_failed", call, operationContext="order-number")

    assert acs.ops[-1].name == "play" and context(acs.ops[-1]) == "goodbye"
    assert store.states[call].step == "goodbye"
