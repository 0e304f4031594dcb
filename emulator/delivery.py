"""Outbound HTTP from the emulator: signed callback POSTs to the app and Event Grid webhook deliveries."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

from emulator.clock import Clock
from emulator.events import DEFAULT_TOPIC, EVENT_PREFIX, event_grid_time
from emulator.tokens import TokenIssuer

log = logging.getLogger(__name__)

# Another URL for a delivery whose URL could not be reached (an app instance that is down).
Failover = Callable[[str], str]
# Event Grid waits 30 s for a webhook to answer before it counts the attempt as failed (delivery-and-retry docs).
DEFAULT_TIMEOUT_SECONDS = 30.0
SUBSCRIPTION_VALIDATION_EVENT = "Microsoft.EventGrid.SubscriptionValidationEvent"


@dataclass
class Delivery:
    """The final outcome of delivering one POST body (possibly after retries)."""

    url: str
    events: list[dict[str, Any]]
    status: int | None
    error: str | None
    attempts: int
    kind: str  # "callback" | "eventgrid"

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300


def _notify(on_delivery: Callable[[Delivery], None] | None, delivery: Delivery) -> None:
    if on_delivery is None:
        return
    try:
        on_delivery(delivery)
    except Exception:
        # An observer (timeline, UI) must never break event delivery to the app.
        log.exception("on_delivery observer failed")


async def _post(
    session: aiohttp.ClientSession, url: str, body: str, headers: dict[str, str], timeout_seconds: float
) -> tuple[int | None, str | None]:
    """One POST: (status, error); error is None only for 2xx."""
    try:
        async with session.post(
            url, data=body.encode("utf-8"), headers=headers, timeout=aiohttp.ClientTimeout(total=timeout_seconds)
        ) as response:
            text = await response.text(errors="replace")
            if 200 <= response.status < 300:
                return response.status, None
            detail = text.strip().replace("\n", " ")[:200]
            return response.status, f"HTTP {response.status}" + (f": {detail}" if detail else "")
    except TimeoutError:
        return None, f"timed out after {timeout_seconds:g} s"
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        # ValueError covers aiohttp's InvalidURL for malformed callback URIs given by the app.
        return None, f"{type(exc).__name__}: {exc}"


class CallbackSender:
    """POSTs callback events to the app as a JSON array with a fresh Bearer JWT, like ACS (contract §3.1, §5).

    ACS's callback retry policy is not documented (contract §8.2): we guess a few quick retries on 5xx, 429 and
    connection failures, and treat any other 4xx as final.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        tokens: TokenIssuer,
        on_delivery: Callable[[Delivery], None] | None = None,
        *,
        clock: Clock | None = None,
        max_attempts: int = 3,
        backoff_seconds: float = 0.5,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.session = session
        self.tokens = tokens
        self.on_delivery = on_delivery
        self.clock = clock or Clock()
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.timeout_seconds = timeout_seconds

    async def send(self, url: str, events: list[dict[str, Any]], *, failover: Failover | None = None) -> Delivery:
        """POST events to url, retried as described above; failover (the fault mode's app instances) gives another
        URL to retry on when url could not be reached at all."""
        body = json.dumps(events)
        status: int | None = None
        error: str | None = None
        attempts = 0
        for attempt in range(self.max_attempts):
            attempts = attempt + 1
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.tokens.mint()}"}
            status, error = await _post(self.session, url, body, headers, self.timeout_seconds)
            if error is None or not (status is None or status >= 500 or status == 429):
                break
            if status is None and failover is not None:
                url = failover(url)
            if attempts < self.max_attempts:
                await self.clock.sleep(self.backoff_seconds * 2**attempt)
        delivery = Delivery(url=url, events=events, status=status, error=error, attempts=attempts, kind="callback")
        _notify(self.on_delivery, delivery)
        return delivery


def _normalize_type(event_type: str) -> str:
    event_type = event_type.strip()
    if not event_type:
        raise ValueError("empty event type")
    if "." in event_type:
        return event_type
    if not event_type.isidentifier():
        raise ValueError(f"invalid event type {event_type!r}")
    return EVENT_PREFIX + event_type


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"Event Grid subscription endpoint must be an http(s) URL, got {url!r}")
    return url


@dataclass
class EventGridSubscription:
    """A webhook subscription; event_types None means every event type (full or short names accepted)."""

    url: str
    event_types: frozenset[str] | None = None
    name: str = "emulator"

    def __post_init__(self) -> None:
        _check_url(self.url)
        if self.event_types is not None:
            self.event_types = frozenset(_normalize_type(t) for t in self.event_types)

    def matches(self, event_type: str) -> bool:
        return self.event_types is None or _normalize_type(event_type) in self.event_types


