"""Talk to an agent: the caller hears hold music while AGENT_TARGET is invited; no agent means apology and goodbye."""

from __future__ import annotations

from handlers import ivr
from shared.actions import AddParticipant, CancelAllMedia, HangUp, Play, Prompt
from shared.context import Context
from shared.events import ParticipantEvent, ParticipantsUpdated
from shared.flow import Transition, advance
from shared.routing import Router
from shared.settings import E164, Settings
from shared.state import CallState

router = Router()


def connect_to_agent(state: CallState, settings: Settings) -> Transition:
    """Put the caller on hold music and invite the agent into the call."""
    if not settings.agent_target:
        return ivr.goodbye(settings, settings.ivr_agent_unavailable_prompt)
    hold = (
        Prompt(audio_url=settings.hold_music_url)
        if settings.hold_music_url
        else ivr.say(settings.ivr_hold_prompt, settings)
    )
    is_phone_number = bool(E164.match(settings.agent_target))
    return Transition(
        step=ivr.CONNECTING_AGENT,
        retries=0,
        actions=(
            Play(prompts=(hold,), loop=True, operation_context=ivr.HOLD_MUSIC),
            AddParticipant(
                target=settings.agent_target,
                caller_id=settings.agent_caller_id if is_phone_number else None,
                invitation_timeout=settings.agent_invitation_timeout_seconds,
                operation_context=ivr.AGENT,
            ),
        ),
    )


@router.register("AddParticipantSucceeded", operation_context=ivr.AGENT)
async def on_agent_joined(event: ParticipantEvent, ctx: Context) -> None:
    """Stop the hold music and leave caller and agent talking."""
    await advance(
        event,
        ctx,
        decide=lambda state: Transition(step=ivr.WITH_AGENT, actions=(CancelAllMedia(),)),
        from_steps={ivr.CONNECTING_AGENT},
    )


@router.register("AddParticipantFailed", operation_context=ivr.AGENT)
async def on_agent_unavailable(event: ParticipantEvent, ctx: Context) -> None:
    """The agent declined or did not answer: stop the hold music, apologise and say goodbye."""

    def apologise(state: CallState) -> Transition:
        farewell = ivr.goodbye(ctx.settings, ctx.settings.ivr_agent_unavailable_prompt)
        return Transition(step=farewell.step, actions=(CancelAllMedia(), *farewell.actions))

    await advance(event, ctx, decide=apologise, from_steps={ivr.CONNECTING_AGENT})


@router.register("ParticipantsUpdated")
async def on_participants_changed(event: ParticipantsUpdated, ctx: Context) -> None:
    """Once an agent is involved the call has three parties, so the caller leaving no longer ends it: end it."""
    present = {participant.identifier.raw_id for participant in event.participants}

    def end_if_caller_left(state: CallState) -> Transition | None:
        if ivr.caller(state) in present:
            return None
        return Transition(step=ivr.HANGING_UP, actions=(HangUp(for_everyone=True),))

    await advance(event, ctx, decide=end_if_caller_left, from_steps={ivr.CONNECTING_AGENT, ivr.WITH_AGENT})
