"""Talk to an agent: the caller hears hold music while AGENT_TARGET is invited; no agent means apology and goodbye."""

from __future__ import annotations

from handlers.ivr import steps
from shared.actions import AddParticipant, CancelAllMedia, HangUp, Play, Prompt
from shared.engine import Transition, Turn
from shared.events import ParticipantsUpdated
from shared.identifiers import E164
from shared.settings import Settings


def connect_to_agent(settings: Settings) -> Transition:
    """Put the caller on hold music and invite the agent into the call."""
    if not settings.agent_target:
        return steps.goodbye(settings, settings.ivr_agent_unavailable_prompt)
    hold = (
        Prompt(audio_url=settings.hold_music_url)
        if settings.hold_music_url
        else steps.say(settings.ivr_hold_prompt, settings)
    )
    is_phone_number = bool(E164.match(settings.agent_target))
    return Transition(
        step=steps.CONNECTING_AGENT,
        retries=0,
        actions=(
            Play(prompts=(hold,), loop=True, operation_context=steps.HOLD_MUSIC),
            AddParticipant(
                target=settings.agent_target,
                caller_id=settings.agent_caller_id if is_phone_number else None,
                invitation_timeout=settings.agent_invitation_timeout_seconds,
                operation_context=steps.AGENT,
            ),
        ),
    )


async def on_joined(turn: Turn) -> Transition:
    """Stop the hold music and leave caller and agent talking."""
    return agent_joined()


def agent_joined() -> Transition:
    return Transition(step=steps.WITH_AGENT, actions=(CancelAllMedia(),))


async def on_unavailable(turn: Turn) -> Transition:
    """The agent declined or did not answer: stop the hold music, apologise and say goodbye."""
    return apologise(turn.settings)


def apologise(settings: Settings) -> Transition:
    return steps.goodbye(settings, settings.ivr_agent_unavailable_prompt).first(CancelAllMedia())


async def on_participants_changed(turn: Turn) -> Transition | None:
    """Once an agent is involved the call has three parties, so the caller leaving no longer ends it: end it."""
    assert isinstance(turn.event, ParticipantsUpdated)
    present = {participant.identifier.raw_id for participant in turn.event.participants}
    return end_if_caller_left(turn, present)


def end_if_caller_left(turn: Turn, present: set[str]) -> Transition | None:
    if steps.caller(turn.state) in present:
        return None
    return Transition(step=steps.HANGING_UP, actions=(HangUp(for_everyone=True),))
