"""HTTP API, media streaming and transcription: start and stop them, change the transcription's locale, and read
the transcript the WebSocket receiver stored.

Both go to RECEIVER_WEBSOCKET_URL, which every call is answered with (shared/streaming.py); ACS reports the
outcome as MediaStreaming*/Transcription* events, noted by handlers/policies/call_notes.py.
"""

from __future__ import annotations

from typing import Any

from handlers.policies.call_notes import TRANSCRIPTION
from shared.api_runtime import ApiModel
from shared.context import Context
from shared.engine import update_data
from shared.errors import Conflict, NotFound
from shared.settings import Settings
from shared.state import CallState
from shared.validation import Locale

# Operation contexts of the API's requests, so their events say who asked.
API_MEDIA_STREAMING = "api-media-streaming"
API_TRANSCRIPTION = "api-transcription"


def require_receiver(settings: Settings) -> None:
    if not settings.receiver_websocket_url:
        raise Conflict("media streaming and transcription need a receiver: set RECEIVER_WEBSOCKET_URL")


class MediaStreaming(ApiModel):
    media_streaming: str


async def start_media_streaming(ctx: Context, call_id: str) -> MediaStreaming:
    """Start streaming the call's audio to the receiver."""
    require_receiver(ctx.settings)
    await ctx.acs.media_streaming(call_id, True, API_MEDIA_STREAMING)
    return MediaStreaming(media_streaming="starting")


async def stop_media_streaming(ctx: Context, call_id: str) -> MediaStreaming:
    """Stop streaming the call's audio."""
    await ctx.acs.media_streaming(call_id, False, API_MEDIA_STREAMING)
    return MediaStreaming(media_streaming="stopping")


class StartTranscription(ApiModel):
    locale: Locale | None = None


class UpdateTranscription(ApiModel):
    locale: Locale


class Transcription(ApiModel):
    transcription: str
    locale: str | None = None


async def start_transcription(ctx: Context, call_id: str, body: StartTranscription) -> Transcription:
    """Start live transcription (TRANSCRIPTION_LOCALE unless a locale is given)."""
    require_receiver(ctx.settings)
    chosen = body.locale or ctx.settings.transcription_locale
    await ctx.acs.transcription(call_id, "start", chosen, API_TRANSCRIPTION)
    await note_locale(ctx, call_id, chosen)
    return Transcription(transcription="starting", locale=chosen)


async def update_transcription(ctx: Context, call_id: str, body: UpdateTranscription) -> Transcription:
    """Transcribe in another language from now on."""
    await ctx.acs.transcription(call_id, "update", body.locale, API_TRANSCRIPTION)
    await note_locale(ctx, call_id, body.locale)
    return Transcription(transcription="updating", locale=body.locale)


async def stop_transcription(ctx: Context, call_id: str) -> Transcription:
    """Stop live transcription."""
    await ctx.acs.transcription(call_id, "stop", None, API_TRANSCRIPTION)
    return Transcription(transcription="stopping")


async def note_locale(ctx: Context, call: str, chosen: str) -> None:
    def noted(state: CallState) -> dict[str, Any]:
        return {TRANSCRIPTION: {**state.data.get(TRANSCRIPTION, {}), "locale": chosen}}

    await update_data(ctx, call, noted)


class Transcript(ApiModel):
    call_connection_id: str
    lines: list[dict[str, Any]]


async def get_transcript(ctx: Context, call_id: str) -> Transcript:
    """What was said, final results only, in speaking order."""
    lines = await ctx.transcripts.lines(call_id)
    if not lines and (await ctx.state.load(call_id)).state is None:
        raise NotFound(f"call {call_id} is not known to this app")
    return Transcript(call_connection_id=call_id, lines=[line.to_json() for line in lines])
