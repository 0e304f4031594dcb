"""Announce into a call or room the app has joined (connect API): play the announcement to everyone, then leave."""

from __future__ import annotations

from handlers.outbound import DIALLING
from shared.actions import HangUp, Play, Prompt
from shared.engine import STEP_OVERDUE, Flow, On, Transition, Turn, once_connected

NAME = "announce"
ANNOUNCING = "announcing"
LEAVING = "leaving"
STAYING = "joined"


async def announce(turn: Turn) -> Transition:
    """The app is in the call: play the announcement to everyone."""
    prompts = tuple(Prompt(**prompt) for prompt in turn.state.data["announcement"])
    return Transition(step=ANNOUNCING, actions=(Play(prompts=prompts, operation_context=ANNOUNCING),))


async def on_announced(turn: Turn) -> Transition:
    """Leave the call (the others stay), unless the request asked the app to stay."""
    if turn.state.data.get("stay"):
        return Transition(step=STAYING)
    return Transition(step=LEAVING, actions=(HangUp(for_everyone=False),))


FLOW = Flow(
    name=NAME,
    steps=(DIALLING, ANNOUNCING, LEAVING, STAYING),
    transitions=(
        On("CallConnected", DIALLING, announce),
        On("PlayCompleted", ANNOUNCING, on_announced, context=ANNOUNCING),
        On("PlayFailed", ANNOUNCING, on_announced, context=ANNOUNCING),
        On(STEP_OVERDUE, DIALLING, once_connected(announce)),
        On(STEP_OVERDUE, (ANNOUNCING, LEAVING), on_announced),
    ),
)
