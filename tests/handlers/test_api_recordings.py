"""HTTP API, recording and streaming: what the app asks of ACS, what is noted, and the 404/409/400 answers."""

from types import SimpleNamespace

import pytest
from azure.core.exceptions import HttpResponseError

from shared.actions import StartRecording
from shared.recordings import IndexedRecording
from shared.transcripts import TranscriptLine
from tests.fixtures.fakes import acs_not_found, answered_call, deliver
from tests.fixtures.outbound_fakes import api
from tests.fixtures.recording_fakes import recording_context

RECORDING = "calls/{callId}/recording"
TRANSCRIPTION = "calls/{callId}/transcription"


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

    status, answer = await api(ctx, "POST", RECORDING, callId=call)

    assert status == 409 and answer["error"]["code"] == "Conflict"
    assert answer["error"]["message"] == f"call {call} is already being recorded (recording {recording_id})"
    assert acs.ops == []


async def test_acs_refusing_a_duplicate_start_is_a_conflict_too():
    ctx, acs, _, call = await recorded_call(recording_enabled_flows=())
    duplicate = HttpResponseError(message="A recording is already in progress for this call.")
    duplicate.error = SimpleNamespace(code="8559")
    acs.fail_with["start-recording"] = duplicate

    status, answer = await api(ctx, "POST", RECORDING, callId=call)

    assert status == 409 and "already in progress" in answer["error"]["message"]


async def test_an_agent_starts_a_recording_with_its_own_options():
    ctx, acs, store, call = await recorded_call(recording_enabled_flows=())

    status, answer = await api(ctx, "POST", RECORDING, {"format": "mp3", "pauseOnStart": True}, callId=call)

    [start] = acs.actions(StartRecording)
    assert start.format == "mp3" and start.pause_on_start is True
    assert status == 202 and answer == {
        "recordingId": store.states[call].data["recording"]["id"],
        "pausedOnStart": True,
    }
    assert store.states[call].data["recording"]["wanted"] == "paused"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"format": "ogg"}, 400, "format must be one of wav, mp3, mp4"),
        ({"pauseOnStart": "yes"}, 400, "pauseOnStart must be true or false"),
        ({"channel": "unmixed", "format": "mp3"}, 409, "ACS cannot record unmixed audio as mp3"),
    ],
)
async def test_start_options_are_validated(body, status, message):
    ctx, _, _, call = await recorded_call(recording_enabled_flows=())

    answered, answer = await api(ctx, "POST", RECORDING, body, callId=call)

    assert answered == status and answer["error"]["message"].startswith(message)


async def test_an_unknown_call_is_404():
    ctx, _, _, _ = await recorded_call()

    status, answer = await api(ctx, "POST", RECORDING + "/pause", callId="nobody")

    assert status == 404 and answer["error"] == {"code": "NotFound", "message": "call nobody is not known to this app"}


async def test_resuming_while_the_caller_keys_a_card_is_refused():
    ctx, acs, _, call = await recorded_call()
    await deliver(ctx, "recognize_completed_choice", call, choiceResult={"label": "pay-bill"})
    acs.ops.clear()

    status, answer = await api(ctx, "POST", RECORDING + "/resume", callId=call)

    assert status == 409 and "keying sensitive digits" in answer["error"]["message"]
    assert acs.ops == []


async def test_pausing_a_recording_acs_has_not_named_yet_learns_its_id_by_replaying_the_start():
    ctx, acs, _ = recording_context()
    call = await answered_call(ctx)
    await deliver(ctx, "call_connected", call)  # RecordingStateChanged is still on its way
    [recording_id] = acs.recordings.values()
    acs.ops.clear()

    status, answer = await api(ctx, "POST", RECORDING + "/pause", callId=call)

    assert status == 202 and answer == {"recordingId": recording_id, "wanted": "paused"}
    assert acs.names() == ["start-recording", "pause-recording"] and len(acs.recordings) == 1


