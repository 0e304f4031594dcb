"""Media streaming and transcription options a flow's calls are answered with, from settings.

With RECEIVER_WEBSOCKET_URL set, every call carries both options, so the HTTP API can start either at any time;
flows in MEDIA_STREAMING_ENABLED_FLOWS / TRANSCRIPTION_ENABLED_FLOWS start them as soon as the call connects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from shared.settings import Settings

# The query parameter that carries RECEIVER_TOKEN to the receiver.
QUERY_KEY = "token"


def transport_url(settings: Settings) -> str:
    """The receiver's WebSocket URL, with RECEIVER_TOKEN added as the `token` query parameter when set."""
    url = settings.receiver_websocket_url or ""
    if not settings.receiver_token:
        return url
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query), (QUERY_KEY, settings.receiver_token)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def call_options(flow: str, settings: Settings) -> Mapping[str, Any]:
    """SDK keyword arguments (media_streaming, transcription) for answering or placing a call of flow."""
    if not settings.receiver_websocket_url:
        return {}
    from azure.communication.callautomation import MediaStreamingOptions, TranscriptionOptions

    url = transport_url(settings)
    return {
        # DTMF tones stay off: card digits keyed in the IVR must not leave ACS through the stream.
        "media_streaming": MediaStreamingOptions(
            transport_url=url,
            transport_type="websocket",
            content_type="audio",
            audio_channel_type=settings.media_streaming_audio_channel,
            start_media_streaming=flow in settings.media_streaming_enabled_flows,
        ),
        "transcription": TranscriptionOptions(
            transport_url=url,
            transport_type="websocket",
            locale=settings.transcription_locale,
            start_transcription=flow in settings.transcription_enabled_flows,
        ),
    }
