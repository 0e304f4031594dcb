"""Call recording with the real SDK: state events, pause/resume, the WAV in Blob storage, RecordingFileStatusUpdated."""

import base64
import io
import json
import math
import sys
import wave
from array import array

import aiohttp
import pytest
import requests
from azure.communication.callautomation import (
    AzureBlobContainerRecordingStorage,
    CallAutomationClient,
    ChannelAffinity,
)
from azure.communication.callautomation.aio import CallAutomationClient as AsyncCallAutomationClient
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.blob import BlobClient

from devhost.azurite import ACCOUNT_KEY, ACCOUNT_NAME
from emulator.recording.operations import FILE_READY_SECONDS
from emulator.server import EmulatorServer
from emulator.testing import EventGridRecorder
from tests.emulator.conftest import MediaCall
from tests.emulator.stream_support import eventually

pytestmark = pytest.mark.usefixtures("conformant_events")
WINDOW_SECONDS = 0.1
LOUD = 1000.0  # RMS of the emulator's 440 Hz tone is ~6950; silence is 0


def decode_recording_id(recording_id: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(recording_id + "=" * (-len(recording_id) % 4)))


def recording_view(emulator: EmulatorServer, recording_id: str) -> dict:
    response = requests.get(f"{emulator.url}/emulator/recordings/{recording_id}", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def file_event(emulator: EmulatorServer, eventgrid: EventGridRecorder, recording_id: str) -> dict:
    """RecordingFileStatusUpdated for a stopped recording, which the emulator publishes a second after the stop."""
    emulator.advance(FILE_READY_SECONDS)
    return eventgrid.wait_for("RecordingFileStatusUpdated", predicate=lambda e: e["subject"].endswith(recording_id))


def download_blob(url: str) -> bytes:
    with BlobClient.from_blob_url(url, credential={"account_name": ACCOUNT_NAME, "account_key": ACCOUNT_KEY}) as blob:
        return blob.download_blob().readall()


def window_levels(wav: bytes) -> list[float]:
    """RMS of each 100 ms window of a PCM16 mono WAV."""
    with wave.open(io.BytesIO(wav)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 2, 16000)
        samples = array("h", reader.readframes(reader.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    size = round(16000 * WINDOW_SECONDS)
    return [
        math.sqrt(sum(s * s for s in samples[i : i + size]) / size) for i in range(0, len(samples) - size + 1, size)
    ]


def wav_seconds(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav)) as reader:
        return reader.getnframes() / reader.getframerate()


def assert_silent_only_while_paused(wav: bytes, metadata: dict) -> None:
    """Windows wholly inside a paused span are silent, windows wholly inside an active span carry the tone."""
    squeeze = metadata["emulator"]["wavTimeScale"]

    def inside(spans: list[dict], start: float) -> bool:
        return any(
            s["startMs"] / 1000 * squeeze <= start and start + WINDOW_SECONDS <= s["endMs"] / 1000 * squeeze
            for s in spans
        )

    levels = window_levels(wav)
    paused = [
        level for i, level in enumerate(levels) if inside(metadata["emulator"]["pausedIntervals"], i * WINDOW_SECONDS)
    ]
    active = [
        level for i, level in enumerate(levels) if inside(metadata["emulator"]["activeIntervals"], i * WINDOW_SECONDS)
    ]
    assert paused and active
    assert max(paused) == 0
    assert min(active) > LOUD


def test_paused_span_is_silent_in_the_wav_written_to_blob_storage(
    emulator: EmulatorServer,
    client: CallAutomationClient,
    media_call,
    eventgrid: EventGridRecorder,
    recording_container: str,
) -> None:
    call: MediaCall = media_call()
    properties = call.connection.get_call_properties()
    server_call_id = properties.server_call_id
    started = client.start_recording(
        call_connection_id=call.id,
        recording_state_callback_url=call.recorder.url + "/recording",
        recording_content_type="audio",
        recording_channel_type="mixed",
        recording_format_type="wav",
        recording_storage=AzureBlobContainerRecordingStorage(recording_container),
    )
    recording_id = started.recording_id
    assert (started.recording_state, started.recording_kind) == ("inactive", "azureCommunicationServices")
    assert decode_recording_id(recording_id)["PlatformEndpointId"] == call.id

    active = call.wait("RecordingStateChanged", state="active")
    assert active["_path"] == "/callbacks/recording"
    assert active["source"] == f"calling/recordings/{server_call_id}/{recording_id}/RecordingStateChanged"
    assert active["data"]["recordingId"] == recording_id
    assert client.get_recording_properties(recording_id).recording_state == "active"
    emulator.advance(2)

    client.pause_recording(recording_id)
    call.wait("RecordingStateChanged", state="inactive")
    client.pause_recording(recording_id)  # pausing a paused recording is accepted and changes nothing
    assert client.get_recording_properties(recording_id).recording_state == "inactive"
    emulator.advance(2)
    client.resume_recording(recording_id)
    call.wait("RecordingStateChanged", state="active", count=2)
    emulator.advance(2)
    client.stop_recording(recording_id)
    with pytest.raises(ResourceNotFoundError) as gone:
        client.get_recording_properties(recording_id)
    assert gone.value.error.code == "8522"

    event = file_event(emulator, eventgrid, recording_id)
    # As on the live service, a stop sends no RecordingStateChanged: the last one the app heard is `active`.
    assert [e["data"]["state"] for e in call.events("RecordingStateChanged")] == ["active", "inactive", "active"]
    data = event["data"]
    assert event["subject"] == (
        f"/recording/call/{properties.correlation_id}/serverCallId/{server_call_id}/recordingId/{recording_id}"
    )
    assert (data["recordingContentType"], data["recordingChannelType"], data["recordingFormatType"]) == (
        "Audio",
        "Mixed",
        "Wav",
    )
    chunk = data["recordingStorageInfo"]["recordingChunks"][0]
    assert chunk["index"] == 0 and chunk["endReason"] == "SessionEnded"
    assert chunk["contentLocation"].startswith(recording_container + "/")
    assert chunk["contentLocation"].endswith(f"/{recording_id}/0-audiowav.wav")
    wav = download_blob(chunk["contentLocation"])
    metadata = json.loads(download_blob(chunk["metadataLocation"]))

    assert metadata["chunkDuration"] == data["recordingDurationMs"] == 6000
    assert wav_seconds(wav) == pytest.approx(
        data["recordingDurationMs"] / 1000 * metadata["emulator"]["wavTimeScale"], abs=0.01
    )
    assert len(metadata["emulator"]["activeIntervals"]) == 2
    assert len(metadata["emulator"]["pausedIntervals"]) == len(metadata["pauseResumeIntervals"]) == 1
    paused = metadata["emulator"]["pausedIntervals"][0]
    assert (paused["startMs"], paused["endMs"]) == (2000, 4000)
    assert metadata["pauseResumeIntervals"][0]["duration"] == pytest.approx(paused["endMs"] - paused["startMs"], abs=1)
    assert metadata["participants"] == [{"participantId": call.person.raw_id}]
    assert metadata["recordingInfo"]["format"] == "wav"
    assert_silent_only_while_paused(wav, metadata)
    # Written to the app's container, and still downloadable from the emulator without the container's key.
    assert emulator.control.recording_content(recording_id) == wav


async def test_pause_on_start_by_server_call_id_keeps_the_file_in_the_emulator(
    emulator: EmulatorServer, aio_client: AsyncCallAutomationClient, media_call, eventgrid: EventGridRecorder
) -> None:
    call: MediaCall = media_call()
    server_call_id = call.connection.get_call_properties().server_call_id
    started = await aio_client.start_recording(
        server_call_id=server_call_id, pause_on_start=True, recording_content_type="audio", recording_format_type="mp3"
    )
    recording_id = started.recording_id
    inactive = call.wait("RecordingStateChanged", state="inactive")
    assert inactive["_path"] == "/callbacks"  # no recordingStateCallbackUri: the call's callback
    assert (await aio_client.get_recording_properties(recording_id)).recording_state == "inactive"
    emulator.advance(1)
    await aio_client.resume_recording(recording_id)
    call.wait("RecordingStateChanged", state="active")
    assert (await aio_client.get_recording_properties(recording_id)).recording_state == "active"
    emulator.advance(1)
    await aio_client.stop_recording(recording_id)

    data = file_event(emulator, eventgrid, recording_id)["data"]
    assert (data["recordingContentType"], data["recordingFormatType"]) == ("Audio", "Mp3")
    assert data["sessionEndReason"] == "StopRecordingRequested"
    chunk = data["recordingStorageInfo"]["recordingChunks"][0]
    assert chunk["contentLocation"] == f"{emulator.url}/emulator/recordings/{recording_id}/content"
    async with aiohttp.ClientSession() as session:
        async with session.get(chunk["contentLocation"]) as response:
            wav = await response.read()
        async with session.get(chunk["metadataLocation"]) as response:
            metadata = await response.json()
    assert metadata["emulator"]["pausedIntervals"][0]["startMs"] == 0
    assert_silent_only_while_paused(wav, metadata)
    view = recording_view(emulator, recording_id)
    assert view["state"] == "stopped" and view["file"]["status"] == "ready"
    assert view["activeIntervals"] == metadata["emulator"]["activeIntervals"]


def test_the_end_of_the_call_stops_the_recording(
    emulator: EmulatorServer, client: CallAutomationClient, media_call, eventgrid: EventGridRecorder
) -> None:
    call: MediaCall = media_call()
    started = client.start_recording(
        call_connection_id=call.id,
        recording_content_type="audio",
        recording_channel_type="unmixed",
        recording_format_type="wav",
        channel_affinity=[ChannelAffinity(call.person, 2)],
    )
    call.wait("RecordingStateChanged", state="active")
    call.hang_up_person()
    call.wait("CallDisconnected")
    assert call.types("RecordingStateChanged", "CallDisconnected")[-2:] == ["RecordingStateChanged", "CallDisconnected"]
    data = file_event(emulator, eventgrid, started.recording_id)["data"]
    assert data["sessionEndReason"] == "CallEnded" and data["recordingChannelType"] == "Unmixed"
    metadata = requests.get(data["recordingStorageInfo"]["recordingChunks"][0]["metadataLocation"], timeout=10).json()
    assert metadata["participants"] == [{"participantId": call.person.raw_id, "channel": 2}]
    assert metadata["emulator"]["pausedIntervals"] == []


def test_recording_errors(client: CallAutomationClient, media_call) -> None:
    call: MediaCall = media_call()
    with pytest.raises(HttpResponseError) as wrong_format:
        client.start_recording(call_connection_id=call.id, recording_content_type="audio", recording_format_type="mp4")
    assert (wrong_format.value.status_code, wrong_format.value.error.code) == (400, "8557")
    with pytest.raises(HttpResponseError) as both:
        client.start_recording(call_connection_id=call.id, server_call_id="c2VydmVy")
    assert both.value.status_code == 400 and "callLocator" in both.value.error.message
    with pytest.raises(ResourceNotFoundError):
        client.start_recording(server_call_id="bm8tc3VjaC1jYWxs")

    client.start_recording(call_connection_id=call.id)
    with pytest.raises(HttpResponseError) as duplicate:
        client.start_recording(call_connection_id=call.id)
    assert (duplicate.value.status_code, duplicate.value.error.code) == (400, "8559")

    for action in (
        client.get_recording_properties,
        client.pause_recording,
        client.resume_recording,
        client.stop_recording,
    ):
        with pytest.raises(ResourceNotFoundError) as unknown:
            action("eyJQbGF0Zm9ybUVuZHBvaW50SWQiOiJ4In0")
        assert unknown.value.status_code == 404 and unknown.value.error.code == "8522"


def test_a_missing_container_fails_quietly_as_real_byos_does(
    emulator: EmulatorServer, client: CallAutomationClient, media_call, recording_container: str
) -> None:
    call: MediaCall = media_call()
    started = client.start_recording(
        call_connection_id=call.id,
        recording_content_type="audio",
        recording_format_type="wav",
        recording_storage=AzureBlobContainerRecordingStorage(recording_container + "-missing"),
    )
    call.wait("RecordingStateChanged", state="active")
    client.stop_recording(started.recording_id)
    emulator.advance(FILE_READY_SECONDS)
    failed = eventually(
        lambda: (recording_view(emulator, started.recording_id)["file"] or {}).get("error"), "the upload failure"
    )
    assert "ResourceNotFoundError" in failed
