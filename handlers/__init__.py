"""The app's call logic: one module per flow step or event family, composed into one router."""

from handlers import (
    call_ended,
    incoming_call,
    ivr_agent,
    ivr_goodbye,
    ivr_greeting,
    ivr_menu,
    ivr_order_status,
)
from shared.routing import Router

router = Router(
    incoming_call.router,
    ivr_greeting.router,
    ivr_menu.router,
    ivr_order_status.router,
    ivr_agent.router,
    ivr_goodbye.router,
    call_ended.router,
)
