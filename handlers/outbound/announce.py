"""Announce into a call or room the app has joined (connect API): play the announcement to everyone, then leave."""

from __future__ import annotations

from handlers.outbound import DIALLING, advance_placed
from shared.actions import HangUp, Play, Prompt
from shared.context import Context
from shared.events import CallEvent
from shared.flow import Transition
from shared.routing import Router
from shared.state import CallState

FLOW = "announce"
ANNOUNCING = "announcing"
LEAVING = "leaving"
STAYING = "joined"

router = Router()


def announce(state: CallState) -> Transition:
    prompts = tuple(Prompt(**prompt) for prompt in state.data["announcement"])
    return Transition(step=ANNOUNCING, actions=(Play(prompts=prompts, operation_context=ANNOUNCING),))


@router.register("CallConnected", operation_context=FLOW)
async def on_joined(event: CallEvent, ctx: Context) -> None:
    """The app is in the call: play the announcement to everyone."""
    await advance_placed(event, ctx, decide=announce, from_steps={DIALLING})


@router.register("PlayCompleted", operation_context=ANNOUNCING)
@router.register("PlayFailed", operation_context=ANNOUNCING)
async def on_announced(event: CallEvent, ctx: Context) -> None:
    """Leave the call (the others stay), unless the request asked the app to stay."""

    def decide(state: CallState) -> Transition:
        if state.data.get("stay"):
            return Transition(step=STAYING)
        return Transition(step=LEAVING, actions=(HangUp(for_everyone=False),))

    await advance_placed(event, ctx, decide=decide, from_steps={ANNOUNCING})
