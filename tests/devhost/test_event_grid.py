"""The Event Grid trigger webhook (/runtime/webhooks/eventgrid) as the Functions extension serves it."""

import json
import uuid
from typing import Any

import aiohttp
import pytest

from devhost.server import DevHost

NOTIFICATION = {"aeg-event-type": "Notification", "Content-Type": "application/json"}


def webhook(host: DevHost, function_name: str = "on_event") -> str:
    return f"{host.url}/runtime/webhooks/eventgrid?functionName={function_name}"


def grid_event(event_id: str, **overrides: Any) -> dict[str, Any]:
    event = {
        "id": event_id,
        "topic": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Communication/communicationServices/acs",
        "subject": f"/caller/{event_id}",
        "data": {"n": event_id},
        "eventType": "Microsoft.Communication.IncomingCall",
        "eventTime": "2024-05-01T10:20:30.1234567Z",
        "dataVersion": "1.0",
        "metadataVersion": "1",
    }
    event.update(overrides)
    return event


async def recorded(host: DevHost, client: aiohttp.ClientSession, ids: set[str]) -> list[dict[str, Any]]:
    async with client.get(f"{host.url}/api/events") as response:
        return [event for event in await response.json() if event["id"] in ids]


def new_ids(count: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(count)]


async def test_notification_array_invokes_once_per_element_in_order(
    host: DevHost, client: aiohttp.ClientSession
) -> None:
    ids = new_ids(3)
    body = [grid_event(event_id) for event_id in ids]
    async with client.post(webhook(host), json=body, headers=NOTIFICATION) as response:
        assert response.status == 202
    events = await recorded(host, client, set(ids))
    assert [event["id"] for event in events] == ids
    assert events[0] == {
        "kind": "EventGridEvent",
        "id": ids[0],
        "type": "Microsoft.Communication.IncomingCall",
        "subject": f"/caller/{ids[0]}",
        "data": {"n": ids[0]},
        "time": "2024-05-01T10:20:30.123456+00:00",
    }


async def test_function_name_is_case_insensitive(host: DevHost, client: aiohttp.ClientSession) -> None:
    [event_id] = new_ids(1)
    async with client.post(webhook(host, "ON_EVENT"), json=[grid_event(event_id)], headers=NOTIFICATION) as response:
        assert response.status == 202
    assert len(await recorded(host, client, {event_id})) == 1


async def test_single_cloud_event_arrives_as_cloud_event(host: DevHost, client: aiohttp.ClientSession) -> None:
    [event_id] = new_ids(1)
    cloud_event = {
        "specversion": "1.0",
        "id": event_id,
        "source": "/acs",
        "type": "Microsoft.Communication.CallEnded",
        "subject": "call/1",
        "time": "2024-05-01T10:20:30Z",
        "data": {"ok": True},
    }
    async with client.post(webhook(host), json=cloud_event, headers=NOTIFICATION) as response:
        assert response.status == 202
    [event] = await recorded(host, client, {event_id})
    assert event["kind"] == "CloudEvent"
    assert event["type"] == "Microsoft.Communication.CallEnded"
    assert event["data"] == {"ok": True}


async def test_subscription_validation_answers_without_invoking(host: DevHost, client: aiohttp.ClientSession) -> None:
    [event_id] = new_ids(1)
    body = [
        grid_event(
            event_id,
            eventType="Microsoft.EventGrid.SubscriptionValidationEvent",
            data={"validationCode": "512d38b6", "validationUrl": "https://example.invalid/validate"},
        )
    ]
    headers = {"aeg-event-type": "SubscriptionValidation"}
    async with client.post(webhook(host), json=body, headers=headers) as response:
        assert response.status == 200
        assert await response.json() == {"validationResponse": "512d38b6"}
    assert await recorded(host, client, {event_id}) == []


