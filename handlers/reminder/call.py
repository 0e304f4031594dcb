"""The reminder call: read the reminder, take confirm / cancel / reschedule, store the outcome, say goodbye."""

from __future__ import annotations

from handlers import reminder
from handlers.outbound import DIALLING, advance_placed
from shared.actions import HangUp
from shared.context import Context
from shared.events import CallEvent, RecognizeCompleted
from shared.flow import Transition, advance
from shared.routing import Router
from shared.state import ENDED, CallState

router = Router()


@router.register("CallConnected", operation_context=reminder.FLOW)
async def on_answered(event: CallEvent, ctx: Context) -> None:
    """The person picked up: read the reminder and ask for their answer."""
    await advance_placed(
        event,
        ctx,
        decide=lambda state: Transition(step=reminder.CONFIRMING, actions=(reminder.ask(state, ctx.settings),)),
        from_steps={DIALLING},
    )


@router.register("CreateCallFailed", operation_context=reminder.FLOW)
async def on_not_reached(event: CallEvent, ctx: Context) -> None:
    """Nobody answered, the line was busy, the call was declined or could not be placed: record which."""
    await advance_placed(
        event,
        ctx,
        decide=lambda state: Transition(step=ENDED, data={"outcome": reminder.failure_outcome(event)}),
        from_steps={DIALLING},
    )


@router.register("RecognizeCompleted", operation_context=reminder.CONFIRMING)
async def on_answer(event: RecognizeCompleted, ctx: Context) -> None:
    """Confirm, cancel or reschedule; anything else asks again."""

    def decide(state: CallState) -> Transition:
        label = reminder.chosen(event)
        if label in reminder.OUTCOMES:
            return reminder.close(reminder.OUTCOMES[label], ctx.settings)
        return retry_or_give_up(state, ctx)

    await advance_placed(event, ctx, decide=decide, from_steps={reminder.CONFIRMING})


@router.register("RecognizeFailed", operation_context=reminder.CONFIRMING)
async def on_no_answer(event: CallEvent, ctx: Context) -> None:
    """No input or no match: ask again, up to REMINDER_MAX_RETRIES failures, then record no-response."""
    await advance_placed(
        event, ctx, decide=lambda state: retry_or_give_up(state, ctx), from_steps={reminder.CONFIRMING}
    )


def retry_or_give_up(state: CallState, ctx: Context) -> Transition:
    failures = state.retries + 1
    if failures >= ctx.settings.reminder_max_retries:
        return reminder.close(reminder.NO_RESPONSE, ctx.settings)
    reprompt = reminder.ask(state, ctx.settings, preface=ctx.settings.ivr_no_input_prompt)
    return Transition(step=reminder.CONFIRMING, retries=failures, actions=(reprompt,))


@router.register("PlayCompleted", operation_context=reminder.CLOSING)
@router.register("PlayFailed", operation_context=reminder.CLOSING)
async def on_closing_played(event: CallEvent, ctx: Context) -> None:
    """The closing line has played: end the call."""
    await advance_placed(
        event,
        ctx,
        decide=lambda state: Transition(step=reminder.HANGING_UP, actions=(HangUp(for_everyone=True),)),
        from_steps={reminder.CLOSING},
    )


@router.register("CallDisconnected")
async def on_hung_up_early(event: CallEvent, ctx: Context) -> None:
    """The person hung up before answering: the outcome is no-response (runs before call_ended's handler)."""

    def decide(state: CallState) -> Transition | None:
        if state.flow != reminder.FLOW or state.data.get("outcome", reminder.PENDING) != reminder.PENDING:
            return None
        return Transition(step=ENDED, data={"outcome": reminder.NO_RESPONSE})

    await advance(event, ctx, decide=decide)
