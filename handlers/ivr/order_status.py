"""Order status: the caller keys an order number ending in #, and hears its status read from the orders table."""

from __future__ import annotations

import logging

from handlers.ivr import steps
from shared.actions import Play
from shared.engine import Transition, Turn
from shared.events import RecognizeCompleted
from shared.logging import call_logger

logger = logging.getLogger(__name__)


async def on_order_number(turn: Turn) -> Transition:
    """Read the order's status back and return to the main menu; an unknown order asks again."""
    state, settings, event = turn.state, turn.settings, turn.event
    assert isinstance(event, RecognizeCompleted)
    order_number = event.keys.rstrip("#")
    if not order_number.isdigit():
        return steps.retry_or_goodbye(state, settings, steps.ask_order_number)
    order = await turn.ctx.orders.get(order_number)
    call_logger(logger, event).info("Order lookup for %s: %s", order_number, "found" if order else "not found")
    if order is None:
        not_found = settings.ivr_order_not_found_prompt.format(order_number=spoken_digits(order_number))
        return steps.retry_or_goodbye(state, settings, steps.ask_order_number, preface=not_found)
    status = settings.ivr_order_status_prompt.format(
        order_number=spoken_digits(order_number), status=order.get("status", "unknown")
    )
    return Transition(
        step=steps.MAIN_MENU,
        retries=0,
        actions=(
            Play(prompts=(steps.say(status, settings),), operation_context=steps.ORDER_STATUS),
            steps.ask_menu(state, settings),
        ),
    )


async def on_failed(turn: Turn) -> Transition:
    """No digits keyed in time: ask again, up to IVR_MAX_RETRIES failures."""
    return steps.retry_or_goodbye(turn.state, turn.settings, steps.ask_order_number)


def spoken_digits(number: str) -> str:
    """ "12345" as "1 2 3 4 5", so text-to-speech reads digits rather than twelve thousand..."""
    return " ".join(number)