async def test_subscription_validation_cloud_event_with_json_text_data(
    host: DevHost, client: aiohttp.ClientSession
) -> None:
    body = {"specversion": "1.0", "id": "v", "source": "s", "type": "t", "data": json.dumps({"validationCode": "abc"})}
    headers = {"aeg-event-type": "SubscriptionValidation"}
    async with client.post(webhook(host), json=body, headers=headers) as response:
        assert await response.json() == {"validationResponse": "abc"}


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("eventgrid.azure.us", "eventgrid.azure.us"),
        ("eventgrid.azure.net", "eventgrid.azure.net"),
        (None, "eventgrid.azure.net"),
    ],
)
async def test_options_handshake(
    host: DevHost, client: aiohttp.ClientSession, origin: str | None, allowed: str
) -> None:
    headers = {"WebHook-Request-Origin": origin} if origin else {}
    async with client.options(webhook(host), headers=headers) as response:
        assert response.status == 200
        assert response.headers["WebHook-Allowed-Origin"] == allowed


async def test_unsubscribe_is_accepted(host: DevHost, client: aiohttp.ClientSession) -> None:
    async with client.post(webhook(host), json=[], headers={"aeg-event-type": "Unsubscribe"}) as response:
        assert response.status == 202


@pytest.mark.parametrize("event_type", [None, "Bogus"])
async def test_missing_or_unknown_event_type_header_is_400(
    host: DevHost, client: aiohttp.ClientSession, event_type: str | None
) -> None:
    [event_id] = new_ids(1)
    headers = {"aeg-event-type": event_type} if event_type else {}
    async with client.post(webhook(host), json=[grid_event(event_id)], headers=headers) as response:
        assert response.status == 400
        assert "aeg-event-type" in await response.text()
    assert await recorded(host, client, {event_id}) == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("functionName=nope", "No Event Grid trigger function named 'nope'"),
        ("functionName=hello", "No Event Grid trigger function named 'hello'"),
        ("", "The functionName query parameter is required"),
        ("functionName=", "The functionName query parameter is required"),
    ],
)
async def test_unknown_or_missing_function_name_is_404(
    host: DevHost, client: aiohttp.ClientSession, query: str, message: str
) -> None:
    url = f"{host.url}/runtime/webhooks/eventgrid?{query}"
    async with client.post(url, json=[grid_event("x")], headers=NOTIFICATION) as response:
        assert response.status == 404
        assert message in await response.text()


async def test_malformed_json_is_400(host: DevHost, client: aiohttp.ClientSession) -> None:
    async with client.post(webhook(host), data=b"[{not json", headers=NOTIFICATION) as response:
        assert response.status == 400
        assert "not valid JSON" in await response.text()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"eventType": None}, "Event 1 is missing eventType"),
        ({"id": None, "data": None}, "Event 1 is missing id, data"),
        ({"eventTime": "yesterday"}, "Event 1 has an invalid time"),
    ],
)
async def test_invalid_element_is_400_and_nothing_is_invoked(
    host: DevHost, client: aiohttp.ClientSession, bad: dict[str, None], message: str
) -> None:
    good_id, bad_id = new_ids(2)
    broken = {key: value for key, value in grid_event(bad_id, **bad).items() if value is not None}
    async with client.post(webhook(host), json=[grid_event(good_id), broken], headers=NOTIFICATION) as response:
        assert response.status == 400
        assert message in await response.text()
    assert await recorded(host, client, {good_id, bad_id}) == []


async def test_element_that_is_not_an_object_is_400(host: DevHost, client: aiohttp.ClientSession) -> None:
    async with client.post(webhook(host), json=["text"], headers=NOTIFICATION) as response:
        assert response.status == 400
        assert "Event 0 is a JSON str" in await response.text()


async def test_failing_invocation_gives_500_and_other_elements_still_run(
    host: DevHost, client: aiohttp.ClientSession
) -> None:
    first, failing, last = new_ids(3)
    body = [grid_event(first), grid_event(failing, data={"fail": True}), grid_event(last)]
    async with client.post(webhook(host), json=body, headers=NOTIFICATION) as response:
        assert response.status == 500
        text = await response.text()
        assert "Functions.on_event failed" in text and "ValueError" not in text and "asked to fail" not in text
    assert [event["id"] for event in await recorded(host, client, {first, failing, last})] == [first, last]
