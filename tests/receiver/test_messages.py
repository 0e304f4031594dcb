"""Parsing the receiver's WebSocket messages: the ACS shapes, ignored kinds, and malformed frames."""

import base64
import json

import pytest

from receiver.messages import AudioData, BadMessage, TranscriptionData, TranscriptionMetadata, parse_message


def test_audio_data_keeps_its_pcm_as_base64_until_asked():
    pcm = b"\x01\x00\xff\x7f"
    frame = json.dumps(
        {
            "kind": "AudioData",
            "audioData": {
                "timestamp": "t",
                "data": base64.b64encode(pcm).decode(),
                "silent": False,
                "participantRawID": "4:+15551230000",
            },
        }
    )

    message = parse_message(frame)

    assert isinstance(message, AudioData) and message.pcm == pcm and message.participant_raw_id == "4:+15551230000"


def test_transcription_messages():
    metadata = parse_message(
        json.dumps(
            {
                "kind": "TranscriptionMetadata",
                "transcriptionMetadata": {
                    "subscriptionId": "s",
                    "locale": "en-US",
                    "callConnectionId": "call-1",
                    "correlationId": "c",
                },
            }
        )
    )
    data = parse_message(
        json.dumps(
            {
                "kind": "TranscriptionData",
                "transcriptionData": {
                    "text": "I need help.",
                    "confidence": 0.95,
                    "offset": 12000000,
                    "duration": 8000000,
                    "participantRawID": "4:+15551230000",
                    "resultStatus": "Final",
                },
            }
        )
    )

    assert metadata == TranscriptionMetadata(
        subscription_id="s", locale="en-US", call_connection_id="call-1", correlation_id="c"
    )
    assert isinstance(data, TranscriptionData) and data.final and data.offset == 12000000


def test_unknown_kinds_are_ignored():
    assert parse_message(json.dumps({"kind": "SomethingNew", "somethingNew": {}})) is None


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ("not json", "not JSON"),
        ("[1]", "not an object with a kind"),
        (json.dumps({"kind": "AudioData"}), "AudioData without its audioData object"),
        (json.dumps({"kind": "TranscriptionMetadata", "transcriptionMetadata": {}}), "callConnectionId"),
    ],
)
def test_malformed_frames_raise_bad_message(frame, message):
    with pytest.raises(BadMessage, match=message):
        parse_message(frame)