def parse_subscription(spec: str) -> EventGridSubscription:
    """CLI form: "URL" (all event types) or "IncomingCall,Microsoft.Communication.CallEnded=URL"."""
    spec = spec.strip()
    if "://" in spec.partition("=")[0]:
        types_part, url = None, spec
    else:
        types_part, sep, url = spec.partition("=")
        if not sep:
            raise ValueError(f"bad Event Grid subscription {spec!r}: expected URL or Type1,Type2=URL")
    _check_url(url)
    event_types: frozenset[str] | None = None
    if types_part is not None:
        names = [t for t in (part.strip() for part in types_part.split(",")) if t]
        if not names:
            raise ValueError(f"bad Event Grid subscription {spec!r}: no event types before '='")
        event_types = frozenset(_normalize_type(t) for t in names)
    # The Functions Event Grid trigger URL names its function; that reads better in logs than a generic name.
    function_names = parse_qs(urlsplit(url).query).get("functionName")
    name = function_names[0] if function_names else "emulator"
    return EventGridSubscription(url=url, event_types=event_types, name=name)


class EventGridPublisher:
    """Delivers Event Grid schema events to webhook subscriptions with Event Grid's headers and retry behaviour."""

    # Event Grid dead-letters (or drops) at once on these webhook answers instead of retrying, because they signal a
    # configuration problem that retrying cannot fix (learn.microsoft.com/azure/event-grid/delivery-and-retry lists
    # 400 and 413, and for webhooks also 401 and 403).
    NO_RETRY_STATUSES = frozenset({400, 401, 403, 413})

    def __init__(
        self,
        session: aiohttp.ClientSession,
        clock: Clock,
        subscriptions: list[EventGridSubscription] | None = None,
        on_delivery: Callable[[Delivery], None] | None = None,
        max_attempts: int = 5,
        first_backoff_seconds: float = 1.0,
        *,
        topic: str = DEFAULT_TOPIC,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.session = session
        self.clock = clock
        self.subscriptions: list[EventGridSubscription] = subscriptions if subscriptions is not None else []
        self.on_delivery = on_delivery
        self.max_attempts = max_attempts
        self.first_backoff_seconds = first_backoff_seconds
        self.topic = topic
        self.timeout_seconds = timeout_seconds

    def add(self, subscription: EventGridSubscription) -> None:
        self.subscriptions.append(subscription)

    def remove(self, subscription: EventGridSubscription | str) -> bool:
        """Remove by object or URL; True if something was removed."""
        before = len(self.subscriptions)
        if isinstance(subscription, str):
            self.subscriptions[:] = [s for s in self.subscriptions if s.url != subscription]
        else:
            self.subscriptions[:] = [s for s in self.subscriptions if s != subscription]
        return len(self.subscriptions) != before

    def clear(self) -> None:
        self.subscriptions.clear()

    def matching(self, event_type: str) -> list[EventGridSubscription]:
        return [s for s in list(self.subscriptions) if s.matches(event_type)]

    async def publish(self, event: dict[str, Any]) -> list[Delivery]:
        targets = self.matching(event["eventType"])
        if not targets:
            return []
        return list(await asyncio.gather(*(self.deliver(s, event) for s in targets)))

    async def deliver(
        self, subscription: EventGridSubscription, event: dict[str, Any], *, failover: Failover | None = None
    ) -> Delivery:
        """One event to one subscription, retried as Event Grid does (the fault mode fans out through this); failover
        gives another URL to retry on when the subscription's could not be reached at all."""
        url = subscription.url
        # Event Grid sends one event per POST by default, still wrapped in an array.
        events = [event]
        body = json.dumps(events)
        status: int | None = None
        error: str | None = None
        attempts = 0
        for attempt in range(self.max_attempts):
            attempts = attempt + 1
            headers = {
                "Content-Type": "application/json",
                "aeg-event-type": "Notification",
                "aeg-subscription-name": subscription.name,
                "aeg-delivery-count": str(attempt),
                "aeg-data-version": str(event.get("dataVersion", "")),
                "aeg-metadata-version": str(event.get("metadataVersion", "1")),
            }
            status, error = await _post(self.session, url, body, headers, self.timeout_seconds)
            if error is None or status in self.NO_RETRY_STATUSES:
                break
            if status is None and failover is not None:
                url = failover(url)
            if attempts < self.max_attempts:
                await self.clock.sleep(self.first_backoff_seconds * 2**attempt)
        delivery = Delivery(url=url, events=events, status=status, error=error, attempts=attempts, kind="eventgrid")
        _notify(self.on_delivery, delivery)
        return delivery

    async def validate(self, subscription: EventGridSubscription) -> bool:
        """The Event Grid schema SubscriptionValidation handshake; True if the endpoint echoed the code back."""
        code = str(uuid.uuid4())
        # validationUrl is left out: the emulator has no endpoint for manual (GET) validation.
        event = {
            "id": str(uuid.uuid4()),
            "topic": self.topic,
            "subject": "",
            "data": {"validationCode": code},
            "eventType": SUBSCRIPTION_VALIDATION_EVENT,
            "eventTime": event_grid_time(),
            "metadataVersion": "1",
            "dataVersion": "1",
        }
        headers = {
            "Content-Type": "application/json",
            "aeg-event-type": "SubscriptionValidation",
            "aeg-subscription-name": subscription.name,
            "aeg-delivery-count": "0",
            "aeg-data-version": "1",
            "aeg-metadata-version": "1",
        }
        try:
            async with self.session.post(
                subscription.url,
                data=json.dumps([event]).encode("utf-8"),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout_seconds),
            ) as resp:
                if resp.status != 200:
                    return False
                answer = await resp.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError):
            return False
        return isinstance(answer, dict) and answer.get("validationResponse") == code
