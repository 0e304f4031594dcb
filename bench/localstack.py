"""A LocalStack for benchmarking: instrumented dev host, warmed-up app, and a clean process afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from devhost.stack import NEVER, LocalStack, StackPorts
from emulator.control_client import EmulatorControl
from emulator.scripting import ScriptedCaller

from .probe import HostProbe

logger = logging.getLogger(__name__)

IVR_NUMBER = "+18005550100"  # the seeded demo line, answered into the IVR
KNOWN_ORDER = "12345"  # seeded: "out for delivery"
ORDER_STATUS_TEXT = "out for delivery"


@dataclass
class BenchStack:
    """What a benchmark needs: the running stack, its control API and the dev host probe."""

    stack: LocalStack
    probe: HostProbe

    @property
    def control(self) -> EmulatorControl:
        assert self.stack.emulator is not None
        return self.stack.emulator.control

    @property
    def callback_url(self) -> str:
        assert self.stack.devhost is not None
        return f"{self.stack.devhost.url}/api/callbacks"


def caller_number(index: int, block: int = 0) -> str:
    """A distinct E.164 caller number per simulated person (block separates benchmarks)."""
    return f"+1425{block:03d}{index:04d}"


def order_status_call(
    control: EmulatorControl, number: str, timeout: float = 15.0, *, recorded: bool = False
) -> ScriptedCaller:
    """One caller through the IVR, like tests/e2e/test_smoke.py: menu 1, order number, status, hang up.

    recorded: also wait for the call's recording file to be announced, so the emulator's rendering of it (in this
    process; ACS renders on its own servers) is not measured as part of the next call."""
    caller = ScriptedCaller(control, number, timeout=timeout).dial(IVR_NUMBER)
    caller.wait_for_prompt("press 1")
    caller.press("1")
    caller.wait_for_prompt("order number")
    caller.press(KNOWN_ORDER + "#")
    caller.wait_for_prompt(ORDER_STATUS_TEXT)
    caller.wait_for_prompt("press 1")  # the menu again: the whole batch of the last step was accepted
    caller.hang_up()
    caller.wait_until_ended()
    if recorded:
        caller.wait_for(
            lambda entry: entry["kind"] == "eventgrid" and entry["summary"] == "RecordingFileStatusUpdated",
            "the recording file",
        )
    return caller


@contextmanager
def bench_stack(
    time_scale: float, ports: StackPorts | None = None, settings: Mapping[str, str] | None = None
) -> Iterator[BenchStack]:
    """Start an instrumented LocalStack (own Azurite unless ports name a running one), the app's settings changed by
    `settings` (e.g. recording off), and warm it up with one call.

    Restores os.environ and forgets the app's process-wide clients afterwards, so pytest sessions stay clean.
    """
    from shared import clients

    saved_environment = dict(os.environ)
    probe = HostProbe().install()
    clients.use(None)
    stack = LocalStack(ports=ports or StackPorts.free(), time_scale=time_scale, watchdog_schedule=NEVER)
    try:
        stack.start()
        # The app reads its settings when the warm-up call builds its clients, just below.
        os.environ.update(settings or {})
        bench = BenchStack(stack=stack, probe=probe)
        # The first call builds the app's clients and fetches the JWT signing keys; keep it out of the numbers.
        order_status_call(bench.control, caller_number(0, block=999))
        probe.wait_idle()
        bench.control.reset()
        probe.clear()
        yield bench
    finally:
        with contextlib.suppress(TimeoutError):
            probe.wait_idle(timeout=10)  # late callbacks (e.g. CallDisconnected) finish before storage stops
        _close_app_clients(stack)
        stack.stop()
        probe.uninstall()
        clients.use(None)
        os.environ.clear()
        os.environ.update(saved_environment)


def _close_app_clients(stack: LocalStack) -> None:
    """Close the app's SDK clients on the dev host's loop, where they were created."""
    from shared import clients

    loop = getattr(stack.devhost, "_loop", None) if stack.devhost else None
    if loop is None or not loop.is_running():
        return
    try:
        asyncio.run_coroutine_threadsafe(clients.close(), loop).result(timeout=10)
    except Exception as error:  # closing is best effort; the stack stops anyway
        logger.warning("could not close the app's clients: %s", error)
