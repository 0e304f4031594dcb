"""CallDisconnected, in any flow and at any step: mark the call ended so later events are ignored."""

from __future__ import annotations

import logging

from shared.context import Context
from shared.events import CallEvent
from shared.flow import Transition, advance
from shared.logging import call_logger
from shared.routing import Router
from shared.state import ENDED

logger = logging.getLogger(__name__)

router = Router()


@router.register("CallDisconnected")
async def on_call_disconnected(event: CallEvent, ctx: Context) -> None:
    """The call is over: record it, and drop whatever the flow was waiting for."""
    call_logger(logger, event).info(
        "Call disconnected: %s/%s %s", event.result.code, event.result.sub_code, event.result.message
    )
    await advance(event, ctx, decide=lambda state: Transition(step=ENDED))
