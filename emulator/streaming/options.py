"""mediaStreamingOptions and transcriptionOptions of create/answer/connect: validated and stored on the app's leg."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from ..errors import invalid_field
from ..models import CallConnection
from ..validation import check_url, optional, require, require_enum

AUDIO_FORMAT_RATES = {"pcm16KMono": 16000, "pcm24KMono": 24000}
WEBSOCKET_SCHEMES = ("ws", "wss")
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
# Keys in CallConnection.extensions.
MEDIA_OPTIONS = "media_streaming_options"
TRANSCRIPTION_OPTIONS = "transcription_options"


@dataclass(frozen=True)
class MediaStreamingOptions:
    audio_channel_type: str  # mixed | unmixed
    transport_url: str | None = None
    audio_format: str = "pcm16KMono"
    start_on_connect: bool = False
    bidirectional: bool = False
    dtmf_tones: bool = False

    @property
    def sample_rate(self) -> int:
        return AUDIO_FORMAT_RATES[self.audio_format]


@dataclass(frozen=True)
class TranscriptionOptions:
    locale: str
    transport_url: str | None = None
    start_on_connect: bool = False
    intermediate_results: bool = False
    speech_model_endpoint_id: str | None = None


def parse_media_streaming(raw: dict) -> MediaStreamingOptions:
    path = "mediaStreamingOptions"
    require_enum(raw, f"{path}.transportType", ("websocket",))
    if raw.get("contentType") is not None:
        require_enum(raw, f"{path}.contentType", ("audio",))
    return MediaStreamingOptions(
        audio_channel_type=require_enum(raw, f"{path}.audioChannelType", ("mixed", "unmixed")),
        transport_url=_websocket_url(raw, f"{path}.transportUrl"),
        audio_format=require_enum(raw, f"{path}.audioFormat", tuple(AUDIO_FORMAT_RATES), "pcm16KMono"),
        start_on_connect=optional(raw, f"{path}.startMediaStreaming", bool, False),
        bidirectional=optional(raw, f"{path}.enableBidirectional", bool, False),
        dtmf_tones=optional(raw, f"{path}.enableDtmfTones", bool, False),
    )


def parse_transcription(raw: dict) -> TranscriptionOptions:
    path = "transcriptionOptions"
    require_enum(raw, f"{path}.transportType", ("websocket",))
    return TranscriptionOptions(
        locale=require_locale(raw, f"{path}.locale"),
        transport_url=_websocket_url(raw, f"{path}.transportUrl"),
        start_on_connect=optional(raw, f"{path}.startTranscription", bool, False),
        intermediate_results=optional(raw, f"{path}.enableIntermediateResults", bool, False),
        speech_model_endpoint_id=optional(raw, f"{path}.speechModelEndpointId", str),
    )


def require_locale(body: dict, path: str) -> str:
    locale = require(body, path, str)
    if not _LOCALE.match(locale):
        raise invalid_field(path, "must be a locale such as en-US")
    return locale


def _websocket_url(raw: dict, path: str) -> str | None:
    url = optional(raw, path, str)
    return check_url(url, path, WEBSOCKET_SCHEMES) if url else None


def configure_from_request(connection: CallConnection, body: dict) -> None:
    """Validate a CreateCall/AnswerCall/Connect body's streaming options (400 naming the field) and keep them on the
    leg; the subscriptions show as inactive in GET call properties until started."""
    media_raw = optional(body, "mediaStreamingOptions", dict)
    transcription_raw = optional(body, "transcriptionOptions", dict)
    media = parse_media_streaming(media_raw) if media_raw is not None else None
    transcription = parse_transcription(transcription_raw) if transcription_raw is not None else None
    if media is not None:
        connection.extensions[MEDIA_OPTIONS] = media
        connection.media_streaming = {"id": str(uuid.uuid4()), "state": "inactive", "subscribedContentTypes": ["audio"]}
    if transcription is not None:
        connection.extensions[TRANSCRIPTION_OPTIONS] = transcription
        result_types = ["final", "intermediate"] if transcription.intermediate_results else ["final"]
        connection.transcription = {
            "id": str(uuid.uuid4()),
            "state": "inactive",
            "subscribedResultTypes": result_types,
            "locale": transcription.locale,
        }
