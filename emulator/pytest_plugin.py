"""pytest fixtures that run the emulator in-process, for any project testing an ACS Call Automation app.

Installed with `pip install ./emulator` (the `acs-emulator` package registers it); in this repository load it with
`-p emulator.pytest_plugin`. Fixtures:

- `acs_emulator_config`: the EmulatorConfig the emulator starts with (a free port, time scale
  `acs_emulator_time_scale` from the ini file, 0.05 by default); override it to add Event Grid subscriptions.
- `acs_emulator`: the running EmulatorServer, one per test session (`.url`, `.config.access_key`,
  `.config.connection_string`, `.control`).
- `acs_control`: its control API client (people calling, pressing keys, timelines); everything is reset after
  each test that uses it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .config import EmulatorConfig
from .control_client import EmulatorControl
from .server import EmulatorServer

TIME_SCALE_INI = "acs_emulator_time_scale"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        TIME_SCALE_INI, "emulated time multiplier for the acs_emulator fixture (default 0.05)", default="0.05"
    )


@pytest.fixture(scope="session")
def acs_emulator_config(pytestconfig: pytest.Config) -> EmulatorConfig:
    return EmulatorConfig(port=0, time_scale=float(pytestconfig.getini(TIME_SCALE_INI)))


@pytest.fixture(scope="session")
def acs_emulator(acs_emulator_config: EmulatorConfig) -> Iterator[EmulatorServer]:
    with EmulatorServer(acs_emulator_config) as server:
        yield server


@pytest.fixture
def acs_control(acs_emulator: EmulatorServer) -> Iterator[EmulatorControl]:
    control = EmulatorControl(acs_emulator.url)
    yield control
    control.reset()
    control.close()
