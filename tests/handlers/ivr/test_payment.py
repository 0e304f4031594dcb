"""Pay a bill: the recording pauses for the card number and resumes after; only the last four digits are kept."""

import logging
from dataclasses import replace

import pytest

from handlers.ivr.payment import is_card_number, masked
from shared.validation import TONE_NAMES
from tests.fixtures.fakes import answered_call, context, deliver
from tests.fixtures.recording_fakes import recording_context

CARD = "4242424242424242"


async def at_main_menu(ctx, acs, *, recording_reported=True):
    """An IVR call waiting for a menu choice; returns the call and its recording id (None: not recorded).

    recording_reported: whether ACS's RecordingStateChanged (which names the recording) has been handled yet.
    """
    call = await answered_call(ctx)
    await deliver(ctx, "call_connected", call)
    [recording_id] = acs.recordings.values() or [None]
    if recording_id and recording_reported:
        await deliver(ctx, "recording_state_changed", call, recordingId=recording_id, state="active")
    acs.ops.clear()
    return call, recording_id


async def choose_pay_bill(ctx, call):
    await deliver(ctx, "recognize_completed_choice", call, choiceResult={"label": "pay-bill"})


async def key(ctx, call, keys):
    tones = [TONE_NAMES[k] for k in keys]
    await deliver(ctx, "recognize_completed_dtmf", call, operationContext="card-number", dtmfResult={"tones": tones})


async def test_pay_bill_pauses_the_recording_then_asks_for_the_card():
    ctx, acs, store = recording_context()
    call, recording_id = await at_main_menu(ctx, acs)

    await choose_pay_bill(ctx, call)

    pause, recognize = acs.ops
    assert (pause.name, pause.request) == ("pause-recording", recording_id)
    assert context(recognize) == "card-number"
    assert recognize.request.max_tones == 17
    assert recognize.request.prompts[0].text.startswith("Please key in your 16-digit card number")
    assert store.states[call].data["recording"]["sensitive"] is True


async def test_pausing_before_acs_named_the_recording_replays_its_start_request_to_learn_the_id():
    ctx, acs, _ = recording_context()
    call, recording_id = await at_main_menu(ctx, acs, recording_reported=False)

    await choose_pay_bill(ctx, call)

    replay, pause, _ = acs.ops
    assert replay.name == "start-recording" and acs.recordings == {replay.request.repeatability_key: recording_id}
    assert (pause.name, pause.request) == ("pause-recording", recording_id)


async def test_a_valid_card_resumes_recording_and_reads_back_the_last_four_digits(caplog):
    ctx, acs, store = recording_context()
    call, recording_id = await at_main_menu(ctx, acs)
    await choose_pay_bill(ctx, call)
    acs.ops.clear()

    with caplog.at_level(logging.INFO):
        await key(ctx, call, CARD + "#")

    resume, play, menu = acs.ops
    assert (resume.name, resume.request) == ("resume-recording", recording_id)
    assert play.request.prompts[0].text == "Thank you. The card ending in 4 2 4 2 has been accepted."
    assert context(menu) == "main-menu"
    state = store.states[call]
    assert state.step == "main-menu" and state.data["payment"] == {"card_last4": "4242"}
    assert state.data["recording"]["sensitive"] is False
    assert CARD not in repr(state) and CARD not in caplog.text
    assert "************4242" in caplog.text


async def test_an_invalid_card_asks_again_with_the_recording_still_paused():
    ctx, acs, store = recording_context()
    call, _ = await at_main_menu(ctx, acs)
    await choose_pay_bill(ctx, call)
    acs.ops.clear()

    await key(ctx, call, "4242424242424241#")

    [recognize] = acs.ops
    assert recognize.request.prompts[0].text == "Sorry, that card number is not valid."
    assert store.states[call].step == "card-number" and store.states[call].data["recording"]["sensitive"] is True


async def test_giving_up_on_the_card_resumes_the_recording_before_goodbye():
    ctx, acs, store = recording_context()
    call, _ = await at_main_menu(ctx, acs)
    await choose_pay_bill(ctx, call)
    acs.ops.clear()

    for _ in range(3):
        await deliver(ctx, "recognize_failed", call, operationContext="card-number")

    assert acs.names()[-2:] == ["resume-recording", "play"]
    assert store.states[call].step == "goodbye"


async def test_a_recording_an_agent_paused_stays_paused_after_the_card():
    ctx, acs, store = recording_context()
    call, _ = await at_main_menu(ctx, acs)
    state = store.states[call]
    paused = {**state.data["recording"], "wanted": "paused"}  # as POST .../recording/pause leaves it
    store.states[call] = replace(state, data={**state.data, "recording": paused})
    await choose_pay_bill(ctx, call)
    acs.ops.clear()

    await key(ctx, call, CARD + "#")

    assert "resume-recording" not in acs.names()


async def test_an_unrecorded_call_takes_card_payments_without_pausing():
    ctx, acs, store = recording_context(recording_enabled_flows=())
    call, recording_id = await at_main_menu(ctx, acs)
    assert recording_id is None

    await choose_pay_bill(ctx, call)
    await key(ctx, call, CARD + "#")

    assert "pause-recording" not in acs.names() and "resume-recording" not in acs.names()
    assert store.states[call].data["payment"] == {"card_last4": "4242"}


@pytest.mark.parametrize(
    ("digits", "valid"),
    [(CARD, True), ("4111111111111111", True), ("4242424242424241", False), ("424242424242", False), ("", False)],
)
def test_card_numbers_are_16_digits_passing_the_luhn_check(digits, valid):
    assert is_card_number(digits) is valid


def test_masked_card_numbers_show_only_the_last_four_digits():
    assert masked(CARD) == "************4242" and masked("12") == "12"
