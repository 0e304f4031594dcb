"""RecordingFileStatusUpdated: validated, indexed under the call that started the recording, idempotent."""

import copy

import pytest

from handlers.recording_files import on_recording_file_status
from shared.errors import BadRequest
from shared.recordings import RecordingOwner, parse_recording_file_status
from tests.fixtures.recording_fakes import recording_context

RECORDING = "eyJQbGF0Zm9ybUVuZHBvaW50SWQiOiJjYWxsLTEifQ"
SUBJECT = f"/recording/call/corr-1/serverCallId/aHR0cHM6Ly9h/cGk=/recordingId/{RECORDING}"
DATA = {
    "recordingStorageInfo": {
        "recordingChunks": [
            {
                "documentId": "doc-1",
                "index": 0,
                "endReason": "SessionEnded",
                "contentLocation": "http://blob/recordings/20260312/corr-1/rec/0-audiowav.wav",
                "metadataLocation": "http://blob/recordings/20260312/corr-1/rec/0-acsmetadata.json",
                "deleteLocation": "http://blob/recordings/20260312/corr-1/rec/0-audiowav.wav",
            }
        ]
    },
    "recordingStartTime": "2026-03-12T10:00:00Z",
    "recordingDurationMs": 6620,
    "recordingContentType": "Audio",
    "recordingChannelType": "Mixed",
    "recordingFormatType": "Wav",
    "sessionEndReason": "CallEnded",
}


def file_event(event_id="evt-1", subject=SUBJECT, **changes):
    return parse_recording_file_status(event_id=event_id, subject=subject, data={**copy.deepcopy(DATA), **changes})


async def test_a_finished_recording_is_indexed_under_its_call():
    ctx, _, _ = recording_context()
    await ctx.recordings.put_owner(RecordingOwner(recording_id=RECORDING, call_connection_id="call-1"))

    await on_recording_file_status(file_event(), ctx)

    [indexed] = await ctx.recordings.list("call-1")
    assert indexed.server_call_id == "aHR0cHM6Ly9h/cGk="  # a serverCallId may contain "/"
    assert (indexed.correlation_id, indexed.duration_ms, indexed.session_end_reason) == ("corr-1", 6620, "CallEnded")
    assert indexed.to_json()["chunks"][0]["contentLocation"].endswith("0-audiowav.wav")
    assert indexed.to_entity()["metadata_location"].endswith("0-acsmetadata.json")


async def test_a_redelivered_file_event_rewrites_the_same_row():
    ctx, _, _ = recording_context()
    await ctx.recordings.put_owner(RecordingOwner(recording_id=RECORDING, call_connection_id="call-1"))

    await on_recording_file_status(file_event("evt-1"), ctx)
    await on_recording_file_status(file_event("evt-1"), ctx)

    assert len(await ctx.recordings.list("call-1")) == 1


async def test_a_recording_the_app_did_not_start_is_kept_but_under_no_call():
    ctx, _, _ = recording_context()

    await on_recording_file_status(file_event(), ctx)

    [(partition, _)] = ctx.recordings.rows
    assert partition.startswith("server-call-")


@pytest.mark.parametrize(
    ("subject", "changes", "message"),
    [
        ("/recording/call/x", {}, "is not /recording/call/"),
        (SUBJECT, {"recordingStorageInfo": {"recordingChunks": []}}, "recordingChunks must be a non-empty list"),
        (SUBJECT, {"recordingDurationMs": -1}, "recordingDurationMs must be a non-negative integer"),
        (SUBJECT, {"recordingStartTime": None}, "data.recordingStartTime must be a non-empty string"),
        (
            SUBJECT,
            {"recordingStorageInfo": {"recordingChunks": [{"documentId": "d", "metadataLocation": "m"}]}},
            r"recordingChunks\[0\].contentLocation must be a non-empty string",
        ),
    ],
)
def test_malformed_file_events_are_rejected_naming_the_field(subject, changes, message):
    with pytest.raises(BadRequest, match=message):
        file_event(subject=subject, **changes)
