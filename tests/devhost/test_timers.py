"""Timer triggers in the dev host: the schedule from an app setting, runs on schedule, and the admin API's run-now."""

import asyncio
import time

import aiohttp
import pytest

from devhost.server import DevHost
from devhost.settings import DevHostError
from tests.devhost.conftest import PREFIX_APP


async def ticks(client: aiohttp.ClientSession, host: DevHost) -> int:
    async with client.get(f"{host.url}/custom/ticks") as response:
        return int(await response.text())


async def test_the_admin_api_runs_a_timer_function_now(client: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TICK_SCHEDULE", "0 0 0 1 1 *")  # once a year: only the admin API runs it here
    with DevHost(PREFIX_APP) as host:
        before = await ticks(client, host)

        async with client.post(f"{host.url}/admin/functions/tick", json={"input": ""}) as response:
            assert response.status == 202
        async with client.post(f"{host.url}/admin/functions/nothing", json={}) as response:
            assert response.status == 404

        assert await ticks(client, host) == before + 1


async def test_a_timer_runs_on_its_schedule(client: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TICK_SCHEDULE", "* * * * * *")  # every second
    with DevHost(PREFIX_APP) as host:
        before = await ticks(client, host)
        deadline = time.monotonic() + 10
        while await ticks(client, host) < before + 2:
            assert time.monotonic() < deadline, "the timer did not run twice within 10 s"
            await asyncio.sleep(0.1)


@pytest.mark.parametrize(
    ("schedule", "message"),
    [(None, "names setting TICK_SCHEDULE, which is not set"), ("*/5 * * * *", "not a six-field NCRONTAB schedule")],
)
def test_a_schedule_the_host_cannot_use_is_named_at_start(monkeypatch, schedule, message):
    if schedule is None:
        monkeypatch.delenv("TICK_SCHEDULE", raising=False)
    else:
        monkeypatch.setenv("TICK_SCHEDULE", schedule)
    with pytest.raises(DevHostError, match=message):
        DevHost(PREFIX_APP).start()
