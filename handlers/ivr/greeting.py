"""When an IVR call connects, greet the caller and open the main menu."""

from __future__ import annotations

from handlers import ivr
from shared.actions import Play
from shared.context import Context
from shared.events import CallEvent
from shared.flow import Transition, advance
from shared.routing import Router
from shared.state import ANSWERING, CallState

router = Router()


@router.register("CallConnected", operation_context=ivr.FLOW)
async def on_call_connected(event: CallEvent, ctx: Context) -> None:
    """Play the greeting, then ask for a main-menu choice."""

    def greet(state: CallState) -> Transition:
        return Transition(
            step=ivr.MAIN_MENU,
            retries=0,
            actions=(
                Play(prompts=(ivr.greeting(ctx.settings),), operation_context=ivr.GREETING),
                ivr.ask_menu(state, ctx.settings),
            ),
        )

    await advance(event, ctx, decide=greet, from_steps={ANSWERING})
