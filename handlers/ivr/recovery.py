"""The watchdog's way back for an IVR call whose step waited past its deadline (the answer from ACS was lost, or
the actions never went out). ACS has just been asked: the call is still connected and these people are in it."""

from __future__ import annotations

from handlers.ivr import agent, goodbye, payment, steps
from shared.engine import Transition, Turn
from shared.state import CallState

ASK_AGAIN = {
    steps.MAIN_MENU: steps.ask_menu,
    steps.ORDER_NUMBER: steps.ask_order_number,
    steps.CARD_NUMBER: payment.ask_card_number,
}


def present(turn: Turn) -> set[str]:
    return set(turn.event.data.get("participants", ()))


async def ask_again(turn: Turn) -> Transition:
    """The answer to a prompt never came: treat it as no input, as ACS's own RecognizeFailed would be."""
    state: CallState = turn.state
    return steps.retry_or_goodbye(state, turn.settings, ASK_AGAIN[state.step])


async def check_agent(turn: Turn) -> Transition:
    """The agent's invitation outlived its timeout: connected if ACS lists them in the call, else apologise."""
    settings = turn.settings
    if settings.agent_target and any(raw_id.endswith(settings.agent_target) for raw_id in present(turn)):
        return agent.agent_joined()
    return agent.apologise(settings)


async def hang_up(turn: Turn) -> Transition:
    """The goodbye finished long ago (or the hang-up did not take): hang up for everyone."""
    return goodbye.hang_up()


async def still_talking(turn: Turn) -> Transition | None:
    """Caller and agent talk for as long as they like; end the call if the caller has left it."""
    return agent.end_if_caller_left(turn, present(turn))
