"""The recording_file_status Event Grid function: a valid event is indexed, a malformed one is logged and dropped."""

import logging

import azure.functions as func
import pytest

from shared import clients
from shared.recordings import RecordingOwner
from tests.fixtures.recording_fakes import recording_context
from tests.handlers.test_recording_files import DATA, RECORDING, SUBJECT
from tests.test_function_app import FUNCTIONS  # app.get_functions() may run only once per process


@pytest.fixture
def app_context():
    ctx, _, _ = recording_context()
    clients.use(ctx)
    yield ctx
    clients.use(None)


def event_grid(data, subject=SUBJECT) -> func.EventGridEvent:
    return func.EventGridEvent(
        id="evt-1",
        data=data,
        topic="acs",
        subject=subject,
        event_type="Microsoft.Communication.RecordingFileStatusUpdated",
        event_time=None,
        data_version="1.0",
    )


async def test_a_file_event_is_indexed(app_context):
    await app_context.recordings.put_owner(RecordingOwner(recording_id=RECORDING, call_connection_id="call-1"))

    await FUNCTIONS["recording_file_status"](event_grid(DATA))

    assert [r.recording_id for r in await app_context.recordings.list("call-1")] == [RECORDING]


async def test_a_malformed_file_event_is_logged_and_dropped(app_context, caplog):
    with caplog.at_level(logging.WARNING):
        await FUNCTIONS["recording_file_status"](event_grid({"recordingDurationMs": 1}))

    assert "recordingChunks must be a non-empty list" in caplog.text
    assert app_context.recordings.rows == {}
