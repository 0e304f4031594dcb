"""The IVR main menu: order status (1), an agent (2) or pay a bill (3); no input or no match asks again, then says
goodbye."""

from __future__ import annotations

from handlers.ivr import agent, payment, steps
from shared.engine import Transition, Turn
from shared.events import RecognizeCompleted


def chosen_label(event: RecognizeCompleted) -> str | None:
    """The menu label the caller chose, whether ACS reports it as a choice or as raw keys."""
    if event.choice_label:
        return event.choice_label
    return steps.MENU_KEYS.get(event.keys[:1])


async def on_choice(turn: Turn) -> Transition:
    """Route the caller to the branch they chose."""
    state, settings = turn.state, turn.settings
    assert isinstance(turn.event, RecognizeCompleted)
    match chosen_label(turn.event):
        case steps.ORDER_STATUS_CHOICE:
            return Transition(step=steps.ORDER_NUMBER, retries=0, actions=(steps.ask_order_number(state, settings),))
        case steps.AGENT_CHOICE:
            return agent.connect_to_agent(settings)
        case steps.PAY_BILL_CHOICE:
            return payment.ask_for_card(state, settings)
        case _:
            return steps.retry_or_goodbye(state, settings, steps.ask_menu)


async def on_failed(turn: Turn) -> Transition:
    """No input or no match: ask again, up to IVR_MAX_RETRIES failures."""
    return steps.retry_or_goodbye(turn.state, turn.settings, steps.ask_menu)
