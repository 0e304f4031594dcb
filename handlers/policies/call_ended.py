"""CallDisconnected, in any flow and at any step: the call has ended, so later events are ignored."""

from __future__ import annotations

import logging
from dataclasses import replace

from shared.engine import CALL_DISCONNECTED, Next, Policy, Transition, Turn
from shared.logging import call_logger
from shared.state import ENDED

logger = logging.getLogger(__name__)


async def end_call(turn: Turn, inner: Next) -> Transition | None:
    """Let the flow note how the call ended (a reminder's outcome), then end it; nothing can be sent any more."""
    transition = await inner(turn)
    event = turn.event
    if event.type != CALL_DISCONNECTED:
        return transition
    call_logger(logger, event).info(
        "Call disconnected at step %s: %s/%s %s",
        turn.state.step,
        event.result.code,
        event.result.sub_code,
        event.result.message,
    )
    return replace(transition or Transition(step=ENDED), step=ENDED, actions=())


POLICY = Policy(end_call, event_types=frozenset({CALL_DISCONNECTED}))
