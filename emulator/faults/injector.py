"""The fault mode at run time: decides per delivery and per REST request, sends the copies, holds, drops, counts."""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
import itertools
import logging
import random
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web

from ..clock import Clock
from ..errors import AcsError
from .plan import CALLBACK, DELIVERY_KINDS, EVENTGRID, REST_FAILURE_STATUSES, FaultPlan

if TYPE_CHECKING:
    from ..delivery import EventGridSubscription
    from ..models import Backend, CallConnection, ServerCall

logger = logging.getLogger(__name__)

REST = "rest"
KEYS = "keys"
LOG_LIMIT = 10_000  # injected faults kept for GET /emulator/faults/log; the oldest go first
DELIVERY_FAULTS = {
    CALLBACK: ("duplicated", "late", "reordered", "flushed", "dropped"),
    EVENTGRID: ("duplicated", "late", "dropped"),
}
# error.code of injected failures: ACS's codes for these are not documented (README, "Differences from ACS").
ERROR_CODES = {
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}
Post = Callable[[str], Awaitable[object]]


@dataclass(frozen=True)
class Decision:
    """What happens to one delivery. Every delivery draws the same eight numbers whatever the plan says, so turning
    one fault up or down never shifts the decisions of the others."""

    drop: bool
    duplicate: bool
    late: bool
    reorder: bool
    late_delay: float
    instance: str | None
    copy_instance: str | None
    late_instance: str | None


@dataclass
class Held:
    """A callback held back for reordering, waiting for the leg's next one."""

    url: str
    event: dict[str, Any]
    decision: Decision
    since: float


def route(url: str, instance: str | None) -> str:
    """`url` with its scheme, host and port replaced by the app instance's (path and query kept)."""
    if instance is None:
        return url
    target, base = urlsplit(url), urlsplit(instance)
    return urlunsplit((base.scheme, base.netloc, target.path, target.query, target.fragment))


def event_name(event: dict[str, Any]) -> str:
    return (event.get("type") or event["eventType"]).rsplit(".", 1)[-1]


