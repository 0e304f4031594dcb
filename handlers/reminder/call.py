"""The reminder call: read the reminder, take confirm / cancel / reschedule, store the outcome, say goodbye."""

from __future__ import annotations

from handlers.outbound import DIALLING
from handlers.reminder import prompts
from handlers.reminder.prompts import CONFIRMING
from shared.actions import HangUp
from shared.engine import Transition, Turn
from shared.events import RecognizeCompleted
from shared.state import ENDED


async def on_answered(turn: Turn) -> Transition:
    """The person picked up: read the reminder and ask for their answer."""
    return Transition(step=CONFIRMING, actions=(prompts.ask(turn.state, turn.settings),))


async def on_not_reached(turn: Turn) -> Transition:
    """Nobody answered, the line was busy, the call was declined or could not be placed: record which."""
    return Transition(step=ENDED, data={"outcome": prompts.failure_outcome(turn.event)})


async def on_answer(turn: Turn) -> Transition:
    """Confirm, cancel or reschedule; anything else asks again."""
    assert isinstance(turn.event, RecognizeCompleted)
    label = prompts.chosen(turn.event)
    if label in prompts.OUTCOMES:
        return prompts.close(prompts.OUTCOMES[label], turn.settings)
    return await retry_or_give_up(turn)


async def retry_or_give_up(turn: Turn) -> Transition:
    """No input or no match: ask again, up to REMINDER_MAX_RETRIES failures, then record no-response."""
    state, settings = turn.state, turn.settings
    failures = state.retries + 1
    if failures >= settings.reminder_max_retries:
        return prompts.close(prompts.NO_RESPONSE, settings)
    reprompt = prompts.ask(state, settings, preface=settings.ivr_no_input_prompt)
    return Transition(step=CONFIRMING, retries=failures, actions=(reprompt,))


async def on_closing_played(turn: Turn) -> Transition:
    """The closing line has played: end the call."""
    return Transition(step=prompts.HANGING_UP, actions=(HangUp(for_everyone=True),))


async def on_disconnected(turn: Turn) -> Transition | None:
    """The call ended before an answer: no-response once connected, failed if it never connected."""
    if turn.state.data.get("outcome", prompts.PENDING) != prompts.PENDING:
        return None
    outcome = prompts.FAILED if turn.state.step == DIALLING else prompts.NO_RESPONSE
    return Transition(step=ENDED, data={"outcome": outcome})
