"""Order status: the caller keys an order number ending in #, and hears its status read from the orders table."""

from __future__ import annotations

import logging

from handlers import ivr
from shared.actions import Play
from shared.context import Context
from shared.events import CallEvent, RecognizeCompleted
from shared.flow import Transition, advance
from shared.logging import call_logger
from shared.routing import Router
from shared.state import CallState

logger = logging.getLogger(__name__)

router = Router()


@router.register("RecognizeCompleted", operation_context=ivr.ORDER_NUMBER)
async def on_order_number(event: RecognizeCompleted, ctx: Context) -> None:
    """Read the order's status back and return to the main menu; an unknown order asks again."""
    settings = ctx.settings
    order_number = event.keys.rstrip("#")
    order = await ctx.orders.get(order_number) if order_number.isdigit() else None
    call_logger(logger, event).info("Order lookup for %s: %s", order_number, "found" if order else "not found")

    def answer(state: CallState) -> Transition:
        if not order_number.isdigit():
            return ivr.retry_or_goodbye(state, settings, ivr.ask_order_number)
        if order is None:
            not_found = settings.ivr_order_not_found_prompt.format(order_number=spoken_digits(order_number))
            return ivr.retry_or_goodbye(state, settings, ivr.ask_order_number, preface=not_found)
        status = settings.ivr_order_status_prompt.format(
            order_number=spoken_digits(order_number), status=order.get("status", "unknown")
        )
        return Transition(
            step=ivr.MAIN_MENU,
            retries=0,
            actions=(
                Play(prompts=(ivr.say(status, settings),), operation_context=ivr.ORDER_STATUS),
                ivr.ask_menu(state, settings),
            ),
        )

    await advance(event, ctx, decide=answer, from_steps={ivr.ORDER_NUMBER})


@router.register("RecognizeFailed", operation_context=ivr.ORDER_NUMBER)
async def on_order_number_failed(event: CallEvent, ctx: Context) -> None:
    """No digits keyed in time: ask again, up to IVR_MAX_RETRIES failures."""
    await advance(
        event,
        ctx,
        decide=lambda state: ivr.retry_or_goodbye(state, ctx.settings, ivr.ask_order_number),
        from_steps={ivr.ORDER_NUMBER},
    )


def spoken_digits(number: str) -> str:
    """ "12345" as "1 2 3 4 5", so text-to-speech reads digits rather than twelve thousand..."""
    return " ".join(number)
