"""Schema-driven and hostile fuzzing of every route through the dev host (a bounded run; `make fuzz` runs 10,000)."""

import pytest

from devhost.discovery import EVENT_GRID_TRIGGER
from devhost.stack import LocalStack
from emulator.control_client import EmulatorControl
from fuzz.harness import Fuzzer


@pytest.mark.slow  # about 500 generated requests: 6-15 s
def test_no_generated_request_gets_a_5xx_or_an_exception_text(stack: LocalStack, control: EmulatorControl) -> None:
    assert stack.devhost is not None and stack.emulator is not None
    functions = [spec.name for spec in stack.devhost.state.functions if spec.trigger_type == EVENT_GRID_TRIGGER]
    fuzzer = Fuzzer(stack.devhost.url, mint_token=stack.emulator.backend.tokens.mint, event_grid_functions=functions)
    try:
        report = fuzzer.run(api=2, raw=2, callbacks=150, event_grid=150)
    finally:
        fuzzer.close()

    assert report.ok, report.summary()
    assert report.requests >= 450
    expected = {f"{op.method.upper()} {op.path}" for op in fuzzer.operations}
    expected |= {"POST /api/callbacks", *(f"POST eventgrid {name}" for name in functions)}
    assert set(report.routes) == expected  # every route of the document, the callbacks and each webhook
