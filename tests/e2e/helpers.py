"""Waiting and reading helpers for the end-to-end scenarios: the emulator's view, its timeline, the app's stored state.

Everything waits on a condition with a deadline (never a fixed sleep): time is scaled, the machine may be busy.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import requests
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient

from devhost.stack import INCOMING_CALL_FUNCTION, LocalStack
from emulator.control_client import EmulatorControl
from shared.clients import load_settings
from shared.engine import split_context
from shared.routing_rules import RoutingRule
from shared.settings import Settings
from shared.state import INCOMING_ROW, STATE_ROW, incoming_partition, table_key

TIMEOUT = 15.0
T = TypeVar("T")

# --- waiting ------------------------------------------------------------------------------------------------------


def wait_until(probe: Callable[[], T], description: str, timeout: float = TIMEOUT, interval: float = 0.02) -> T:
    """Call `probe` until it returns something truthy, and return that; TimeoutError naming `description`."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no {description} within {timeout} s (last value: {value!r})")
        time.sleep(interval)


# --- the app's settings and tables ---------------------------------------------------------------------------------


def app_settings() -> Settings:
    """The settings the app in the dev host runs with (the stack put them in this process's environment)."""
    return load_settings()


def table(stack: LocalStack, name: str) -> TableClient:
    assert stack.azurite is not None
    return TableServiceClient.from_connection_string(stack.azurite.connection_string).get_table_client(name)


def state_table(stack: LocalStack) -> TableClient:
    return table(stack, app_settings().state_table_name)


def read_call_state(stack: LocalStack, call_connection_id: str) -> dict[str, Any] | None:
    """The call's state row as stored (data and outbox decoded, `etag` added), or None."""
    with state_table(stack) as client:
        try:
            entity = client.get_entity(table_key(call_connection_id), STATE_ROW)
        except ResourceNotFoundError:
            return None
    row = dict(entity)
    row["data"] = json.loads(row.get("data") or "{}")
    row["outbox"] = json.loads(row.get("outbox") or "null")
    row["etag"] = entity.metadata["etag"]
    return row


def wait_for_call_state(
    stack: LocalStack, call_connection_id: str, step: str, timeout: float = TIMEOUT
) -> dict[str, Any]:
    """Wait until the stored call reaches `step`."""

    def probe() -> dict[str, Any] | None:
        row = read_call_state(stack, call_connection_id)
        if row is None or row["step"] != step:
            return None
        return row

    try:
        return wait_until(probe, f"stored state at step {step!r}", timeout)
    except TimeoutError as error:
        raise TimeoutError(f"{error}; stored: {read_call_state(stack, call_connection_id)}") from None


def event_markers(stack: LocalStack, call_connection_id: str) -> list[str]:
    """The markers of the events that changed a call (shared.state.event_marker), as its state row keeps them."""
    state = read_call_state(stack, call_connection_id)
    return state["handled"].split() if state else []


def read_incoming_record(stack: LocalStack, server_call_id: str) -> dict[str, Any] | None:
    """What the app recorded about an IncomingCall (outcome answered/redirected/rejected), or None."""
    with state_table(stack) as client:
        try:
            entity = client.get_entity(incoming_partition(server_call_id), INCOMING_ROW)
        except ResourceNotFoundError:
            return None
    return {**entity, "data": json.loads(entity.get("data") or "{}"), "etag": entity.metadata["etag"]}


@contextmanager
def routing_rule(stack: LocalStack, rule: RoutingRule) -> Iterator[RoutingRule]:
    """Store a routing rule (as shared.seed.put_routing_rule does) for the duration of a test."""
    with table(stack, app_settings().routing_table_name) as client:
        client.upsert_entity({**rule.to_entity(), "PartitionKey": rule.number, "RowKey": "rule"})
        try:
            yield rule
        finally:
            client.delete_entity(rule.number, "rule")


# --- the emulator's view and timeline ------------------------------------------------------------------------------


def app_connection_id(view: dict[str, Any]) -> str:
    """The callConnectionId of the app's one leg of a call."""
    ids = view["callConnectionIds"]
    assert len(ids) == 1, f"expected one app leg, the call has {ids}"
    return ids[0]


def wait_for_app_connection(control: EmulatorControl, call_id: str, timeout: float = TIMEOUT) -> str:
    view = control.wait_for_call(call_id, lambda v: bool(v["callConnectionIds"]), timeout=timeout)
    return app_connection_id(view)


def participant(view: dict[str, Any], raw_id: str) -> dict[str, Any] | None:
    return next((p for p in view["participants"] if p["rawId"] == raw_id), None)


def participant_states(view: dict[str, Any]) -> dict[str, str]:
    """{rawId: state} of everyone, app legs included, the call has seen."""
    return {p["rawId"]: p["state"] for p in view["participants"]}


def callback_types(timeline: list[dict[str, Any]]) -> list[str]:
    """The callback events the emulator sent the app, in order (e.g. CallConnected, PlayStarted...)."""
    return [entry["summary"] for entry in timeline if entry["kind"] == "callback"]