async def test_pause_resume_and_stop_reach_acs_and_are_noted():
    ctx, acs, store, call = await recorded_call()
    recording_id = store.states[call].data["recording"]["id"]

    await api(ctx, "POST", RECORDING + "/pause", callId=call)
    assert store.states[call].data["recording"]["wanted"] == "paused"
    await api(ctx, "POST", RECORDING + "/resume", callId=call)
    assert await api(ctx, "DELETE", RECORDING, callId=call) == (204, None)

    assert [(op.name, op.request) for op in acs.ops] == [
        ("pause-recording", recording_id),
        ("resume-recording", recording_id),
        ("stop-recording", recording_id),
    ]
    status, answer = await api(ctx, "DELETE", RECORDING, callId=call)
    assert status == 409 and "is not being recorded" in answer["error"]["message"]


async def test_a_recording_that_has_stopped_is_404_from_the_api_but_skipped_by_the_flow():
    """One path for pausing (Acs.change_recording): the API reports ACS's 404, the flow carries on without it."""
    ctx, acs, store, call = await recorded_call()
    acs.fail_with["pause-recording"] = acs_not_found("Recording not found")

    status, answer = await api(ctx, "POST", RECORDING + "/pause", callId=call)
    assert status == 404 and answer["error"]["message"] == "ACS rejected the request: Recording not found"

    acs.fail_with["pause-recording"] = acs_not_found("Recording not found")
    await deliver(ctx, "recognize_completed_choice", call, choiceResult={"label": "pay-bill"})
    assert store.states[call].step == "card-number" and acs.names()[-2:] == ["pause-recording", "recognize"]


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

    status, answer = await api(ctx, "GET", "calls/{callId}/recordings", callId=call)

    assert status == 200 and answer["current"]["id"] == store.states[call].data["recording"]["id"]
    assert [r["recordingId"] for r in answer["recordings"]] == ["old"]
    missing = await api(ctx, "GET", "calls/{callId}/recordings", callId="nobody")
    assert missing == (404, {"error": {"code": "NotFound", "message": "call nobody is not known to this app"}})


async def test_streaming_and_transcription_requests_reach_the_call():
    ctx, acs, store, call = await recorded_call(recording_enabled_flows=())

    answers = [
        await api(ctx, "POST", "calls/{callId}/media-streaming", callId=call),
        await api(ctx, "DELETE", "calls/{callId}/media-streaming", callId=call),
        await api(ctx, "POST", TRANSCRIPTION, callId=call),
        await api(ctx, "PATCH", TRANSCRIPTION, {"locale": "de-DE"}, callId=call),
        await api(ctx, "DELETE", TRANSCRIPTION, callId=call),
    ]

    assert [op.request for op in acs.ops] == [
        (True, "api-media-streaming"),
        (False, "api-media-streaming"),
        ("start", "en-US", "api-transcription"),
        ("update", "de-DE", "api-transcription"),
        ("stop", None, "api-transcription"),
    ]
    assert answers[2] == (202, {"transcription": "starting", "locale": "en-US"})
    assert answers[1] == (202, {"mediaStreaming": "stopping"})
    assert store.states[call].data["transcription"]["locale"] == "de-DE"


async def test_streaming_without_a_receiver_is_refused_and_locales_are_checked():
    ctx, _, _, call = await recorded_call(recording_enabled_flows=(), receiver_websocket_url=None)

    refused = await api(ctx, "POST", "calls/{callId}/media-streaming", callId=call)
    german = await api(ctx, "PATCH", TRANSCRIPTION, {"locale": "german"}, callId=call)

    assert refused[0] == 409 and "set RECEIVER_WEBSOCKET_URL" in refused[1]["error"]["message"]
    assert german == (400, {"error": {"code": "BadRequest", "message": 'locale must be a locale such as "en-US"'}})


async def test_the_transcript_lists_lines_in_speaking_order():
    ctx, _, _, call = await recorded_call(recording_enabled_flows=())
    for offset, text in ((30_000_000, "second"), (10_000_000, "first")):
        line = TranscriptLine(call_connection_id=call, offset=offset, duration=5_000_000, text=text, confidence=0.9)
        await ctx.transcripts.add(line)

    status, answer = await api(ctx, "GET", "calls/{callId}/transcript", callId=call)

    assert status == 200 and [(line["text"], line["offsetSeconds"]) for line in answer["lines"]] == [
        ("first", 1.0),
        ("second", 3.0),
    ]
    assert (await api(ctx, "GET", "calls/{callId}/transcript", callId="nobody"))[0] == 404
