"""HTTP API, media streaming and transcription: start and stop them, change the transcription's locale, and read
the transcript the WebSocket receiver stored.

Both go to RECEIVER_WEBSOCKET_URL, which every call is answered with (shared/streaming.py); ACS reports the
outcome as MediaStreaming*/Transcription* events, noted by handlers/policies/call_notes.py.
"""

from __future__ import annotations

import re

from handlers.api_recordings import Conflict
from handlers.policies.call_notes import TRANSCRIPTION
from shared.api import ApiRequest, NotFound, Reply, call_id
from shared.context import Context
from shared.engine import update_data
from shared.errors import BadRequest
from shared.settings import Settings

# Operation contexts of the API's requests, so their events say who asked.
API_MEDIA_STREAMING = "api-media-streaming"
API_TRANSCRIPTION = "api-transcription"
LOCALE = r"[a-z]{2,3}-[A-Z]{2}"


def require_receiver(settings: Settings) -> None:
    if not settings.receiver_websocket_url:
        raise Conflict("media streaming and transcription need a receiver: set RECEIVER_WEBSOCKET_URL")


def locale(request: ApiRequest, *, required: bool) -> str | None:
    value = request.body.text("locale", required=required, max_length=20)
    if value is not None and not re.fullmatch(LOCALE, value):
        raise BadRequest('locale must be a locale such as "en-US"')
    return value


async def start_media_streaming(request: ApiRequest, ctx: Context) -> Reply:
    """POST /calls/{callId}/media-streaming: start streaming the call's audio to the receiver."""
    require_receiver(ctx.settings)
    connection = ctx.acs.client.get_call_connection(call_id(request))
    await connection.start_media_streaming(operation_context=API_MEDIA_STREAMING)
    return Reply(202, {"mediaStreaming": "starting"})


async def stop_media_streaming(request: ApiRequest, ctx: Context) -> Reply:
    """DELETE /calls/{callId}/media-streaming."""
    connection = ctx.acs.client.get_call_connection(call_id(request))
    await connection.stop_media_streaming(operation_context=API_MEDIA_STREAMING)
    return Reply(202, {"mediaStreaming": "stopping"})


async def start_transcription(request: ApiRequest, ctx: Context) -> Reply:
    """POST /calls/{callId}/transcription {"locale"?}: start transcribing (TRANSCRIPTION_LOCALE by default)."""
    require_receiver(ctx.settings)
    call = call_id(request)
    chosen = locale(request, required=False) or ctx.settings.transcription_locale
    await ctx.acs.client.get_call_connection(call).start_transcription(
        locale=chosen, operation_context=API_TRANSCRIPTION
    )
    await note_locale(ctx, call, chosen)
    return Reply(202, {"transcription": "starting", "locale": chosen})


async def update_transcription(request: ApiRequest, ctx: Context) -> Reply:
    """PATCH /calls/{callId}/transcription {"locale"}: transcribe in another language from now on."""
    call = call_id(request)
    chosen = locale(request, required=True)
    await ctx.acs.client.get_call_connection(call).update_transcription(
        locale=chosen, operation_context=API_TRANSCRIPTION
    )
    await note_locale(ctx, call, chosen)
    return Reply(202, {"transcription": "updating", "locale": chosen})


async def stop_transcription(request: ApiRequest, ctx: Context) -> Reply:
    """DELETE /calls/{callId}/transcription."""
    await ctx.acs.client.get_call_connection(call_id(request)).stop_transcription(operation_context=API_TRANSCRIPTION)
    return Reply(202, {"transcription": "stopping"})


async def note_locale(ctx: Context, call: str, chosen: str | None) -> None:
    await update_data(ctx, call, lambda state: {TRANSCRIPTION: {**state.data.get(TRANSCRIPTION, {}), "locale": chosen}})


async def get_transcript(request: ApiRequest, ctx: Context) -> Reply:
    """GET /calls/{callId}/transcript: what was said, final results only, in speaking order."""
    call = call_id(request)
    lines = await ctx.transcripts.lines(call)
    if not lines and (await ctx.state.load(call)).state is None:
        raise NotFound(f"call {call} is not known to this app")
    return Reply(200, {"callConnectionId": call, "lines": [line.to_json() for line in lines]})
