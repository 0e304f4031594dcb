"""Media streaming and transcription options a flow's calls are answered with, from settings.

With RECEIVER_WEBSOCKET_URL set, every call carries both options, so the HTTP API can start either at any time;
flows in MEDIA_STREAMING_ENABLED_FLOWS / TRANSCRIPTION_ENABLED_FLOWS start them as soon as the call connects.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class CallStreaming:
    """The media streaming and transcription a call is answered or placed with, and whether each starts at once."""

    transport_url: str
    audio_channel: str
    locale: str
    start_media_streaming: bool
    start_transcription: bool


def call_streaming(flow: str, settings: Settings) -> CallStreaming | None:
    """What a call of flow streams to the receiver (shared/acs.py turns it into the SDK's options); None without one."""
    if not settings.receiver_websocket_url:
        return None
    return CallStreaming(
        transport_url=transport_url(settings),
        audio_channel=settings.media_streaming_audio_channel,
        locale=settings.transcription_locale,
        start_media_streaming=flow in settings.media_streaming_enabled_flows,
        start_transcription=flow in settings.transcription_enabled_flows,
    )
