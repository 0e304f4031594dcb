"""Registering an Event Grid subscription sends the validation handshake, as Event Grid does."""

import time

import pytest

from emulator import handshake
from emulator.control_client import EmulatorControl
from emulator.handshake import validations
from emulator.server import EmulatorServer
from emulator.testing import EventGridRecorder


def validation_of(emulator: EmulatorServer, url: str) -> str | None:
    async def read() -> str | None:
        return validations(emulator.backend).get(url)

    return emulator.run(read())


def wait_for_validation(emulator: EmulatorServer, url: str, expected: str) -> None:
    deadline = time.monotonic() + 10
    while validation_of(emulator, url) != expected:
        assert time.monotonic() < deadline, f"{url} is {validation_of(emulator, url)}, not {expected}"
        time.sleep(0.01)


def test_a_new_subscription_is_validated(
    emulator: EmulatorServer, control: EmulatorControl, eventgrid_receiver: EventGridRecorder
) -> None:
    control.add_subscription(eventgrid_receiver.url, ["IncomingCall"])
    wait_for_validation(emulator, eventgrid_receiver.url, "validated")
    control.remove_subscription(eventgrid_receiver.url)


def test_a_subscriber_that_never_answers_is_reported(
    emulator: EmulatorServer, control: EmulatorControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handshake, "FIRST_BACKOFF_SECONDS", 0.01)  # the real retries wait 15 s for a slow app
    url = "http://127.0.0.1:9/runtime/webhooks/eventgrid?functionName=gone"
    control.add_subscription(url)
    wait_for_validation(emulator, url, "failed")
    control.remove_subscription(url)
