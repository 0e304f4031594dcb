"""Outbound deliveries against a real local HTTP server: callbacks with JWTs, Event Grid headers, retries, filters."""

import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aiohttp
import jwt
import pytest
from aiohttp import web

from emulator.clock import Clock
from emulator.delivery import (
    CallbackSender,
    Delivery,
    EventGridPublisher,
    EventGridSubscription,
    parse_subscription,
)
from emulator.events import DEFAULT_TOPIC, callback_event, event_grid_event
from emulator.tokens import DEFAULT_ISSUER, TokenIssuer

AUDIENCE = "5d6a1f9e-0000-4000-8000-000000000001"
FAST = Clock(scale=0.0001)  # a 1 s backoff waits 0.1 ms


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: object


@dataclass
class Endpoint:
    """A local webhook whose answers are scripted per request (the last status repeats)."""

    base_url: str
    statuses: dict[str, list[int]] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    responder: Callable[[Hit], web.Response] | None = None

    def url(self, path: str = "/hook") -> str:
        return self.base_url + path

    def on(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    state = Endpoint(base_url="")

    async def handle(request: web.Request) -> web.Response:
        hit = Hit(request.path, dict(request.headers), json.loads(await request.read() or b"null"))
        state.hits.append(hit)
        if state.responder is not None:
            return state.responder(hit)
        script = state.statuses.get(request.path, [200])
        status = script.pop(0) if len(script) > 1 else script[0]
        return web.Response(status=status, text="scripted")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    state.base_url = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture(scope="module")
def tokens() -> TokenIssuer:
    return TokenIssuer(AUDIENCE)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def sample_callback() -> dict:
    return callback_event(
        "CallConnected",
        call_connection_id="c-1",
        server_call_id="s-1",
        correlation_id="k-1",
        api_version="2026-03-12",
    )


def sample_grid_event(event_type: str = "IncomingCall") -> dict:
    return event_grid_event(
        event_type, subject="/caller/a/recipient/b", data={"serverCallId": "s"}, topic=DEFAULT_TOPIC
    )


def bearer_claims(tokens: TokenIssuer, hit: Hit) -> dict:
    scheme, token = hit.headers["Authorization"].split()
    assert scheme == "Bearer"
    key = jwt.PyJWK(tokens.jwks()["keys"][0]).key
    return jwt.decode(token, key, algorithms=["RS256"], issuer=DEFAULT_ISSUER, audience=AUDIENCE)


async def test_callback_is_a_json_array_with_a_valid_bearer_token(
    endpoint: Endpoint, session: aiohttp.ClientSession, tokens: TokenIssuer
) -> None:
    seen: list[Delivery] = []
    sender = CallbackSender(session, tokens, on_delivery=seen.append, clock=FAST)
    event = sample_callback()
    delivery = await sender.send(endpoint.url(), [event])
    assert delivery == Delivery(endpoint.url(), [event], 200, None, 1, "callback")
    assert delivery.ok
    assert seen == [delivery]
    (hit,) = endpoint.hits
    assert hit.body == [event]
    assert hit.headers["Content-Type"] == "application/json"
    assert bearer_claims(tokens, hit)["aud"] == AUDIENCE


async def test_callback_retries_5xx_and_429_with_a_fresh_token_each_time(
    endpoint: Endpoint, session: aiohttp.ClientSession, tokens: TokenIssuer
) -> None:
    endpoint.statuses["/hook"] = [500, 429, 204]
    seen: list[Delivery] = []
    sender = CallbackSender(session, tokens, on_delivery=seen.append, clock=FAST, max_attempts=3)
    delivery = await sender.send(endpoint.url(), [sample_callback()])
    assert (delivery.status, delivery.error, delivery.attempts) == (204, None, 3)
    assert len(seen) == 1
    jtis = {bearer_claims(tokens, hit)["jti"] for hit in endpoint.hits}
    assert len(jtis) == 3


async def test_callback_gives_up_after_max_attempts(
    endpoint: Endpoint, session: aiohttp.ClientSession, tokens: TokenIssuer
) -> None:
    endpoint.statuses["/hook"] = [503]
    delivery = await CallbackSender(session, tokens, clock=FAST, max_attempts=3).send(endpoint.url(), [])
    assert (delivery.status, delivery.attempts) == (503, 3)
    assert delivery.error == "HTTP 503: scripted"
    assert not delivery.ok
    assert len(endpoint.hits) == 3


async def test_callback_4xx_is_final(endpoint: Endpoint, session: aiohttp.ClientSession, tokens: TokenIssuer) -> None:
    endpoint.statuses["/hook"] = [401, 200]
    delivery = await CallbackSender(session, tokens, clock=FAST).send(endpoint.url(), [sample_callback()])
    assert (delivery.status, delivery.attempts) == (401, 1)
    assert delivery.error is not None
    assert len(endpoint.hits) == 1


async def test_callback_to_unreachable_url_reports_instead_of_raising(
    session: aiohttp.ClientSession, tokens: TokenIssuer
) -> None:
    seen: list[Delivery] = []
    sender = CallbackSender(session, tokens, on_delivery=seen.append, clock=FAST, max_attempts=2)
    delivery = await sender.send(closed_port_url(), [sample_callback()])
    assert delivery.status is None
    assert delivery.error
    assert delivery.attempts == 2
    assert seen == [delivery]
    malformed = await sender.send("http://[not a url/hook", [])
    assert malformed.error and malformed.status is None


async def test_a_failing_observer_does_not_break_delivery(
    endpoint: Endpoint, session: aiohttp.ClientSession, tokens: TokenIssuer
) -> None:
    def broken(_: Delivery) -> None:
        raise RuntimeError("observer bug")

    delivery = await CallbackSender(session, tokens, on_delivery=broken, clock=FAST).send(endpoint.url(), [])
    assert delivery.ok


async def test_event_grid_notification_headers_and_body(endpoint: Endpoint, session: aiohttp.ClientSession) -> None:
    sub = EventGridSubscription(endpoint.url("/runtime/webhooks/eventgrid"), name="incoming")
    publisher = EventGridPublisher(session, FAST, [sub])
    event = sample_grid_event()
    (delivery,) = await publisher.publish(event)
    assert (delivery.kind, delivery.status, delivery.attempts, delivery.events) == ("eventgrid", 200, 1, [event])
    (hit,) = endpoint.hits
    assert hit.body == [event]
    assert hit.headers["aeg-event-type"] == "Notification"
    assert hit.headers["aeg-subscription-name"] == "incoming"
    assert hit.headers["aeg-delivery-count"] == "0"
    assert hit.headers["aeg-data-version"] == "1.0"
    assert hit.headers["aeg-metadata-version"] == "1"
    assert hit.headers["Content-Type"] == "application/json"


async def test_event_grid_retries_with_increasing_delivery_count(
    endpoint: Endpoint, session: aiohttp.ClientSession
) -> None:
    endpoint.statuses["/hook"] = [500, 404, 200]
    seen: list[Delivery] = []
    # 1000 s of emulated backoff runs in about 0.1 s of real time: the waits go through the scaled clock.
    publisher = EventGridPublisher(
        session, FAST, [EventGridSubscription(endpoint.url())], on_delivery=seen.append, first_backoff_seconds=500
    )
    (delivery,) = await publisher.publish(sample_grid_event())
    assert (delivery.status, delivery.error, delivery.attempts) == (200, None, 3)
    assert [h.headers["aeg-delivery-count"] for h in endpoint.hits] == ["0", "1", "2"]
    assert seen == [delivery]


async def test_event_grid_gives_up_after_max_attempts(endpoint: Endpoint, session: aiohttp.ClientSession) -> None:
    endpoint.statuses["/hook"] = [502]
    publisher = EventGridPublisher(session, FAST, [EventGridSubscription(endpoint.url())], max_attempts=4)
    (delivery,) = await publisher.publish(sample_grid_event())
    assert (delivery.status, delivery.attempts) == (502, 4)
    assert len(endpoint.hits) == 4


@pytest.mark.parametrize("status", [400, 413])
async def test_event_grid_does_not_retry_400_or_413(
    endpoint: Endpoint, session: aiohttp.ClientSession, status: int
) -> None:
    endpoint.statuses["/hook"] = [status, 200]
    publisher = EventGridPublisher(session, FAST, [EventGridSubscription(endpoint.url())])
    (delivery,) = await publisher.publish(sample_grid_event())
    assert (delivery.status, delivery.attempts) == (status, 1)
    assert len(endpoint.hits) == 1


async def test_event_grid_filters_by_event_type(endpoint: Endpoint, session: aiohttp.ClientSession) -> None:
    publisher = EventGridPublisher(
        session,
        FAST,
        [
            parse_subscription(f"IncomingCall={endpoint.url('/incoming')}"),
            parse_subscription(f"Microsoft.Communication.CallEnded,CallStarted={endpoint.url('/lifecycle')}"),
            parse_subscription(endpoint.url("/everything")),
        ],
    )
    await publisher.publish(sample_grid_event("IncomingCall"))
    await publisher.publish(sample_grid_event("CallStarted"))
    await publisher.publish(sample_grid_event("RecordingFileStatusUpdated"))
    types = {p: [h.body[0]["eventType"].rsplit(".", 1)[1] for h in endpoint.on(p)] for p in ("/incoming", "/lifecycle")}
    assert types == {"/incoming": ["IncomingCall"], "/lifecycle": ["CallStarted"]}
    assert len(endpoint.on("/everything")) == 3


async def test_event_grid_delivers_to_all_matches_and_reports_each(
    endpoint: Endpoint, session: aiohttp.ClientSession
) -> None:
    endpoint.statuses["/bad"] = [400]
    subs = [EventGridSubscription(endpoint.url("/good")), EventGridSubscription(endpoint.url("/bad"))]
    deliveries = await EventGridPublisher(session, FAST, subs).publish(sample_grid_event())
    assert sorted((d.url.rsplit("/", 1)[1], d.status) for d in deliveries) == [("bad", 400), ("good", 200)]


async def test_event_grid_unreachable_subscription_reports_error(session: aiohttp.ClientSession) -> None:
    publisher = EventGridPublisher(session, FAST, [EventGridSubscription(closed_port_url())], max_attempts=2)
    (delivery,) = await publisher.publish(sample_grid_event())
    assert delivery.status is None
    assert delivery.error
    assert delivery.attempts == 2


async def test_subscriptions_can_change_at_runtime(endpoint: Endpoint, session: aiohttp.ClientSession) -> None:
    publisher = EventGridPublisher(session, FAST)
    assert await publisher.publish(sample_grid_event()) == []
    sub = EventGridSubscription(endpoint.url("/a"))
    publisher.add(sub)
    publisher.add(EventGridSubscription(endpoint.url("/b")))
    assert len(await publisher.publish(sample_grid_event())) == 2
    assert publisher.remove(endpoint.url("/b"))
    assert not publisher.remove(endpoint.url("/b"))
    assert [d.url for d in await publisher.publish(sample_grid_event())] == [endpoint.url("/a")]
    assert publisher.remove(sub)
    publisher.add(sub)
    publisher.clear()
    assert publisher.subscriptions == []
    assert await publisher.publish(sample_grid_event()) == []


async def test_subscription_validation_handshake(endpoint: Endpoint, session: aiohttp.ClientSession) -> None:
    def echo(hit: Hit) -> web.Response:
        if hit.headers.get("aeg-event-type") != "SubscriptionValidation":
            return web.Response(status=400)
        return web.json_response({"validationResponse": hit.body[0]["data"]["validationCode"]})

    endpoint.responder = echo
    publisher = EventGridPublisher(session, FAST)
    assert await publisher.validate(EventGridSubscription(endpoint.url()))
    (hit,) = endpoint.hits
    assert hit.body[0]["eventType"] == "Microsoft.EventGrid.SubscriptionValidationEvent"
    assert hit.body[0]["topic"] == DEFAULT_TOPIC

    endpoint.responder = lambda hit: web.json_response({"validationResponse": "wrong"})
    assert not await publisher.validate(EventGridSubscription(endpoint.url()))
    endpoint.responder = lambda hit: web.Response(status=500)
    assert not await publisher.validate(EventGridSubscription(endpoint.url()))
    assert not await publisher.validate(EventGridSubscription(closed_port_url()))


def test_parse_subscription_forms() -> None:
    everything = parse_subscription("http://127.0.0.1:7071/runtime/webhooks/eventgrid?functionName=incoming_call")
    assert everything.event_types is None
    assert everything.name == "incoming_call"
    assert everything.matches("Microsoft.Communication.CallEnded")

    filtered = parse_subscription(
        " IncomingCall, Microsoft.Communication.RecordingFileStatusUpdated =https://localhost/x?a=b"
    )
    assert filtered.url == "https://localhost/x?a=b"
    assert filtered.event_types == frozenset(
        {"Microsoft.Communication.IncomingCall", "Microsoft.Communication.RecordingFileStatusUpdated"}
    )
    assert filtered.name == "emulator"
    assert filtered.matches("IncomingCall")
    assert filtered.matches("Microsoft.Communication.RecordingFileStatusUpdated")
    assert not filtered.matches("Microsoft.Communication.CallEnded")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("ftp://127.0.0.1/x", "http"),
        ("IncomingCall=ftp://127.0.0.1/x", "http"),
        ("IncomingCall", "expected URL"),
        ("=http://127.0.0.1/x", "no event types"),
        ("Incoming Call=http://127.0.0.1/x", "invalid event type"),
        ("http://", "http"),
    ],
)
def test_parse_subscription_rejects_bad_specs(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_subscription(spec)
