"""The demo call `make run` places: a scripted caller checks an order, asks for an agent, and hangs up."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from emulator.scripting import ScriptedCaller
from shared.logging import mask

if TYPE_CHECKING:
    from devhost.stack import LocalStack  # the stack runs the demo, so only its type is needed here

CALLER = "+14255550123"
IVR_NUMBER = "+18005550100"
ORDER_NUMBER = "12345"
HOW_TO_CALL = """
Services are running; press Ctrl-C to stop. Place your own call from another terminal:
  .venv/bin/python -m emulator call +14255550123 +18005550100     # prints the call id
  .venv/bin/python -m emulator press <call-id> +14255550123 1
  .venv/bin/python -m emulator timeline <call-id>
(ACS_EMULATOR_URL={emulator})"""


def run(stack: LocalStack) -> list[dict[str, Any]]:
    """Place the demo call through the running stack, print what happened, and return the call's timeline."""
    assert stack.emulator is not None
    control = stack.emulator.control
    agent = os.environ.get("AGENT_TARGET", "")
    if agent:
        control.set_behaviour(agent, answer="answer", answer_after_ms=1500)
    caller = ScriptedCaller(control, CALLER, timeout=60)
    say(f"Demo: {mask(CALLER)} calls the IVR at {mask(IVR_NUMBER)}")
    caller.dial(IVR_NUMBER)
    say(f"  hears: {caller.wait_for_prompt('thank you for calling')}")
    say(f"  hears: {caller.wait_for_prompt('press 1')}")
    say("  presses 1 (order status)")
    caller.press("1")
    say(f"  hears: {caller.wait_for_prompt('order number')}")
    say(f"  keys {ORDER_NUMBER}#")
    caller.press(f"{ORDER_NUMBER}#")
    say(f"  hears: {caller.wait_for_prompt('order ' + ' '.join(ORDER_NUMBER))}")
    say("  presses 2 (agent)")
    caller.press("2")
    say(f"  hears: {caller.wait_for_prompt('hold')}")
    if agent:
        caller.wait_for_event("AddParticipantSucceeded")
        caller.wait_for_event("PlayCanceled")
        say("  the agent answered; the hold music stopped and they talk")
    say("  hangs up")
    caller.hang_up()
    caller.wait_until_ended()
    timeline = caller.timeline
    say("\nTimeline of the call (emulator's view):")
    say(format_timeline(timeline))
    return timeline


def format_timeline(timeline: list[dict[str, Any]]) -> str:
    lines = []
    for entry in timeline:
        detail = entry["detail"]
        note = ""
        if entry["kind"] == "request":
            note = f"-> {detail.get('status')}"
        elif entry["kind"] == "callback":
            context = detail.get("operationContext")
            note = f"(operationContext={context})" if context else ""
        at = f"{entry['elapsedMs'] / 1000:8.3f}s"
        lines.append(f"  {at}  {entry['kind']:<9} {mask(entry['summary'])} {note}".rstrip())
    return "\n".join(lines)


def say(text: str) -> None:
    print(text, flush=True)


def wait_for_interrupt() -> None:
    """Block until Ctrl-C."""
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        say("\nStopping.")
