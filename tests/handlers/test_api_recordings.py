"""HTTP API, recording and streaming: what reaches ACS, what is noted, and the 404/409/400 answers."""

from types import SimpleNamespace

import pytest
from azure.core.exceptions import HttpResponseError

from handlers import api_recordings, api_streaming
from handlers.api_recordings import Conflict
from shared.api import ApiRequest, NotFound
from shared.errors import BadRequest
from shared.recordings import IndexedRecording
from shared.transcripts import TranscriptLine
from shared.validation import Body
from tests.fixtures.fakes import answered_call, deliver
from tests.fixtures.recording_fakes import recording_context


def request(call, body=None):
    return ApiRequest(body=Body(body or {}), params={"callId": call})


async def recorded_call(**settings):
    """A connected IVR call; recorded (and the recording's RecordingStateChanged handled) unless the flow is not."""
    ctx, acs, store = recording_context(**settings)
    call = await answered_call(ctx)
    await deliver(ctx, "call_connected", call)
    for recording_id in acs.recordings.values():
        await deliver(ctx, "recording_state_changed", call, recordingId=recording_id, state="active")
    acs.ops.clear()
    return ctx, acs, store, call


async def test_starting_a_second_recording_is_a_conflict():
    ctx, acs, store, call = await recorded_call()
    recording_id = store.states[call].data["recording"]["id"]

    with pytest.raises(Conflict, match=f"already being recorded \\(recording {recording_id}\\)"):
        await api_recordings.start(request(call), ctx)
    assert acs.ops == []


async def test_acs_refusing_a_duplicate_start_is_a_conflict_too():
    ctx, acs, _, call = await recorded_call(recording_enabled_flows=())
    duplicate = HttpResponseError(message="A recording is already in progress for this call.")
    duplicate.error = SimpleNamespace(code="8559")
    acs.fail_with["start_recording"] = duplicate

    with pytest.raises(Conflict, match="already in progress"):
        await api_recordings.start(request(call), ctx)


async def test_an_agent_starts_a_recording_with_its_own_options():
    ctx, acs, store, call = await recorded_call(recording_enabled_flows=())

    reply = await api_recordings.start(request(call, {"format": "mp3", "pauseOnStart": True}), ctx)

    [start] = acs.calls("start_recording")
    assert start.kwargs["recording_format_type"] == "mp3" and start.kwargs["pause_on_start"] is True
    assert reply.status == 202 and reply.body["recordingId"] == store.states[call].data["recording"]["id"]
    assert store.states[call].data["recording"]["wanted"] == "paused"


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        ({"format": "ogg"}, BadRequest, "format must be one of wav, mp3, mp4"),
        ({"channel": "unmixed", "format": "mp3"}, Conflict, "cannot record unmixed audio as mp3"),
    ],
)
async def test_start_options_are_validated(body, error, message):
    ctx, _, _, call = await recorded_call(recording_enabled_flows=())

    with pytest.raises(error, match=message):
        await api_recordings.start(request(call, body), ctx)


async def test_resuming_while_the_caller_keys_a_card_is_refused():
    ctx, acs, _, call = await recorded_call()
    await deliver(ctx, "recognize_completed_choice", call, choiceResult={"label": "pay-bill"})
    acs.ops.clear()

    with pytest.raises(Conflict, match="keying sensitive digits"):
        await api_recordings.resume(request(call), ctx)
    assert acs.ops == []


async def test_pausing_a_recording_acs_has_not_named_yet_learns_its_id_by_replaying_the_start():
    ctx, acs, _ = recording_context()
    call = await answered_call(ctx)
    await deliver(ctx, "call_connected", call)  # RecordingStateChanged is still on its way
    [recording_id] = acs.recordings.values()
    acs.ops.clear()

    reply = await api_recordings.pause(request(call), ctx)

    assert reply.body["recordingId"] == recording_id
    assert acs.names() == ["start_recording", "pause_recording"] and len(acs.recordings) == 1


async def test_pause_resume_and_stop_reach_acs_and_are_noted():
    ctx, acs, store, call = await recorded_call()
    recording_id = store.states[call].data["recording"]["id"]

    await api_recordings.pause(request(call), ctx)
    assert store.states[call].data["recording"]["wanted"] == "paused"
    await api_recordings.resume(request(call), ctx)
    assert (await api_recordings.stop(request(call), ctx)).status == 204

    assert [(op.name, op.args) for op in acs.ops] == [
        ("pause_recording", (recording_id,)),
        ("resume_recording", (recording_id,)),
        ("stop_recording", (recording_id,)),
    ]
    with pytest.raises(Conflict, match="is not being recorded"):
        await api_recordings.stop(request(call), ctx)


async def test_recordings_of_a_call_list_finished_ones_and_the_current_one():
    ctx, _, store, call = await recorded_call()
    finished = IndexedRecording(
        call_connection_id=call,
        recording_id="old",
        server_call_id="s",
        correlation_id="c",
        start_time="2026-03-12T10:00:00Z",
        duration_ms=1000,
        session_end_reason="StopRecordingRequested",
        content_type="Audio",
        channel_type="Mixed",
        format_type="Wav",
    )
    await ctx.recordings.put(finished)

    reply = await api_recordings.list_recordings(request(call), ctx)

    assert reply.body["current"]["id"] == store.states[call].data["recording"]["id"]
    assert [r["recordingId"] for r in reply.body["recordings"]] == ["old"]
    with pytest.raises(NotFound, match="call nobody is not known to this app"):
        await api_recordings.list_recordings(request("nobody"), ctx)


async def test_streaming_and_transcription_requests_reach_the_call():
    ctx, acs, store, call = await recorded_call(recording_enabled_flows=())

    await api_streaming.start_media_streaming(request(call), ctx)
    await api_streaming.stop_media_streaming(request(call), ctx)
    await api_streaming.start_transcription(request(call), ctx)
    await api_streaming.update_transcription(request(call, {"locale": "de-DE"}), ctx)
    await api_streaming.stop_transcription(request(call), ctx)

    assert acs.names() == [
        "start_media_streaming",
        "stop_media_streaming",
        "start_transcription",
        "update_transcription",
        "stop_transcription",
    ]
    assert acs.calls("start_transcription")[0].kwargs["locale"] == "en-US"
    assert store.states[call].data["transcription"]["locale"] == "de-DE"


async def test_streaming_without_a_receiver_is_refused_and_locales_are_checked():
    ctx, _, _, call = await recorded_call(recording_enabled_flows=(), receiver_websocket_url=None)

    with pytest.raises(Conflict, match="set RECEIVER_WEBSOCKET_URL"):
        await api_streaming.start_media_streaming(request(call), ctx)
    with pytest.raises(BadRequest, match="locale must be a locale"):
        await api_streaming.update_transcription(request(call, {"locale": "german"}), ctx)


async def test_the_transcript_lists_lines_in_speaking_order():
    ctx, _, _, call = await recorded_call(recording_enabled_flows=())
    for offset, text in ((30_000_000, "second"), (10_000_000, "first")):
        line = TranscriptLine(call_connection_id=call, offset=offset, duration=5_000_000, text=text, confidence=0.9)
        await ctx.transcripts.add(line)

    reply = await api_streaming.get_transcript(request(call), ctx)

    assert [(line["text"], line["offsetSeconds"]) for line in reply.body["lines"]] == [("first", 1.0), ("second", 3.0)]
    with pytest.raises(NotFound):
        await api_streaming.get_transcript(request("nobody"), ctx)
