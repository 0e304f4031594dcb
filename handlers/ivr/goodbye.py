"""Once the goodbye prompt has played (or failed to), hang up for everyone."""

from __future__ import annotations

from handlers import ivr
from shared.actions import HangUp
from shared.context import Context
from shared.events import CallEvent
from shared.flow import Transition, advance
from shared.routing import Router

router = Router()


@router.register("PlayCompleted", operation_context=ivr.GOODBYE)
@router.register("PlayFailed", operation_context=ivr.GOODBYE)
async def on_goodbye_played(event: CallEvent, ctx: Context) -> None:
    """End the call for everyone."""
    await advance(
        event,
        ctx,
        decide=lambda state: Transition(step=ivr.HANGING_UP, actions=(HangUp(for_everyone=True),)),
        from_steps={ivr.GOODBYE},
    )
