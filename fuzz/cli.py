"""Command line of `python -m fuzz`: how many requests, then a report of what every route answered."""

from __future__ import annotations

import argparse
import logging
import math
import time

from devhost.discovery import EVENT_GRID_TRIGGER
from devhost.stack import LocalStack, StackPorts
from fuzz.harness import Fuzzer, FuzzReport

# Shares of the request budget: the HTTP API (schema-driven and raw), callbacks, Event Grid deliveries.
API_SHARE, RAW_SHARE, CALLBACK_SHARE, EVENT_GRID_SHARE = 0.5, 0.15, 0.2, 0.15
# Some generated cases cannot be sent (a header requests refuses) or an operation runs out of variations.
HEADROOM = 1.1


def budget(requests: int, operations: int) -> dict[str, int]:
    """Fuzzer.run arguments that send about `requests` requests (a little more, never less by design)."""
    total = requests * HEADROOM
    return {
        "api": math.ceil(total * API_SHARE / (2 * operations)),
        "raw": math.ceil(total * RAW_SHARE / operations),
        "callbacks": math.ceil(total * CALLBACK_SHARE),
        "event_grid": math.ceil(total * EVENT_GRID_SHARE),
    }


def fuzz_stack(stack: LocalStack, requests: int) -> FuzzReport:
    """Fuzz the app running in stack with about `requests` generated requests."""
    assert stack.devhost is not None and stack.emulator is not None
    functions = [spec.name for spec in stack.devhost.state.functions if spec.trigger_type == EVENT_GRID_TRIGGER]
    fuzzer = Fuzzer(stack.devhost.url, mint_token=stack.emulator.backend.tokens.mint, event_grid_functions=functions)
    try:
        return fuzzer.run(**budget(requests, len(fuzzer.operations)))
    finally:
        fuzzer.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fuzz",
        description="Fuzz every route of the app (HTTP API, callbacks, Event Grid) through the local stack.",
    )
    parser.add_argument("--requests", type=int, default=10_000, help="generated requests to send (default 10000)")
    parser.add_argument("--time-scale", type=float, default=0.05, help="emulated time multiplier (default 0.05)")
    parser.add_argument("--verbose", action="store_true", help="show the stack's log (every refused request)")
    args = parser.parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.INFO)
    else:
        logging.disable(logging.CRITICAL)  # thousands of refused requests would each log a warning
    started = time.monotonic()
    with LocalStack(ports=StackPorts.free(), time_scale=args.time_scale) as stack:
        report = fuzz_stack(stack, args.requests)
    print(report.summary())
    print(f"took {time.monotonic() - started:.0f} s")
    return 0 if report.ok else 1
