"""Session fixtures shared by every test package: the local storage emulator."""

from collections.abc import Iterator

import pytest

from devhost.azurite import Azurite


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    """A real Azurite (Table, Blob, Queue) on free loopback ports for the whole test session."""
    with Azurite() as running:
        yield running


@pytest.fixture(scope="session")
def storage_connection_string(azurite: Azurite) -> str:
    return azurite.connection_string
