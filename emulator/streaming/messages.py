"""WebSocket messages in the ACS streaming format: audio metadata/data, DTMF, transcription metadata/data."""

from __future__ import annotations

import base64
import math
import re
import sys
from array import array
from datetime import UTC, datetime

from ..audio import SAMPLE_WIDTH

FRAME_SECONDS = 0.02  # ACS streams 20 ms frames
TICKS_PER_SECOND = 10_000_000  # transcription offsets and durations are in 100 ns ticks
TONE_HZ = 440.0
# What the emulator's speech recognizer claims; real results vary per phrase.
CONFIDENCE = 0.95
DTMF_CHARACTERS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "a": "A", "b": "B", "c": "C", "d": "D", "pound": "#", "asterisk": "*",
}  # fmt: skip
_WORD_EDGES = re.compile(r"^\W+|\W+$")


def frame_bytes(sample_rate: int) -> int:
    return round(sample_rate * FRAME_SECONDS) * SAMPLE_WIDTH


def silent_frame(sample_rate: int) -> bytes:
    return bytes(frame_bytes(sample_rate))


def tone_frame(sample_rate: int, amplitude: float = 0.3) -> bytes:
    """20 ms of a sine tone at the stream's sample rate: what a speaking participant sounds like."""
    count = frame_bytes(sample_rate) // SAMPLE_WIDTH
    step = 2 * math.pi * TONE_HZ / sample_rate
    samples = array("h", (round(amplitude * 32767 * math.sin(step * i)) for i in range(count)))
    if sys.byteorder == "big":  # PCM on the wire is little-endian
        samples.byteswap()
    return samples.tobytes()


def stream_timestamp() -> str:
    """ISO-8601 UTC with milliseconds, as in the documented AudioData example (2022-10-03T19:16:12.925Z)."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def audio_metadata(subscription_id: str, sample_rate: int) -> dict:
    return {"kind": "AudioMetadata", "audioMetadata": {
        "subscriptionId": subscription_id, "encoding": "PCM", "sampleRate": sample_rate, "channels": 1,
        "length": frame_bytes(sample_rate),
    }}  # fmt: skip


def audio_data(pcm: bytes, *, silent: bool, participant_raw_id: str | None) -> dict:
    data: dict = {"timestamp": stream_timestamp(), "data": base64.b64encode(pcm).decode(), "silent": silent}
    if participant_raw_id is not None:
        data["participantRawID"] = participant_raw_id
    return {"kind": "AudioData", "audioData": data}


def dtmf_data(tone: str, participant_raw_id: str) -> dict:
    """One key press; `tone` is a Tone enum name ("five", "pound") or already its character."""
    return {"kind": "DtmfData", "dtmfData": {
        "timestamp": stream_timestamp(), "participantRawID": participant_raw_id,
        "data": DTMF_CHARACTERS.get(tone.lower(), tone),
    }}  # fmt: skip


def transcription_metadata(subscription_id: str, locale: str, call_connection_id: str, correlation_id: str) -> dict:
    return {"kind": "TranscriptionMetadata", "transcriptionMetadata": {
        "subscriptionId": subscription_id, "locale": locale, "callConnectionId": call_connection_id,
        "correlationId": correlation_id,
    }}  # fmt: skip


def transcription_data(
    text: str, *, offset_seconds: float, duration_seconds: float, participant_raw_id: str, final: bool
) -> dict:
    """One recognised phrase (or, with final=False, the part heard so far), words spread evenly over its duration."""
    words = [w for w in (_WORD_EDGES.sub("", token).lower() for token in text.split()) if w]
    word_seconds = duration_seconds / len(words) if words else 0.0
    return {"kind": "TranscriptionData", "transcriptionData": {
        "text": text, "format": "display", "confidence": CONFIDENCE,
        "offset": ticks(offset_seconds), "duration": ticks(duration_seconds),
        "words": [{"text": word, "offset": ticks(offset_seconds + i * word_seconds), "duration": ticks(word_seconds)}
                  for i, word in enumerate(words)],
        "participantRawID": participant_raw_id, "resultStatus": "Final" if final else "Intermediate",
    }}  # fmt: skip


def ticks(seconds: float) -> int:
    return round(seconds * TICKS_PER_SECOND)
