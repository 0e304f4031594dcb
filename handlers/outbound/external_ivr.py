"""Navigate an external IVR after dialling out: send a DTMF sequence step by step once the call connects.

A sequence such as "1,2#" or ["1", "2#"] is a list of steps separated by commas; each step is sent once the
previous one has been sent (SendDtmfTonesCompleted), and a step of more than 18 tones is split, because ACS
sends at most 18 tones per request. What was sent is kept in the call's state (`dtmf_sent`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from handlers.outbound import DIALLING
from shared.actions import HangUp, SendDtmf
from shared.engine import STEP_OVERDUE, Flow, On, Transition, Turn, once_connected
from shared.state import CallState
from shared.validation import MAX_DTMF_TONES, tones

NAME = "external-ivr"
SENDING = "sending-dtmf"
NAVIGATED = "navigated"
FAILED = "dtmf-failed"
HANGING_UP = "hanging-up"
MAX_STEPS = 50


SEQUENCE_EXPECTATION = f'must be keys such as "1,2#" or a list of 1 to {MAX_STEPS} steps such as ["1", "2#"]'


def parse_sequence(value: Any) -> list[list[str]]:
    """ "1,2#" or ["1", "2#"] as steps of ACS Tone names, each at most 18 tones long; ValueError says what is wrong
    (from the field on: "[1] holds 'x', ...")."""
    steps = value.split(",") if isinstance(value, str) else value
    if not isinstance(steps, list) or not 1 <= len(steps) <= MAX_STEPS:
        raise ValueError(SEQUENCE_EXPECTATION)
    parsed: list[list[str]] = []
    for index, step in enumerate(steps):
        if not isinstance(step, str):
            raise ValueError(f"[{index}] must be a string of keys")
        keys = step.replace(" ", "")
        for start in range(0, len(keys), MAX_DTMF_TONES):
            try:
                parsed.append(list(tones(keys[start : start + MAX_DTMF_TONES])))
            except ValueError as exc:
                raise ValueError(f"[{index}] {exc}") from None
    if not parsed:
        raise ValueError("has no keys to send")
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


async def on_connected(turn: Turn) -> Transition:
    """The external IVR answered: send the first step."""
    return send_next(turn.state)


async def on_step_sent(turn: Turn) -> Transition:
    """Record the step just sent, then send the next one.

    The watchdog takes a step whose SendDtmfTonesCompleted never came as sent: ACS reports every send, so a lost
    report is far likelier than a lost send, and sending the same keys twice would mislead the far end.
    """
    state = turn.state
    previously = state.data.get("dtmf_sent", [])
    sent = [*previously, state.data["dtmf"][len(previously)]]
    following = send_next(replace(state, data={**state.data, "dtmf_sent": sent}))
    return following.with_data(dtmf_sent=sent)


async def on_step_failed(turn: Turn) -> Transition:
    """The tones could not be sent: stop navigating; hang up if the caller asked for it."""
    result = turn.event.result
    failure = f"{result.code}/{result.sub_code} {result.message}".strip()
    if turn.state.data.get("hang_up_after_dtmf"):
        return Transition(step=HANGING_UP, data={"dtmf_failure": failure}, actions=(HangUp(for_everyone=True),))
    return Transition(step=FAILED, data={"dtmf_failure": failure})


async def hang_up(turn: Turn) -> Transition:
    return Transition(step=HANGING_UP, actions=(HangUp(for_everyone=True),))


FLOW = Flow(
    name=NAME,
    steps=(DIALLING, SENDING, NAVIGATED, FAILED, HANGING_UP),
    transitions=(
        On("CallConnected", DIALLING, on_connected),
        On("SendDtmfTonesCompleted", SENDING, on_step_sent, context=SENDING),
        On("SendDtmfTonesFailed", SENDING, on_step_failed, context=SENDING),
        On(STEP_OVERDUE, DIALLING, once_connected(on_connected)),
        On(STEP_OVERDUE, SENDING, on_step_sent),
        On(STEP_OVERDUE, HANGING_UP, hang_up),
    ),
)
