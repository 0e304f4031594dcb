"""The JSON messages ACS writes to a media-streaming or transcription WebSocket, parsed into typed values.

Shapes: docs/emulator-recording-streaming.md ("WebSocket messages"), after the ACS how-to documents.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class BadMessage(ValueError):
    """A frame that is not a message this receiver understands."""


@dataclass(frozen=True)
class AudioMetadata:
    subscription_id: str
    encoding: str
    sample_rate: int
    channels: int


@dataclass(frozen=True)
class AudioData:
    """20 ms of audio; `data` stays base64 until someone asks for the PCM bytes."""

    timestamp: str
    data: str
    silent: bool
    participant_raw_id: str | None

    @property
    def pcm(self) -> bytes:
        """Signed 16-bit little-endian PCM samples."""
        return base64.b64decode(self.data)


@dataclass(frozen=True)
class DtmfData:
    timestamp: str
    participant_raw_id: str | None
    data: str


@dataclass(frozen=True)
class TranscriptionMetadata:
    subscription_id: str
    locale: str
    call_connection_id: str
    correlation_id: str


@dataclass(frozen=True)
class TranscriptionData:
    text: str
    confidence: float
    offset: int
    duration: int
    participant_raw_id: str | None
    final: bool


Message = AudioMetadata | AudioData | DtmfData | TranscriptionMetadata | TranscriptionData


def parse_message(raw: str) -> Message | None:
    """One text frame as a typed message; None for kinds this receiver ignores. BadMessage when malformed."""
    try:
        message = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BadMessage(f"not JSON: {exc}") from exc
    if not isinstance(message, Mapping) or not isinstance(message.get("kind"), str):
        raise BadMessage("not an object with a kind")
    kind = message["kind"]
    parse = _PARSERS.get(kind)
    if parse is None:
        return None
    body = message.get(kind[:1].lower() + kind[1:])
    if not isinstance(body, Mapping):
        raise BadMessage(f"{kind} without its {kind[:1].lower() + kind[1:]} object")
    try:
        return parse(body)
    except (KeyError, TypeError, ValueError) as exc:
        raise BadMessage(f"{kind}: {exc!r}") from exc


def _audio_metadata(body: Mapping[str, Any]) -> AudioMetadata:
    return AudioMetadata(
        subscription_id=str(body["subscriptionId"]),
        encoding=str(body.get("encoding", "PCM")),
        sample_rate=int(body.get("sampleRate", 16000)),
        channels=int(body.get("channels", 1)),
    )


def _audio_data(body: Mapping[str, Any]) -> AudioData:
    return AudioData(
        timestamp=str(body.get("timestamp", "")),
        data=str(body["data"]),
        silent=bool(body.get("silent", False)),
        participant_raw_id=body.get("participantRawID"),
    )


def _dtmf_data(body: Mapping[str, Any]) -> DtmfData:
    return DtmfData(
        timestamp=str(body.get("timestamp", "")),
        participant_raw_id=body.get("participantRawID"),
        data=str(body["data"]),
    )


def _transcription_metadata(body: Mapping[str, Any]) -> TranscriptionMetadata:
    return TranscriptionMetadata(
        subscription_id=str(body.get("subscriptionId", "")),
        locale=str(body.get("locale", "")),
        call_connection_id=str(body["callConnectionId"]),
        correlation_id=str(body.get("correlationId", "")),
    )


def _transcription_data(body: Mapping[str, Any]) -> TranscriptionData:
    return TranscriptionData(
        text=str(body["text"]),
        confidence=float(body.get("confidence", 0.0)),
        offset=int(body.get("offset", 0)),
        duration=int(body.get("duration", 0)),
        participant_raw_id=body.get("participantRawID"),
        final=body.get("resultStatus") == "Final",
    )


_PARSERS: dict[str, Callable[[Mapping[str, Any]], Message]] = {
    "AudioMetadata": _audio_metadata,
    "AudioData": _audio_data,
    "DtmfData": _dtmf_data,
    "TranscriptionMetadata": _transcription_metadata,
    "TranscriptionData": _transcription_data,
}
