"""Fixtures for the devhost tests: a running DevHost on the main fixture app and an HTTP client."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from devhost.server import DevHost

FIXTURES = Path(__file__).parent
FIXTURE_APP = FIXTURES / "fixture_app"
PREFIX_APP = FIXTURES / "fixture_app_prefix"


@pytest.fixture(scope="module")
def host() -> Iterator[DevHost]:
    with DevHost(FIXTURE_APP) as running:
        yield running


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        yield session
