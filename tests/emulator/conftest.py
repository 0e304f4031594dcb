"""Fixtures for driving the emulator with the real SDK: a running emulator, clients, and a callback recorder."""

from collections.abc import Iterator

import pytest
from azure.communication.callautomation import CallAutomationClient
from azure.core.credentials import AzureKeyCredential

from emulator.config import EmulatorConfig
from emulator.server import EmulatorServer
from emulator.testing import CallbackRecorder

TIME_SCALE = 0.02  # a 5 s silence timeout takes 100 ms


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorConfig(port=0, time_scale=TIME_SCALE)) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_emulator(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "emulator" in request.fixturenames:
        server: EmulatorServer = request.getfixturevalue("emulator")
        server.run(server.backend.reset())


@pytest.fixture(scope="session")
def recorder() -> Iterator[CallbackRecorder]:
    with CallbackRecorder() as running:
        yield running


@pytest.fixture(autouse=True)
def _clear_recorder(request: pytest.FixtureRequest) -> None:
    if "recorder" in request.fixturenames:
        request.getfixturevalue("recorder").clear()


@pytest.fixture
def client(emulator: EmulatorServer) -> CallAutomationClient:
    return CallAutomationClient(emulator.url, AzureKeyCredential(emulator.config.access_key))
