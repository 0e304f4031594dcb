"""The whole local stack for end-to-end scenarios: emulator -> dev host -> function app -> emulator, on Azurite."""

from collections.abc import Iterator

import pytest

from devhost.azurite import Azurite, free_port
from devhost.stack import NEVER, LocalStack, StackPorts
from emulator.control_client import EmulatorControl
from shared import clients

TIME_SCALE = 0.05  # a 5 s input timeout takes 250 ms; TTS prompts of a few seconds take a few hundred ms


@pytest.fixture(scope="package")
def stack(azurite: Azurite) -> Iterator[LocalStack]:
    """The stack for tests/e2e, stopped after them: its app's clients (open on the dev host's loop) are closed before
    tests that build the process-wide clients themselves (tests/shared/test_clients.py) run."""
    # Unit tests may have installed fakes in the process-wide app context; the stack's app must build real clients.
    clients.use(None)
    ports = StackPorts(
        emulator=0,
        devhost=free_port(),
        blob=azurite.blob_port,
        queue=azurite.queue_port,
        table=azurite.table_port,
        receiver=0,
    )
    with LocalStack(ports=ports, time_scale=TIME_SCALE, watchdog_schedule=NEVER) as running:
        yield running
    clients.use(None)


@pytest.fixture
def control(stack: LocalStack) -> Iterator[EmulatorControl]:
    """The emulator's control API: simulated people, timelines. Calls from earlier tests are cleared afterwards."""
    assert stack.emulator is not None
    yield stack.emulator.control
    stack.emulator.control.reset()
