"""The IVR main menu: order status (1), an agent (2) or pay a bill (3); no input or no match asks again, then says
goodbye."""

from __future__ import annotations

from handlers import ivr, ivr_agent, ivr_payment
from shared.context import Context
from shared.events import CallEvent, RecognizeCompleted
from shared.flow import Transition, advance
from shared.routing import Router
from shared.state import CallState

router = Router()


def chosen_label(event: RecognizeCompleted) -> str | None:
    """The menu label the caller chose, whether ACS reports it as a choice or as raw keys."""
    if event.choice_label:
        return event.choice_label
    return ivr.MENU_KEYS.get(event.keys[:1])


@router.register("RecognizeCompleted", operation_context=ivr.MAIN_MENU)
async def on_menu_choice(event: RecognizeCompleted, ctx: Context) -> None:
    """Route the caller to the branch they chose."""
    settings = ctx.settings

    def route(state: CallState) -> Transition:
        match chosen_label(event):
            case ivr.ORDER_STATUS_CHOICE:
                return Transition(step=ivr.ORDER_NUMBER, retries=0, actions=(ivr.ask_order_number(state, settings),))
            case ivr.AGENT_CHOICE:
                return ivr_agent.connect_to_agent(state, settings)
            case ivr.PAY_BILL_CHOICE:
                return ivr_payment.ask_for_card(state, settings)
            case _:
                return ivr.retry_or_goodbye(state, settings, ivr.ask_menu)

    await advance(event, ctx, decide=route, from_steps={ivr.MAIN_MENU})


@router.register("RecognizeFailed", operation_context=ivr.MAIN_MENU)
async def on_menu_failed(event: CallEvent, ctx: Context) -> None:
    """No input or no match: ask again, up to IVR_MAX_RETRIES failures."""
    await advance(
        event,
        ctx,
        decide=lambda state: ivr.retry_or_goodbye(state, ctx.settings, ivr.ask_menu),
        from_steps={ivr.MAIN_MENU},
    )