class Faults:
    """The backend's fault injector: `deliver_leg` and `publish_event_grid` carry every callback and Event Grid
    delivery, `rest_failure`/`fail_request` answer REST requests, `apply` replaces the plan at run time.

    Each stream of traffic draws from its own generator seeded from the plan's seed: REST requests, Event Grid
    deliveries, and each call leg's callbacks (legs numbered in the order they first send). How streams interleave
    therefore never changes a decision; the same traffic in each stream gives the same faults.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.log: deque[dict[str, Any]] = deque(maxlen=LOG_LIMIT)
        self.counters = self._zero_counters()
        backend.tokens.on_rotate = self._key_rotated
        self.plan = self.apply(backend.config.faults)

    def apply(self, plan: FaultPlan) -> FaultPlan:
        """Make `plan` the plan from now on (a random seed is picked when it has none) and restart its generators."""
        if plan.seed is None:
            plan = dataclasses.replace(plan, seed=secrets.randbelow(2**31))
        self.plan = plan
        self._streams = {name: self._stream(name) for name in (EVENTGRID, REST)}
        self._leg_numbers = itertools.count(1)
        self.backend.tokens.schedule(plan.key_rotation_seconds, plan.key_overlap_seconds)
        return plan

    def reset(self) -> None:
        """Back to the plan the emulator was started with; counters and the log start again."""
        self.counters = self._zero_counters()
        self.log.clear()
        self.apply(self.backend.config.faults)

    def view(self) -> dict[str, Any]:
        tokens = self.backend.tokens
        return {
            "plan": self.plan.to_dict(),
            "counters": {channel: dict(counts) for channel, counts in self.counters.items()},
            "signingKeys": {"current": tokens.kid, "published": [key.kid for key in tokens.published()]},
        }

    # --- callbacks ------------------------------------------------------------------------------------------------

    async def deliver_leg(self, connection: CallConnection, outbox: asyncio.Queue) -> None:
        """A leg's callbacks, one POST (or set of copies) at a time in the order they happened, unless the plan
        reorders: then one is held back until the leg's next one is sent, or until nothing has followed within
        `reorder_flush_seconds`. CallDisconnected, the last, is never held."""
        stream = self._stream(f"{CALLBACK}:{next(self._leg_numbers)}")
        held: Held | None = None
        while True:
            if held is None:
                url, event = await outbox.get()
            else:
                try:
                    url, event = await asyncio.wait_for(outbox.get(), self.plan.reorder_flush_seconds)
                except TimeoutError:
                    await self._release(connection, held, after=None)
                    outbox.task_done()
                    held = None
                    continue
            decision = self._decide(stream, CALLBACK)
            last = event["type"].endswith("CallDisconnected")
            if decision.reorder and not decision.drop and held is None and not last:
                held = Held(url, event, decision, time.monotonic())
                continue
            await self._send_callback(connection, url, event, decision)
            outbox.task_done()
            if held is not None:
                await self._release(connection, held, after=event)
                outbox.task_done()
                held = None
            if last:
                return

    async def _send_callback(
        self, connection: CallConnection, url: str, event: dict[str, Any], decision: Decision
    ) -> None:
        callbacks = self.backend.callbacks
        await self._deliver(
            CALLBACK,
            connection.call,
            event,
            url,
            decision,
            lambda target: callbacks.send(target, [event], failover=self.failover),
        )

    async def _release(self, connection: CallConnection, held: Held, after: dict[str, Any] | None) -> None:
        name, call = event_name(held.event), connection.call
        if after is None:
            waited = time.monotonic() - held.since
            summary = f"{name} held back for reordering; nothing followed, sent {waited:.2f} s late"
            self._record(CALLBACK, "flushed", call, summary, held.event, heldSeconds=round(waited, 3))
        else:
            summary = f"{name} reordered: sent after {event_name(after)}"
            self._record(CALLBACK, "reordered", call, summary, held.event, after=event_name(after), afterId=after["id"])
        await self._send_callback(connection, held.url, held.event, held.decision)

    # --- Event Grid -----------------------------------------------------------------------------------------------

    async def publish_event_grid(self, event: dict[str, Any], call: ServerCall | None) -> None:
        """Deliver to every matching subscription, each delivery decided on its own."""
        targets = self.backend.eventgrid.matching(event["eventType"])
        await asyncio.gather(*(self._deliver_event_grid(target, event, call) for target in targets))

    async def _deliver_event_grid(
        self, subscription: EventGridSubscription, event: dict[str, Any], call: ServerCall | None
    ) -> None:
        decision = self._decide(self._streams[EVENTGRID], EVENTGRID)
        eventgrid = self.backend.eventgrid

        async def post(url: str) -> object:
            return await eventgrid.deliver(dataclasses.replace(subscription, url=url), event, failover=self.failover)

        await self._deliver(EVENTGRID, call, event, subscription.url, decision, post)

    # --- shared by both kinds -------------------------------------------------------------------------------------

    async def _deliver(
        self, kind: str, call: ServerCall | None, event: dict[str, Any], url: str, decision: Decision, post: Post
    ) -> None:
        name = event_name(event)
        first = route(url, decision.instance)
        if decision.drop:
            self._record(kind, "dropped", call, f"{name} dropped: never sent, no retry", event, url=first)
            return
        targets = [first]
        if decision.duplicate:
            targets.append(route(url, decision.copy_instance))
            summary = f"{name} duplicated: POSTed to {targets[0]} and {targets[1]} at once"
            self._record(kind, "duplicated", call, summary, event, url=targets[1])
        await asyncio.gather(*(post(target) for target in targets))
        if decision.late:
            later = route(url, decision.late_instance)
            self.backend.spawn(self._resend_late(kind, call, event, later, decision.late_delay, post))

    async def _resend_late(
        self, kind: str, call: ServerCall | None, event: dict[str, Any], url: str, delay: float, post: Post
    ) -> None:
        # Real seconds, not --time-scale: the fault plays the network, which the time scale does not speed up.
        await asyncio.sleep(delay)
        summary = f"{event_name(event)} re-sent late, {delay:.2f} s after its delivery, to {url}"
        self._record(kind, "late", call, summary, event, url=url, delaySeconds=round(delay, 3))
        await post(url)

    def _decide(self, stream: random.Random, kind: str) -> Decision:
        plan = self.plan
        drop, duplicate, late, reorder, delay, first, copy, later = (stream.random() for _ in range(8))
        faulty = kind in plan.scope
        low, high = plan.late_delay_seconds
        instance = self._instance(first)
        return Decision(
            drop=kind in plan.drop_scope and drop < plan.drop,
            duplicate=faulty and duplicate < plan.duplicate,
            late=faulty and late < plan.late,
            reorder=faulty and kind == CALLBACK and reorder < plan.reorder,
            late_delay=low + delay * (high - low),
            instance=instance,
            copy_instance=self._instance(copy, avoid=instance),
            late_instance=self._instance(later),
        )

    def failover(self, url: str) -> str:
        """Where a delivery that could not reach url's app instance is retried: the next instance, as Azure's front end
        routes around an instance that is down. Without instances, url itself."""
        instances = list(self.plan.app_instances)
        current = urlsplit(url)
        at = next(
            (index for index, instance in enumerate(instances) if urlsplit(instance).netloc == current.netloc), -1
        )
        return route(url, instances[(at + 1) % len(instances)]) if instances else url

    def _instance(self, draw: float, avoid: str | None = None) -> str | None:
        """An app instance, spread evenly like a load balancer would; a copy goes to another one when there is."""
        instances = self.plan.app_instances
        choices = [i for i in instances if i != avoid] or list(instances)
        return choices[int(draw * len(choices))] if choices else None

    # --- REST requests --------------------------------------------------------------------------------------------

    def rest_failure(self) -> int | None:
        """The status to fail this REST request with, or None; every request draws twice whatever the plan says."""
        stream = self._streams[REST]
        fail, pick = stream.random(), stream.random()
        if fail >= self.plan.rest_failure:
            return None
        statuses = list(self.plan.rest_statuses)
        bounds = list(itertools.accumulate(self.plan.rest_statuses.values()))
        return statuses[min(bisect.bisect(bounds, pick * bounds[-1]), len(statuses) - 1)]

    def fail_request(
        self, status: int, operation: str, request: web.Request, body: dict[str, Any], call: ServerCall | None
    ) -> web.Response:
        """The error ACS would send, answered before the request is processed, so it has had no effect."""
        message = (
            f"The service answered {status} to {operation}; injected by the emulator's fault mode before processing, "
            "so the request had no effect and may be retried."
        )
        response = AcsError(status, ERROR_CODES[status], message).to_response()
        if status == 429:
            response.headers["Retry-After"] = str(self.plan.retry_after_seconds)
        summary = f"{operation} answered {status} before processing (no effect)"
        self._record(
            REST, str(status), call, summary, operation=operation, method=request.method, path=request.path, body=body
        )
        return response

    # --- bookkeeping ----------------------------------------------------------------------------------------------

    def _key_rotated(self, old_kid: str, new_kid: str) -> None:
        self._record(KEYS, "rotated", None, f"signing key rotated: {new_kid} replaces {old_kid}", kid=new_kid)

    def _stream(self, name: str) -> random.Random:
        # Reproducible test faults, not security: a seeded generator is the point.
        return random.Random(f"{self.plan.seed}:{name}")  # noqa: S311

    @staticmethod
    def _zero_counters() -> dict[str, dict[str, int]]:
        counters = {kind: dict.fromkeys(DELIVERY_FAULTS[kind], 0) for kind in DELIVERY_KINDS}
        counters[REST] = dict.fromkeys(map(str, REST_FAILURE_STATUSES), 0)
        counters[KEYS] = {"rotated": 0}
        return counters

    def _record(
        self,
        channel: str,
        fault: str,
        call: ServerCall | None,
        summary: str,
        event: dict[str, Any] | None = None,
        **detail: Any,
    ) -> None:
        """Count the fault, put it on the call's timeline (kind "fault") and in the fault log."""
        self.counters[channel][fault] += 1
        entry: dict[str, Any] = {"fault": fault, "channel": channel}
        if event is not None:
            entry.update(eventType=event_name(event), eventId=event["id"])
            if "callConnectionId" in event.get("data", {}):
                entry["callConnectionId"] = event["data"]["callConnectionId"]
        entry.update(detail)
        if call is not None:
            entry["serverCallId"] = call.server_call_id
            call.timeline.add("fault", summary, **entry)
        self.log.append({"at": Clock.timestamp(), "summary": summary, **entry})
        logger.debug("fault injected: %s", summary)
