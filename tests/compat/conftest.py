"""The SDK compatibility matrix: one venv per SDK version (built on first use), and an emulator for them."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.config import EmulatorConfig
from emulator.server import EmulatorServer
from tests.pinned_venv import pinned_venv_python

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SDK_VERSIONS = ("1.1.0", "1.4.0", "1.6.0")


def sdk_python(version: str) -> Path:
    """The interpreter of the venv with SDK `version` (and the app framework its fixture app uses)."""
    return pinned_venv_python(f"sdk-{version}", HERE / f"requirements-sdk-{version}.txt")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(HERE):
            item.add_marker(pytest.mark.compat)


@pytest.fixture(scope="session")
def matrix_emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorConfig(port=0, time_scale=0.05)) as server:
        yield server
