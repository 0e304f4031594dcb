"""The demo call `make run` places: a scripted caller checks an order, asks for an agent, and hangs up."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from emulator import narration
from emulator.control_client import DEFAULT_URL
from emulator.scripting import ScriptedCaller
from shared.logging import mask

if TYPE_CHECKING:
    from devhost.stack import LocalStack  # the stack runs the demo, so only its type is needed here

CALLER = "+14255550123"
IVR_NUMBER = "+18005550100"
ORDER_NUMBER = "12345"


def how_to_call(stack: LocalStack) -> str:
    """What to do next, once the services are up: the web page, or the CLI from another terminal."""
    assert stack.emulator is not None
    url = stack.emulator.url
    cli = ".venv/bin/python -m emulator" + ("" if url == DEFAULT_URL else f" --emulator-url {url}")
    return "\n".join([
        f"Place your own call: open {url}/emulator/ in a browser, or from another terminal:",
        f"  {cli} call {CALLER} {IVR_NUMBER}        # waits for the answer, prints the call's ids",
        f"  {cli} press <callConnectionId> {CALLER} 1",
        f"  {cli} timeline <callConnectionId>",
        "Press Ctrl-C to stop.",
    ])  # fmt: skip


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
    say(narration.lines(timeline, redact=mask))
    return timeline


def say(text: str) -> None:
    print(text, flush=True)
