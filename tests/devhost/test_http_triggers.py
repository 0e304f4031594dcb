"""HTTP triggers served by DevHost over real HTTP: routes, methods, responses, failures, admin endpoints."""

import asyncio
import logging

import aiohttp
import pytest

from devhost.server import DevHost
from tests.devhost.conftest import PREFIX_APP


async def test_sync_route_with_parameter(host: DevHost, client: aiohttp.ClientSession) -> None:
    async with client.get(f"{host.url}/api/hello/bob") as response:
        assert response.status == 200
        assert await response.text() == "hello bob"
        assert response.headers["X-Fixture"] == "sync"
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


async def test_async_route_sees_method_params_headers_and_body(host: DevHost, client: aiohttp.ClientSession) -> None:
    url = f"{host.url}/api/calls/c-1/items/3/blue?x=1&y=two"
    async with client.post(url, data=b"payload", headers={"X-Test": "yes"}) as response:
        assert response.status == 201
        assert response.headers["Content-Type"] == "application/json"
        echo = await response.json()
    assert echo == {
        "method": "POST",
        "route": {"callId": "c-1", "index": "3", "tag": "blue"},
        "params": {"x": "1", "y": "two"},
        "header": "yes",
        "body": "payload",
        "url": url,
    }


async def test_optional_parameter_may_be_absent(host: DevHost, client: aiohttp.ClientSession) -> None:
    async with client.get(f"{host.url}/api/calls/c-2/items/7") as response:
        assert response.status == 201
        assert (await response.json())["route"] == {"callId": "c-2", "index": "7"}


async def test_catch_all_parameter_and_str_return(host: DevHost, client: aiohttp.ClientSession) -> None:
    async with client.get(f"{host.url}/api/files/a/b/c.txt") as response:
        assert response.status == 200
        assert await response.text() == "a/b/c.txt"
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


async def test_default_route_is_the_function_name_matched_case_insensitively(
    host: DevHost, client: aiohttp.ClientSession
) -> None:
    for path in ("/api/plain", "/api/PLAIN", "/api/plain/"):
        async with client.delete(host.url + path) as response:
            assert response.status == 204, path


async def test_method_not_allowed(host: DevHost, client: aiohttp.ClientSession) -> None:
    async with client.post(f"{host.url}/api/hello/bob") as response:
        assert response.status == 405
        assert response.headers["Allow"] == "GET"
        assert "POST is not allowed" in await response.text()


@pytest.mark.parametrize("path", ["/api/nothing", "/api/hello", "/api/hello/bob/extra", "/elsewhere"])
async def test_unknown_route_is_404(host: DevHost, client: aiohttp.ClientSession, path: str) -> None:
    async with client.get(host.url + path) as response:
        assert response.status == 404


async def test_exception_gives_500_naming_the_function_and_logs_traceback(
    host: DevHost, client: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="devhost")
    async with client.get(f"{host.url}/api/boom") as response:
        assert response.status == 500
        text = await response.text()
    assert text == "Function Functions.boom failed; the dev host's log has the details\n"
    assert "kaboom" not in text and "RuntimeError" not in text
    failures = [record for record in caplog.records if record.exc_info and "Functions.boom" in record.getMessage()]
    assert failures and str(failures[0].exc_info[1]) == "kaboom"


async def test_binding_devhost_cannot_provide_gives_500(host: DevHost, client: aiohttp.ClientSession) -> None:
    async with client.get(f"{host.url}/api/queue") as response:
        assert response.status == 500
        text = await response.text()
    assert "'msg' (queue binding)" in text
    assert "cannot provide" in text


async def test_blocking_sync_function_does_not_stall_the_server(host: DevHost, client: aiohttp.ClientSession) -> None:
    async def call(path: str) -> str:
        async with client.get(host.url + path) as response:
            assert response.status == 200
            return await response.text()

    blocked = asyncio.create_task(call("/api/block"))
    assert await call("/api/release") == "ok"
    assert await asyncio.wait_for(blocked, timeout=10) == "released"


async def test_admin_endpoints(host: DevHost, client: aiohttp.ClientSession) -> None:
    async with client.get(f"{host.url}/admin/host/status") as response:
        assert await response.json() == {"state": "Running"}
    async with client.get(f"{host.url}/admin/functions") as response:
        listing = {function["name"]: function for function in await response.json()}
    assert listing["hello"]["invoke_url_template"] == f"{host.url}/api/hello/{{name}}"
    assert listing["on_event"]["invoke_url_template"] == (
        f"{host.url}/runtime/webhooks/eventgrid?functionName=on_event"
    )
    assert listing["on_event"]["config"]["bindings"] == [
        {"direction": "IN", "type": "eventGridTrigger", "name": "event"}
    ]
    assert listing["hello"]["servedByDevhost"]


async def test_second_app_in_same_process_with_route_prefix(
    host: DevHost, client: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TICK_SCHEDULE", "0 0 0 1 1 *")
    with DevHost(PREFIX_APP) as prefixed:
        async with client.get(f"{prefixed.url}/custom/hello/bob") as response:
            assert await response.text() == "prefixed hello bob"
        async with client.get(f"{prefixed.url}/custom/hello/world") as response:
            assert await response.text() == "the literal route wins"
        async with client.get(f"{prefixed.url}/api/hello/bob") as response:
            assert response.status == 404
        async with client.get(f"{host.url}/api/hello/bob") as response:
            assert await response.text() == "hello bob"
        async with client.get(f"{prefixed.url}/admin/functions") as response:
            tick = next(function for function in await response.json() if function["name"] == "tick")
        assert tick["servedByDevhost"] and tick["invoke_url_template"] is None
