"""When an IVR call connects, greet the caller and open the main menu."""

from __future__ import annotations

from handlers.ivr import steps
from shared.actions import Play
from shared.engine import Transition, Turn


async def on_call_connected(turn: Turn) -> Transition:
    """Play the greeting, then ask for a main-menu choice."""
    return greet(turn)


def greet(turn: Turn) -> Transition:
    settings = turn.settings
    return Transition(
        step=steps.MAIN_MENU,
        retries=0,
        actions=(
            Play(prompts=(steps.greeting(settings),), operation_context=steps.GREETING),
            steps.ask_menu(turn.state, settings),
        ),
    )
