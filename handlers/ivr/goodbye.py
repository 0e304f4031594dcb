"""Once the goodbye prompt has played (or failed to), hang up for everyone."""

from __future__ import annotations

from handlers.ivr import steps
from shared.actions import HangUp
from shared.engine import Transition, Turn


async def on_played(turn: Turn) -> Transition:
    """End the call for everyone."""
    return hang_up()


def hang_up() -> Transition:
    return Transition(step=steps.HANGING_UP, actions=(HangUp(for_everyone=True),))