def callbacks(timeline: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """(event type, operationContext as the flow declared it, without its claim tag) of every callback sent."""
    return [
        (e["summary"], split_context(e["detail"].get("operationContext"))[0])
        for e in timeline
        if e["kind"] == "callback"
    ]


def requests_made(timeline: list[dict[str, Any]]) -> list[str]:
    """The operations the app requested of ACS on this call, in order (AnswerCall, CallMedia_Play...)."""
    return [entry["summary"] for entry in timeline if entry["kind"] == "request"]


def request_bodies(timeline: list[dict[str, Any]], operation: str) -> list[dict[str, Any]]:
    return [e["detail"].get("body") or {} for e in timeline if e["kind"] == "request" and e["summary"] == operation]


def entries_after(timeline: list[dict[str, Any]], kind: str, summary: str) -> list[dict[str, Any]]:
    """The timeline entries after the first one of `kind` with `summary`."""
    index = next(i for i, e in enumerate(timeline) if e["kind"] == kind and e["summary"] == summary)
    return timeline[index + 1 :]


def summaries(timeline: list[dict[str, Any]]) -> list[str]:
    """'kind:summary' of every entry, for assertion messages."""
    return [f"{e['kind']}:{e['summary']}" for e in timeline]


def wait_for_timeline(
    control: EmulatorControl,
    call_id: str,
    predicate: Callable[[list[dict[str, Any]]], bool],
    description: str,
    timeout: float = TIMEOUT,
) -> list[dict[str, Any]]:
    def probe() -> list[dict[str, Any]] | None:
        timeline = control.timeline(call_id)
        return timeline if predicate(timeline) else None

    try:
        return wait_until(probe, description, timeout)
    except TimeoutError as error:
        raise TimeoutError(f"{error}; timeline: {summaries(control.timeline(call_id))}") from None


def delivered_callbacks(control: EmulatorControl, call_connection_id: str) -> list[dict[str, Any]]:
    """Every callback delivery (one POST each, with its outcome) the emulator made for one app leg."""
    return [
        delivery
        for delivery in control.deliveries("callback")
        if any(event["data"].get("callConnectionId") == call_connection_id for event in delivery["events"])
    ]


def wait_until_delivered(
    control: EmulatorControl, call_id: str, call_connection_id: str, timeout: float = TIMEOUT
) -> list[dict[str, Any]]:
    """Wait until every callback the timeline shows for the leg has been delivered (the app has answered each);
    return the deliveries."""

    def probe() -> list[dict[str, Any]] | None:
        sent = [
            e
            for e in control.timeline(call_id)
            if e["kind"] == "callback" and e["detail"].get("callConnectionId") == call_connection_id
        ]
        done = delivered_callbacks(control, call_connection_id)
        return done if sum(len(d["events"]) for d in done) == len(sent) else None

    return wait_until(probe, "delivery of every callback", timeout)


def delivered_event(
    control: EmulatorControl, call_connection_id: str, event_type: str, operation_context: str | None = None
) -> dict[str, Any]:
    """The first callback event of a type (and operation context) delivered for a leg, as it was sent."""
    for delivery in delivered_callbacks(control, call_connection_id):
        for event in delivery["events"]:
            if event["type"].endswith("." + event_type) and (
                operation_context is None or event["data"].get("operationContext") == operation_context
            ):
                return event
    raise AssertionError(f"no {event_type} ({operation_context}) was delivered for {call_connection_id}")


def incoming_call_event(control: EmulatorControl, server_call_id: str) -> dict[str, Any]:
    """The IncomingCall Event Grid event the emulator delivered for a call.

    A delivery is logged once the webhook has answered, which can be after the app already acted on it: wait.
    """

    def delivered() -> dict[str, Any] | None:
        for delivery in control.deliveries("eventgrid"):
            for event in delivery["events"]:
                if event["eventType"].endswith("IncomingCall") and event["data"]["serverCallId"] == server_call_id:
                    return event
        return None

    return wait_until(delivered, f"IncomingCall delivery for {server_call_id}")


# --- talking to the dev host directly ------------------------------------------------------------------------------


def post_callbacks(stack: LocalStack, events: list[dict[str, Any]], token: str | None) -> requests.Response:
    """POST a CloudEvent array to the app's callback endpoint, as ACS does (Bearer token unless None)."""
    assert stack.devhost is not None
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(f"{stack.devhost.url}/api/callbacks", data=json.dumps(events), headers=headers, timeout=30)


def post_event_grid(
    stack: LocalStack, events: list[dict[str, Any]], function_name: str = INCOMING_CALL_FUNCTION
) -> requests.Response:
    """POST Event Grid events to the app's Event Grid webhook, as Event Grid does."""
    assert stack.devhost is not None
    url = f"{stack.devhost.url}/runtime/webhooks/eventgrid?functionName={function_name}"
    headers = {"Content-Type": "application/json", "aeg-event-type": "Notification"}
    return requests.post(url, data=json.dumps(events), headers=headers, timeout=30)


def mint_token(stack: LocalStack, **kwargs: Any) -> str:
    """A callback JWT signed by the emulator's key, as ACS would put on a callback."""
    assert stack.emulator is not None
    return stack.emulator.backend.tokens.mint(**kwargs)
