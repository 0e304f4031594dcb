"""Recording policy: a recorded flow's call is recorded from connect, once, without delaying the greeting; state
changes are noted."""

import pytest
from azure.core.exceptions import HttpResponseError

from tests.fixtures.fakes import CALLER, acs_not_found, answered_call, deliver, dispatch
from tests.fixtures.recording_fakes import CONTAINER, recording_context, typed_event


async def test_a_recorded_flow_starts_recording_right_after_the_greeting_is_sent():
    ctx, acs, store = recording_context(recording_channel="unmixed", recording_caller_channel=0)
    call = await answered_call(ctx)

    await deliver(ctx, "call_connected", call)

    assert acs.names()[1:] == ["play", "recognize", "start-recording"]
    [start] = acs.calls("start-recording")
    action = start.request
    assert start.call_connection_id == call and action.callback_url == "https://app.example/api/callbacks"
    assert (action.content, action.channel, action.container_url) == ("audio", "unmixed", CONTAINER)
    assert action.caller_channel == (0, CALLER)
    assert action.repeatability_key == f"{call}/recording"
    note = store.states[call].data["recording"]
    assert note["start"]["repeatability_key"] == f"{call}/recording" and note["wanted"] == "active"
    [recording_id] = acs.recordings.values()
    assert (await ctx.recordings.owner(recording_id)).call_connection_id == call


async def test_a_redelivered_call_connected_does_not_start_a_second_recording():
    ctx, acs, _ = recording_context()
    call = await answered_call(ctx)

    await deliver(ctx, "call_connected", call, event_id="connected-1")
    await deliver(ctx, "call_connected", call, event_id="connected-1")
    await deliver(ctx, "call_connected", call, event_id="connected-2")  # a different id, same call

    assert acs.names().count("start-recording") == 1


async def test_an_unrecorded_flow_is_not_recorded():
    ctx, acs, _ = recording_context(recording_enabled_flows=())
    call = await answered_call(ctx)

    await deliver(ctx, "call_connected", call)

    assert "start-recording" not in acs.names()


async def test_a_recording_that_cannot_start_leaves_the_flow_going():
    ctx, acs, store = recording_context()
    call = await answered_call(ctx)
    acs.fail_with["start-recording"] = HttpResponseError(message="Recording format is not supported")

    await deliver(ctx, "call_connected", call)

    assert acs.names()[-3:] == ["play", "recognize", "start-recording"]
    state = store.states[call]
    assert state.step == "main-menu" and state.deadline > ctx.clock()  # the menu waits as usual
    assert state.data["recording"]["error"] == "Recording format is not supported"
    assert not state.data["recording"]["start"]  # nothing to pause later


@pytest.mark.parametrize("gone_at", ["play", "start-recording"])
async def test_a_caller_who_hangs_up_before_the_recording_starts_leaves_a_note_saying_so(gone_at):
    ctx, acs, store = recording_context()
    call = await answered_call(ctx)
    acs.fail_with[gone_at] = acs_not_found("Call not found")  # the caller hung up during the greeting

    await deliver(ctx, "call_connected", call)

    note = store.states[call].data["recording"]
    assert note["error"] == "The call ended before the recording started."
    assert not note["start"] and not acs.recordings


async def test_state_changes_are_noted_once_each():
    ctx, _, store = recording_context()
    call = await answered_call(ctx)
    await deliver(ctx, "call_connected", call)
    [recording_id] = ctx.acs.recordings.values()

    await deliver(ctx, "recording_state_changed", call, event_id="rec-1", recordingId=recording_id, state="active")
    await deliver(ctx, "recording_state_changed", call, event_id="rec-1", recordingId=recording_id, state="active")
    await deliver(ctx, "recording_state_changed", call, event_id="rec-2", recordingId=recording_id, state="inactive")

    note = store.states[call].data["recording"]
    assert note["state"] == "inactive"
    assert [state for _, state in note["history"]] == ["active", "inactive"]


async def test_a_failed_start_is_noted():
    ctx, _, store = recording_context()
    call = await answered_call(ctx)
    await deliver(ctx, "call_connected", call)
    failed = typed_event(
        "recording_state_changed",
        "StartRecordingFailed",
        call,
        resultInformation={"code": 400, "subCode": 8557, "message": "bad format"},
    )

    await dispatch(failed, ctx)

    note = store.states[call].data["recording"]
    assert note["state"] == "failed" and note["error"] == "400/8557 bad format"
