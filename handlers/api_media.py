"""HTTP API, media: play (file, TTS, SSML; to everyone or some; looped), cancel all media, send DTMF tones."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from shared.acs import identifier, play_source
from shared.actions import Prompt
from shared.api import ApiRequest, Reply, call_id
from shared.context import Context
from shared.errors import BadRequest
from shared.validation import Body, target

MAX_PROMPTS = 10
# Operation contexts of API actions: no flow step listens for them, so their results are only logged.
API_PLAY = "api-play"
API_DTMF = "api-dtmf"


def parse_prompt(body: Body, ctx: Context) -> Prompt:
    """{"text": ..., "voice"?, "locale"?} | {"ssml": ...} | {"audioUrl": ...}; TTS defaults to the IVR voice."""
    given = [name for name in ("text", "ssml", "audioUrl") if body.has(name)]
    if len(given) != 1:
        raise BadRequest(f"{body.where} must have exactly one of text, ssml or audioUrl")
    if body.has("audioUrl"):
        return Prompt(audio_url=body.media_url("audioUrl", ctx.settings.media_url_policy))
    if body.has("ssml"):
        return Prompt(ssml=body.text("ssml"))
    return Prompt(
        text=body.text("text"),
        voice_name=body.text("voice", max_length=100) or ctx.settings.ivr_voice_name,
        locale=body.text("locale", max_length=20) or ctx.settings.ivr_locale,
    )


def parse_prompts(body: Body, name: str, ctx: Context, *, required: bool = True) -> tuple[Prompt, ...]:
    items = body.items(name, required=required, max_items=MAX_PROMPTS)
    return tuple(parse_prompt(Body(item, f"{body.path(name)}[{index}]"), ctx) for index, item in enumerate(items))


def prompts_json(prompts: tuple[Prompt, ...]) -> list[dict[str, Any]]:
    """Prompts as kept in a call's state: only the fields that are set."""
    return [{key: value for key, value in asdict(prompt).items() if value} for prompt in prompts]


async def play(request: ApiRequest, ctx: Context) -> Reply:
    """POST /calls/{callId}/play: play prompts to everyone, or to the participants listed in `to`."""
    body = request.body
    prompts = parse_prompts(body, "prompts", ctx)
    to = [target(item, f"to[{index}]") for index, item in enumerate(body.items("to"))]
    connection = ctx.acs.client.get_call_connection(call_id(request))
    await connection.play_media(
        [play_source(prompt) for prompt in prompts],
        [identifier(item) for item in to] if to else "all",
        loop=body.boolean("loop"),
        operation_context=API_PLAY,
    )
    return Reply(202, {"status": "playing", "to": to or "all"})


async def cancel_media(request: ApiRequest, ctx: Context) -> Reply:
    """POST /calls/{callId}/cancel-media: stop every play and recognize running or queued on the call."""
    await ctx.acs.client.get_call_connection(call_id(request)).cancel_all_media_operations()
    return Reply(202, {"status": "canceled"})


async def send_dtmf(request: ApiRequest, ctx: Context) -> Reply:
    """POST /calls/{callId}/dtmf: send up to 18 tones to a phone participant."""
    body = request.body
    to = body.target("to")
    tones = body.tones("tones")
    call = call_id(request)
    await ctx.acs.client.get_call_connection(call).send_dtmf_tones(
        list(tones),
        identifier(to),
        operation_context=API_DTMF,
        **request.repeatability(f"{call}/dtmf"),
    )
    return Reply(202, {"status": "sending", "to": to, "tones": list(tones)})
