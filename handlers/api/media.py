"""HTTP API, media: play (file, TTS, SSML; to everyone or some; looped), cancel all media, send DTMF tones."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from pydantic import ValidationInfo, field_validator, model_validator

from shared.actions import CancelAllMedia, Play, Prompt, SendDtmf
from shared.api_runtime import ApiModel, exactly_one, repeatable
from shared.context import Context
from shared.settings import Settings
from shared.validation import Flag, Items, ShortText, Target, Text, Tones, text_rule

MAX_PROMPTS = 10
# Operation contexts of API actions: no flow step listens for them, so their results are only logged.
API_PLAY = "api-play"
API_DTMF = "api-dtmf"


class PromptIn(ApiModel):
    """Exactly one of text (TTS; voice and locale default to IVR_VOICE_NAME and IVR_LOCALE), ssml or audioUrl."""

    text: Text | None = None
    ssml: Text | None = None
    audio_url: Text | None = None
    voice: ShortText | None = None
    locale: Annotated[str, text_rule(20)] | None = None

    @field_validator("audio_url")
    @classmethod
    def _allowed(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A URL ACS will fetch audio from: refused unless MEDIA_URL_ALLOWLIST (or the app's storage) allows it."""
        ctx: Context = (info.context or {})["ctx"]
        if value is not None and (reason := ctx.settings.media_url_policy.refusal(value)):
            raise ValueError(reason)
        return value

    @model_validator(mode="before")
    @classmethod
    def _one_source(cls, data: Any) -> Any:
        return exactly_one(data, ("text", "ssml", "audioUrl"), "must have exactly one of text, ssml or audioUrl")

    def prompt(self, settings: Settings) -> Prompt:
        if self.audio_url:
            return Prompt(audio_url=self.audio_url)
        if self.ssml:
            return Prompt(ssml=self.ssml)
        return Prompt(
            text=self.text, voice_name=self.voice or settings.ivr_voice_name, locale=self.locale or settings.ivr_locale
        )


Prompts = Annotated[list[PromptIn], Items(MAX_PROMPTS)]


def prompts(items: list[PromptIn] | None, settings: Settings) -> tuple[Prompt, ...]:
    return tuple(item.prompt(settings) for item in items or ())


def prompts_json(prompts: tuple[Prompt, ...]) -> list[dict[str, Any]]:
    """Prompts as kept in a call's state: only the fields that are set."""
    return [{key: value for key, value in asdict(prompt).items() if value} for prompt in prompts]


class PlayRequest(ApiModel):
    prompts: Prompts
    to: Annotated[list[Target], Items(100)] | None = None
    loop: Flag = False


class Playing(ApiModel):
    status: str
    to: list[str] | str


async def play(ctx: Context, call_id: str, body: PlayRequest) -> Playing:
    """Play prompts to everyone, or to the participants listed in `to`."""
    to = tuple(body.to or ())
    action = Play(prompts=prompts(body.prompts, ctx.settings), loop=body.loop, to=to, operation_context=API_PLAY)
    await ctx.acs.send(call_id, action, None)
    return Playing(status="playing", to=list(to) or "all")


class MediaCanceled(ApiModel):
    status: str


async def cancel_media(ctx: Context, call_id: str) -> MediaCanceled:
    """Stop every play and recognize running or queued on the call."""
    await ctx.acs.send(call_id, CancelAllMedia(), None)
    return MediaCanceled(status="canceled")


class SendDtmfRequest(ApiModel):
    to: Target
    tones: Tones


class DtmfSending(ApiModel):
    status: str
    to: str
    tones: list[str]


async def send_dtmf(ctx: Context, call_id: str, body: SendDtmfRequest, idempotency_key: str | None) -> DtmfSending:
    """Send up to 18 DTMF tones to a phone participant."""
    action = SendDtmf(target=body.to, tones=body.tones, operation_context=API_DTMF)
    await ctx.acs.send(call_id, action, repeatable(idempotency_key, f"{call_id}/dtmf"))
    return DtmfSending(status="sending", to=body.to, tones=list(body.tones))
