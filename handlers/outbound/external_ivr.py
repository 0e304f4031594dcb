"""Navigate an external IVR after dialling out: send a DTMF sequence step by step once the call connects.

A sequence such as "1,2#" or ["1", "2#"] is a list of steps separated by commas; each step is sent once the
previous one has been sent (SendDtmfTonesCompleted), and a step of more than 18 tones is split, because ACS
sends at most 18 tones per request. What was sent is kept in the call's state (`dtmf_sent`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from handlers.outbound import DIALLING, advance_placed
from shared.actions import HangUp, SendDtmf
from shared.context import Context
from shared.errors import BadRequest
from shared.events import CallEvent
from shared.flow import Transition
from shared.routing import Router
from shared.state import CallState
from shared.validation import MAX_DTMF_TONES, tones

FLOW = "external-ivr"
SENDING = "sending-dtmf"
NAVIGATED = "navigated"
FAILED = "dtmf-failed"
HANGING_UP = "hanging-up"
MAX_STEPS = 50

router = Router()


def parse_sequence(value: Any, where: str) -> list[list[str]]:
    """ "1,2#" or ["1", "2#"] as steps of ACS Tone names, each at most 18 tones long."""
    steps = value.split(",") if isinstance(value, str) else value
    if not isinstance(steps, list) or not 1 <= len(steps) <= MAX_STEPS:
        raise BadRequest(f'{where} must be keys such as "1,2#" or a list of 1 to {MAX_STEPS} steps such as ["1", "2#"]')
    parsed: list[list[str]] = []
    for index, step in enumerate(steps):
        if not isinstance(step, str):
            raise BadRequest(f"{where}[{index}] must be a string of keys")
        keys = step.replace(" ", "")
        for start in range(0, len(keys), MAX_DTMF_TONES):
            parsed.append(list(tones(keys[start : start + MAX_DTMF_TONES], f"{where}[{index}]")))
    if not parsed:
        raise BadRequest(f"{where} has no keys to send")
    return parsed


def send_next(state: CallState) -> Transition:
    """Send the next step of the sequence, or finish: hang up if asked to, else leave the call to the API."""
    sent = state.data.get("dtmf_sent", [])
    sequence = state.data["dtmf"]
    if len(sent) < len(sequence):
        send = SendDtmf(target=state.data["targets"][0], tones=tuple(sequence[len(sent)]), operation_context=SENDING)
        return Transition(step=SENDING, actions=(send,))
    if state.data.get("hang_up_after_dtmf"):
        return Transition(step=HANGING_UP, actions=(HangUp(for_everyone=True),))
    return Transition(step=NAVIGATED)


@router.register("CallConnected", operation_context=FLOW)
async def on_connected(event: CallEvent, ctx: Context) -> None:
    """The external IVR answered: send the first step."""
    await advance_placed(event, ctx, decide=send_next, from_steps={DIALLING})


@router.register("SendDtmfTonesCompleted", operation_context=SENDING)
async def on_step_sent(event: CallEvent, ctx: Context) -> None:
    """Record the step just sent, then send the next one."""

    def decide(state: CallState) -> Transition:
        previously = state.data.get("dtmf_sent", [])
        sent = [*previously, state.data["dtmf"][len(previously)]]
        following = send_next(replace(state, data={**state.data, "dtmf_sent": sent}))
        return replace(following, data={"dtmf_sent": sent})

    await advance_placed(event, ctx, decide=decide, from_steps={SENDING})


@router.register("SendDtmfTonesFailed", operation_context=SENDING)
async def on_step_failed(event: CallEvent, ctx: Context) -> None:
    """The tones could not be sent: stop navigating; hang up if the caller asked for it."""

    def decide(state: CallState) -> Transition:
        failure = {"dtmf_failure": f"{event.result.code}/{event.result.sub_code} {event.result.message}".strip()}
        if state.data.get("hang_up_after_dtmf"):
            return Transition(step=HANGING_UP, data=failure, actions=(HangUp(for_everyone=True),))
        return Transition(step=FAILED, data=failure)

    await advance_placed(event, ctx, decide=decide, from_steps={SENDING})
