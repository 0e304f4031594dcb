"""The receiver over a real WebSocket: transcripts stored per call, audio counted and hooked, tokens enforced."""

import base64
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient, TestServer

from receiver.app import Receiver, build_app
from receiver.hooks import Stream
from receiver.messages import AudioData
from shared.transcripts import InMemoryTranscriptStore

TOKEN = "s3cret"
SPEAKER = "4:+15551230000"


def transcription(text: str, offset: int, status: str = "Final") -> str:
    return json.dumps(
        {
            "kind": "TranscriptionData",
            "transcriptionData": {
                "text": text,
                "confidence": 0.95,
                "offset": offset,
                "duration": 8000000,
                "participantRawID": SPEAKER,
                "resultStatus": status,
            },
        }
    )


TRANSCRIPTION_METADATA = json.dumps(
    {
        "kind": "TranscriptionMetadata",
        "transcriptionMetadata": {
            "subscriptionId": "sub-t",
            "locale": "en-US",
            "callConnectionId": "call-1",
            "correlationId": "corr-1",
        },
    }
)
AUDIO_METADATA = json.dumps(
    {
        "kind": "AudioMetadata",
        "audioMetadata": {
            "subscriptionId": "sub-a",
            "encoding": "PCM",
            "sampleRate": 16000,
            "channels": 1,
            "length": 640,
        },
    }
)


def audio(silent: bool) -> str:
    pcm = base64.b64encode(bytes(640)).decode()
    return json.dumps({"kind": "AudioData", "audioData": {"timestamp": "t", "data": pcm, "silent": silent}})


@pytest.fixture
async def served() -> AsyncIterator[tuple[TestClient, Receiver, list]]:
    heard: list[tuple[str, int]] = []

    async def hook(stream: Stream, frame: AudioData) -> None:
        heard.append((stream.subscription_id, len(frame.pcm)))

    receiver = Receiver(InMemoryTranscriptStore(), token=TOKEN, audio_hook=hook)
    async with TestClient(TestServer(build_app(receiver))) as client:
        yield client, receiver, heard


async def send(client: TestClient, *frames: str) -> None:
    async with client.ws_connect(f"/ws?token={TOKEN}") as socket:
        for frame in frames:
            await socket.send_str(frame)
        await socket.close()


async def test_final_results_become_transcript_lines_of_the_call(served):
    client, receiver, _ = served

    await send(
        client,
        TRANSCRIPTION_METADATA,
        transcription("i need", 12000000, "Intermediate"),
        transcription("I need help.", 12000000),
        transcription("Thanks.", 42000000),
        "not json",
    )

    lines = await receiver.transcripts.lines("call-1")
    assert [(line.text, line.speaker, line.locale) for line in lines] == [
        ("I need help.", SPEAKER, "en-US"),
        ("Thanks.", SPEAKER, "en-US"),
    ]
    [stream] = receiver.find(call_connection_id="call-1")
    assert (stream.kind, stream.transcript_lines, stream.open) == ("transcription", 2, False)


async def test_a_result_sent_twice_is_stored_once(served):
    client, receiver, _ = served

    await send(client, TRANSCRIPTION_METADATA, transcription("Hello.", 1000), transcription("Hello.", 1000))

    assert len(await receiver.transcripts.lines("call-1")) == 1


async def test_audio_frames_are_counted_and_handed_to_the_hook(served):
    client, receiver, heard = served

    await send(client, AUDIO_METADATA, audio(silent=True), audio(silent=False), audio(silent=True))

    [stream] = receiver.find(subscription_id="sub-a")
    assert (stream.kind, stream.sample_rate, stream.audio_frames, stream.silent_frames) == ("audio", 16000, 3, 2)
    assert heard == [("sub-a", 640)] * 3


async def test_a_failing_hook_does_not_end_the_stream():
    async def broken(stream: Stream, frame: AudioData) -> None:
        raise RuntimeError("model crashed")

    receiver = Receiver(InMemoryTranscriptStore(), audio_hook=broken)
    async with TestClient(TestServer(build_app(receiver))) as client:
        await send(client, AUDIO_METADATA, audio(silent=False), audio(silent=False))

    assert receiver.find(subscription_id="sub-a")[0].audio_frames == 2


@pytest.mark.parametrize("path", ["/ws", "/ws?token=wrong"])
async def test_a_wrong_or_missing_token_is_refused(served, path):
    client, receiver, _ = served

    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect(path)

    assert refused.value.status == 401 and receiver.streams == []


async def test_streams_are_listed_for_holders_of_the_token(served):
    client, _, _ = served
    await send(client, AUDIO_METADATA, audio(silent=True))

    listed = await client.get("/streams", headers={"Authorization": f"Bearer {TOKEN}"})
    refused = await client.get("/streams")

    assert [s["subscription_id"] for s in (await listed.json())["streams"]] == ["sub-a"]
    assert refused.status == 401
