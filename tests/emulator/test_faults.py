"""The fault mode, driven by the real SDK: duplicates, late copies, reordering, drops, REST failures, key rotation,
and app instances, each seen by small aiohttp apps on 127.0.0.1 standing in for the app's instances."""

import asyncio
import contextlib
import functools
import json
import socket
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import jwt
import pytest
import requests
from aiohttp import web
from azure.communication.callautomation import CallAutomationClient, PhoneNumberIdentifier
from azure.communication.callautomation.aio import CallAutomationClient as AsyncCallAutomationClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError

from emulator.config import EmulatorConfig
from emulator.control_client import EmulatorControl
from emulator.faults import FaultPlan
from emulator.server import EmulatorServer
from emulator.testing import CallbackRecorder

CUSTOMER = PhoneNumberIdentifier("+15551230000")
CALLER_ID = PhoneNumberIdentifier("+15550009999")
APP_NUMBER = "+18005550100"
TWIN_WAIT_SECONDS = 5.0
WAIT_SECONDS = 10.0
FAST_RETRIES = {"retry_backoff_factor": 0.01}  # the SDK's own policy, minus its 1.6 s and 3.2 s waits


@dataclass
class Arrival:
    instance: str
    path_qs: str
    events: list[dict]
    at: float


class AppInstances:
    """Stand-ins for the app's instances in the test's event loop: each records every POST it gets.

    With `await_twins`, a POST is answered only once a second copy of its event has arrived too (or after a
    deadline), and `peak` keeps how many copies of each event were in flight at once.
    """

    def __init__(self) -> None:
        self.arrivals: list[Arrival] = []
        self.await_twins = False
        self.peak: Counter[str] = Counter()
        self._in_flight: Counter[str] = Counter()
        self._changed = asyncio.Condition()
        self._runners: list[web.AppRunner] = []
        self.urls: list[str] = []

    async def start(self, count: int) -> None:
        for number in range(count):
            app = web.Application()
            app.router.add_post("/{tail:.*}", functools.partial(self._receive, instance=f"instance-{number}"))
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self._runners.append(runner)
            self.urls.append(f"http://127.0.0.1:{runner.addresses[0][1]}")

    async def stop(self) -> None:
        for runner in self._runners:
            await runner.cleanup()

    async def _receive(self, request: web.Request, instance: str) -> web.Response:
        body = await request.json()
        if request.headers.get("aeg-event-type") == "SubscriptionValidation":
            return web.json_response({"validationResponse": body[0]["data"]["validationCode"]})
        arrival = Arrival(instance, request.path_qs, body, time.monotonic())
        key = body[0]["id"]
        async with self._changed:
            self.arrivals.append(arrival)
            self._in_flight[key] += 1
            self.peak[key] = max(self.peak[key], self._in_flight[key])
            self._changed.notify_all()
            if self.await_twins:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait_for(lambda: self.peak[key] >= 2), TWIN_WAIT_SECONDS)
            self._in_flight[key] -= 1
        return web.Response()

    def events(self, call_connection_id: str | None = None) -> list[dict]:
        """Every event received, in arrival order, each with the instance and path it came in on."""
        return [
            {**event, "_instance": arrival.instance, "_path": arrival.path_qs, "_at": arrival.at}
            for arrival in self.arrivals
            for event in arrival.events
            if call_connection_id is None or event["data"].get("callConnectionId") == call_connection_id
        ]

    def types(self, call_connection_id: str) -> list[str]:
        return [short(event) for event in self.events(call_connection_id)]

    async def wait(self, predicate: Callable[[], bool], what: str) -> None:
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(predicate), WAIT_SECONDS)
            except TimeoutError:
                seen = [(a.instance, [short(e) for e in a.events]) for a in self.arrivals]
                raise TimeoutError(f"no {what} within {WAIT_SECONDS} s; received {seen}") from None

    async def wait_for_count(self, call_connection_id: str, event_type: str, count: int) -> None:
        await self.wait(lambda: self.types(call_connection_id).count(event_type) >= count, f"{count} x {event_type}")


def short(event: dict) -> str:
    return (event.get("type") or event["eventType"]).rsplit(".", 1)[-1]


def unused_url(path: str) -> str:
    """A URL nobody listens on: deliveries only arrive if the emulator rewrites it to an app instance."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def wait_until(probe: Callable[[], object], what: str) -> object:
    deadline = time.monotonic() + WAIT_SECONDS
    while not (value := probe()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {WAIT_SECONDS} s")
        time.sleep(0.01)
    return value


def faults_of(control: EmulatorControl, call_id: str) -> list[dict]:
    return [entry for entry in control.timeline(call_id) if entry["kind"] == "fault"]


@pytest.fixture
async def instances() -> AsyncIterator[AppInstances]:
    running = AppInstances()
    await running.start(2)
    yield running
    await running.stop()


async def call_customer(client: AsyncCallAutomationClient, callback_url: str) -> str:
    """An outbound call the customer answers at once; returns its callConnectionId."""
    created = await client.create_call(CUSTOMER, callback_url, source_caller_id_number=CALLER_ID)
    return created.call_connection_id


# --- duplicate -------------------------------------------------------------------------------------------------------


async def test_duplicate_posts_every_callback_twice_with_both_copies_in_flight_at_once(
    aio_client: AsyncCallAutomationClient, control: EmulatorControl, instances: AppInstances
) -> None:
    control.set_faults(FaultPlan(seed=1, duplicate=1.0))
    instances.await_twins = True
    call_id = await call_customer(aio_client, instances.urls[0] + "/api/callbacks")
    await instances.wait_for_count(call_id, "ParticipantsUpdated", 2)
    await aio_client.get_call_connection(call_id).hang_up(is_for_everyone=True)
    await instances.wait_for_count(call_id, "CallDisconnected", 2)

    received = instances.events(call_id)
    ids = Counter(event["id"] for event in received)
    assert sorted(Counter(instances.types(call_id)).items()) == [
        ("CallConnected", 2),
        ("CallDisconnected", 2),
        ("ParticipantsUpdated", 2),
    ]
    assert set(ids.values()) == {2}
    assert {event_id: instances.peak[event_id] for event_id in ids} == dict.fromkeys(ids, 2)
    assert {event["_path"] for event in received} == {"/api/callbacks"}
    duplicated = [entry for entry in faults_of(control, call_id) if entry["detail"]["fault"] == "duplicated"]
    assert sorted(entry["detail"]["eventId"] for entry in duplicated) == sorted(ids)
    assert control.faults()["counters"]["callback"]["duplicated"] == 3


async def test_with_two_instances_the_copy_goes_to_the_other_one_path_and_query_kept(
    aio_client: AsyncCallAutomationClient, control: EmulatorControl, instances: AppInstances
) -> None:
    control.set_faults({"seed": 2, "duplicate": 1.0, "appInstances": instances.urls})
    webhook = instances.urls[0] + "/runtime/webhooks/eventgrid?functionName=incoming_call"
    control.add_subscription(webhook, event_types=["IncomingCall"])
    try:
        placed = control.place_call(CUSTOMER.raw_id, APP_NUMBER)
        await instances.wait(lambda: len(instances.events()) >= 2, "two IncomingCall copies")
        answered = await aio_client.answer_call(placed.incoming_call_context, unused_url("/api/callbacks?code=k"))
        call_id = answered.call_connection_id
        await instances.wait_for_count(call_id, "ParticipantsUpdated", 2)
    finally:
        control.remove_subscription(webhook)

    incoming = [event for event in instances.events() if short(event) == "IncomingCall"]
    assert sorted(event["_instance"] for event in incoming) == ["instance-0", "instance-1"]
    assert {event["_path"] for event in incoming} == {"/runtime/webhooks/eventgrid?functionName=incoming_call"}
    callbacks = instances.events(call_id)
    for event_type in ("CallConnected", "ParticipantsUpdated"):
        copies = [event for event in callbacks if short(event) == event_type]
        assert sorted(event["_instance"] for event in copies) == ["instance-0", "instance-1"], event_type
    assert {event["_path"] for event in callbacks} == {"/api/callbacks?code=k"}
    assert control.faults()["counters"]["eventgrid"]["duplicated"] == 1


async def test_a_delivery_whose_instance_is_down_is_retried_on_another(
    aio_client: AsyncCallAutomationClient, control: EmulatorControl, instances: AppInstances
) -> None:
    down = unused_url("")  # an instance that refuses connections, listed first so deliveries start there
    control.set_faults({"seed": 4, "appInstances": [down, instances.urls[0]]})

    call_id = await call_customer(aio_client, unused_url("/api/callbacks"))
    await instances.wait_for_count(call_id, "ParticipantsUpdated", 1)

    assert {"CallConnected", "ParticipantsUpdated"} <= set(instances.types(call_id))
    deliveries = control.deliveries("callback")
    assert all(delivery["ok"] for delivery in deliveries)
    assert any(delivery["attempts"] > 1 for delivery in deliveries)  # some went to the instance that is down first


def test_app_instances_from_python_config_spread_deliveries_and_reset_restores_that_plan() -> None:
    """EmulatorConfig(faults=FaultPlan(app_instances=...)) routes every callback to one instance, no copies."""
    with CallbackRecorder() as first, CallbackRecorder() as second:
        bases = [f"http://127.0.0.1:{recorder.port}" for recorder in (first, second)]
        plan = FaultPlan(seed=3, app_instances=bases)
        with EmulatorServer(EmulatorConfig(port=0, time_scale=0.02, faults=plan)) as server:
            client = CallAutomationClient(server.url, AzureKeyCredential(server.config.access_key))
            calls = [
                client.create_call(CUSTOMER, unused_url("/callbacks"), source_caller_id_number=CALLER_ID)
                for _ in range(4)
            ]
            for call in calls:
                wait_until(
                    lambda call=call: any(
                        recorder.matching("ParticipantsUpdated", call_connection_id=call.call_connection_id)
                        for recorder in (first, second)
                    ),
                    "ParticipantsUpdated on either instance",
                )
            server.control.set_faults({"duplicate": 1.0})
            server.run(server.backend.reset())
            restored = server.control.faults()["plan"]
    ids = [event["id"] for event in first.events + second.events]
    assert len(ids) == len(set(ids)) == 8  # CallConnected and ParticipantsUpdated of four calls, each once
    assert first.events and second.events
    assert restored["appInstances"] == bases
    assert (restored["duplicate"], restored["seed"]) == (0.0, 3)


# --- drop ------------------------------------------------------------------------------------------------------------


async def test_drop_never_sends_a_callback_and_never_retries_it(
    aio_client: AsyncCallAutomationClient, control: EmulatorControl, instances: AppInstances
) -> None:
    control.set_faults({"seed": 4, "drop": 1.0})
    call_id = await call_customer(aio_client, instances.urls[0] + "/api/callbacks")
    wait_until(lambda: len(control.fault_log("callback")) == 2, "CallConnected and ParticipantsUpdated dropped")
    control.set_faults({"seed": 4})
    await aio_client.get_call_connection(call_id).hang_up(is_for_everyone=True)
    # CallDisconnected came after the dropped two on the same in-order leg: they were never sent, not just late.
    await instances.wait_for_count(call_id, "CallDisconnected", 1)

    assert instances.types(call_id) == ["CallDisconnected"]
    delivered = [d for d in control.deliveries("callback") if d["events"][0]["data"]["callConnectionId"] == call_id]
    assert [(short(d["events"][0]), d["attempts"]) for d in delivered] == [("CallDisconnected", 1)]
    dropped = [entry["detail"] for entry in faults_of(control, call_id)]
    assert [(d["fault"], d["eventType"]) for d in dropped] == [
        ("dropped", "CallConnected"),
        ("dropped", "ParticipantsUpdated"),
    ]


async def test_drop_spares_event_grid_unless_its_scope_says_so(
    control: EmulatorControl, instances: AppInstances
) -> None:
    webhook = instances.urls[0] + "/runtime/webhooks/eventgrid?functionName=incoming_call"
    control.add_subscription(webhook, event_types=["IncomingCall"])
    try:
        control.set_faults({"seed": 5, "drop": 1.0})
        kept = control.place_call(CUSTOMER.raw_id, APP_NUMBER)
        await instances.wait(lambda: len(instances.events()) == 1, "IncomingCall despite drop 1.0")
        control.set_faults({"seed": 5, "drop": 1.0, "dropScope": ["eventgrid"]})
        lost = control.place_call(CUSTOMER.raw_id, APP_NUMBER)
        # The drop is logged where it is decided, after which nothing is sent: the log is the signal.
        wait_until(lambda: control.fault_log("eventgrid"), "the IncomingCall drop")
    finally:
        control.remove_subscription(webhook)
    (entry,) = control.fault_log("eventgrid")
    assert (entry["fault"], entry["serverCallId"]) == ("dropped", lost.server_call_id)
    assert [event["data"]["serverCallId"] for event in instances.events()] == [kept.server_call_id]


# --- late and reorder ------------------------------------------------------------------------------------------------


async def test_late_sends_the_same_body_again_after_the_delay(
    aio_client: AsyncCallAutomationClient, control: EmulatorControl, instances: AppInstances
) -> None:
    control.set_faults({"seed": 6, "late": 1.0, "lateDelaySeconds": [0.05, 0.1]})
    call_id = await call_customer(aio_client, instances.urls[0] + "/api/callbacks")
    await instances.wait_for_count(call_id, "ParticipantsUpdated", 2)
    await instances.wait_for_count(call_id, "CallConnected", 2)

    for event_type in ("CallConnected", "ParticipantsUpdated"):
        first, again = [event for event in instances.events(call_id) if short(event) == event_type]
        strip = {"_at", "_instance", "_path"}
        assert {k: v for k, v in first.items() if k not in strip} == {k: v for k, v in again.items() if k not in strip}
        assert again["_at"] - first["_at"] >= 0.05
    late = [entry["detail"] for entry in faults_of(control, call_id)]
    assert sorted(d["eventType"] for d in late) == ["CallConnected", "ParticipantsUpdated"]
    assert all(d["fault"] == "late" and 0.05 <= d["delaySeconds"] <= 0.1 for d in late)


async def test_reorder_sends_a_held_callback_after_the_next_and_flushes_one_nothing_follows(
    aio_client: AsyncCallAutomationClient, control: EmulatorControl, instances: AppInstances
) -> None:
    control.set_faults({"seed": 7, "reorder": 1.0, "reorderFlushSeconds": 0.1})
    call_id = await call_customer(aio_client, instances.urls[0] + "/api/callbacks")
    await instances.wait_for_count(call_id, "CallConnected", 1)
    assert instances.types(call_id) == ["ParticipantsUpdated", "CallConnected"]

    # Hold makes one ParticipantsUpdated and nothing after it: it is held, then sent when nothing follows.
    connection = aio_client.get_call_connection(call_id)
    await connection.hold(CUSTOMER)
    await instances.wait_for_count(call_id, "ParticipantsUpdated", 2)
    await connection.hang_up(is_for_everyone=True)
    await instances.wait_for_count(call_id, "CallDisconnected", 1)

    assert instances.types(call_id) == [
        "ParticipantsUpdated",
        "CallConnected",
        "ParticipantsUpdated",
        "CallDisconnected",
    ]
    reordered, flushed = (entry["detail"] for entry in faults_of(control, call_id))
    assert (reordered["fault"], reordered["eventType"], reordered["after"]) == (
        "reordered",
        "CallConnected",
        "ParticipantsUpdated",
    )
    assert (flushed["fault"], flushed["eventType"]) == ("flushed", "ParticipantsUpdated")
    assert flushed["heldSeconds"] >= 0.1


# --- REST failures ---------------------------------------------------------------------------------------------------


def sdk_client(emulator: EmulatorServer, **policy: float) -> CallAutomationClient:
    return CallAutomationClient(emulator.url, AzureKeyCredential(emulator.config.access_key), **policy)


def test_rest_failures_are_retried_by_the_sdk_then_raised_and_create_nothing(
    emulator: EmulatorServer, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    control.set_faults({"seed": 8, "restFailure": 1.0, "restStatuses": [503]})
    client = sdk_client(emulator, **FAST_RETRIES)
    with pytest.raises(HttpResponseError) as raised:
        client.create_call(CUSTOMER, recorder.url, source_caller_id_number=CALLER_ID)

    assert raised.value.status_code == 503
    assert raised.value.error.code == "ServiceUnavailable"
    assert "no effect" in raised.value.error.message
    # azure-core's RetryPolicy: retry_status=3, so one attempt and three retries, all answered 503.
    assert control.faults()["counters"]["rest"]["503"] == 4
    assert [entry["operation"] for entry in control.fault_log("rest")] == ["CreateCall"] * 4
    assert control.calls() == []


def test_a_failed_request_had_no_effect_and_shows_on_the_timeline(
    emulator: EmulatorServer, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    client = sdk_client(emulator, **FAST_RETRIES)
    call_id = client.create_call(CUSTOMER, recorder.url, source_caller_id_number=CALLER_ID).call_connection_id
    recorder.wait_for("ParticipantsUpdated", call_connection_id=call_id)
    connection = client.get_call_connection(call_id)
    control.set_faults({"seed": 9, "restFailure": 1.0, "restStatuses": {"500": 1}})
    with pytest.raises(HttpResponseError) as raised:
        connection.hang_up(is_for_everyone=True)
    assert raised.value.status_code == 500
    assert control.call(call_id)["state"] == "connected"

    control.set_faults({"seed": 9, "restFailure": 0.0, "restStatuses": [503]})
    connection.hang_up(is_for_everyone=True)
    recorder.wait_for("CallDisconnected", call_connection_id=call_id)
    timeline = control.timeline(call_id)
    failed = [e for e in timeline if e["kind"] == "fault"]
    assert [e["summary"] for e in failed] == [
        "CallConnection_TerminateCall answered 500 before processing (no effect)"
    ] * 4
    terminated = [e for e in timeline if e["kind"] == "request" and e["summary"] == "CallConnection_TerminateCall"]
    assert [e["detail"]["status"] for e in terminated] == [204]
    assert control.faults()["counters"]["rest"] == {"429": 0, "500": 4, "502": 0, "503": 0, "504": 0}


def test_an_injected_429_carries_retry_after_which_the_sdk_waits_for_even_on_a_post(
    emulator: EmulatorServer, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    control.set_faults({"seed": 10, "restFailure": 1.0, "restStatuses": [429], "retryAfterSeconds": 1})
    with pytest.raises(HttpResponseError) as raised:
        sdk_client(emulator, retry_total=0).create_call(CUSTOMER, recorder.url, source_caller_id_number=CALLER_ID)
    response = raised.value.response
    assert (response.status_code, response.headers["Retry-After"]) == (429, "1")
    assert json.loads(response.text())["error"]["code"] == "TooManyRequests"

    started = time.monotonic()
    with pytest.raises(HttpResponseError):
        sdk_client(emulator, retry_status=1).create_call(CUSTOMER, recorder.url, source_caller_id_number=CALLER_ID)
    # A POST answered 429 is retried only because of Retry-After, and after waiting what it says.
    assert time.monotonic() - started >= 1.0
    assert control.faults()["counters"]["rest"]["429"] == 3


def test_a_replayed_request_is_on_the_timeline_marked_as_a_replay(
    emulator: EmulatorServer, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    client = sdk_client(emulator)
    repeat = {"Repeatability-Request-ID": str(uuid.uuid4())}
    first = client.create_call(CUSTOMER, recorder.url, source_caller_id_number=CALLER_ID, headers=dict(repeat))
    again = client.create_call(CUSTOMER, recorder.url, source_caller_id_number=CALLER_ID, headers=dict(repeat))
    assert again.call_connection_id == first.call_connection_id

    created = [e for e in control.timeline(first.call_connection_id) if e["summary"] == "CreateCall"]
    assert [(e["kind"], e["detail"].get("replayed", False)) for e in created] == [("request", False), ("request", True)]
    assert created[0]["detail"]["body"] == created[1]["detail"]["body"]
    assert created[1]["detail"]["body"]["callbackUri"] == recorder.url
    assert len(control.calls()) == 1


# --- reproducibility -------------------------------------------------------------------------------------------------


def test_the_same_seed_and_traffic_give_the_same_faults(
    emulator: EmulatorServer, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    def run(seed: int) -> tuple[list[tuple[str, str]], list[bool]]:
        control.set_faults({"seed": seed, "duplicate": 0.5, "reorder": 0.5, "drop": 0.3, "restFailure": 0.5})
        client = sdk_client(emulator, retry_total=0)
        outcomes = []
        for _ in range(8):
            try:
                created = client.create_call(CUSTOMER, recorder.url, source_caller_id_number=CALLER_ID)
            except HttpResponseError:
                outcomes.append(False)
                continue
            outcomes.append(True)
            control.wait_for_call(created.call_connection_id, "connected")
            control.hang_up(created.call_connection_id, CUSTOMER.raw_id)
            wait_until(lambda call=created: leg_finished(control, call.call_connection_id), "the leg's last event")
        decisions = [(e["fault"], e["eventType"]) for e in control.fault_log("callback")]
        emulator.run(emulator.backend.reset())
        return decisions, outcomes

    first, again, other = run(21), run(21), run(22)
    assert first == again
    assert first != other
    decisions, outcomes = first
    assert {fault for fault, _ in decisions} >= {"duplicated", "dropped"}
    assert True in outcomes and False in outcomes


def leg_finished(control: EmulatorControl, call_connection_id: str) -> bool:
    """CallDisconnected of the leg has been delivered or dropped: nothing more is decided for it."""
    delivered = any(
        short(d["events"][0]) == "CallDisconnected" and d["events"][0]["data"]["callConnectionId"] == call_connection_id
        for d in control.deliveries("callback")
    )
    dropped = any(
        e["eventType"] == "CallDisconnected"
        and e.get("callConnectionId") == call_connection_id
        and e["fault"] == "dropped"
        for e in control.fault_log("callback")
    )
    return delivered or dropped


# --- signing keys ----------------------------------------------------------------------------------------------------


def jwks(emulator: EmulatorServer) -> list[str]:
    return [key["kid"] for key in requests.get(emulator.url + "/calling/keys", timeout=10).json()["keys"]]


def test_key_rotation_changes_the_kid_and_the_jwks(
    emulator: EmulatorServer, control: EmulatorControl, recorder: CallbackRecorder
) -> None:
    before = control.faults()["signingKeys"]["current"]
    rotated = control.rotate_key()
    assert rotated["current"] != before
    assert rotated["published"] == jwks(emulator) == [rotated["current"], before]  # the old key is kept by default

    client = sdk_client(emulator)
    call = client.create_call(CUSTOMER, recorder.url, source_caller_id_number=CALLER_ID)
    recorder.wait_for("CallConnected", call_connection_id=call.call_connection_id)
    assert {jwt.get_unverified_header(token)["kid"] for token in recorder.tokens} == {rotated["current"]}
    config = emulator.config
    recorder.verify_tokens(
        requests.get(emulator.url + "/calling/keys", timeout=10).json(), config.jwt_audience, config.jwt_issuer
    )

    control.set_faults({"keyOverlapSeconds": 0})
    newest = control.rotate_key()["current"]
    assert jwks(emulator) == [newest]

    control.set_faults({"keyRotationSeconds": 0.05, "keyOverlapSeconds": 0})
    wait_until(lambda: jwks(emulator) != [newest], "a scheduled rotation")
    log = control.fault_log("keys")
    assert [entry["fault"] for entry in log] == ["rotated"] * len(log) and len(log) >= 3
    assert control.faults()["counters"]["keys"]["rotated"] == len(log)


# --- the plan through the control API --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"duplicate": 2}, "duplicate must be a fraction from 0 to 1"),
        ({"lateDelaySeconds": [2, 1]}, "lateDelaySeconds must not have MIN above MAX"),
        ({"restStatuses": [404]}, "restStatuses must list statuses among 429, 500, 502, 503, 504"),
        ({"scope": ["sms"]}, "scope must name only callback, eventgrid"),
        ({"appInstances": ["http://127.0.0.1:7071/api"]}, "appInstances must be base URLs"),
        ({"retryAfterSeconds": 0.5}, "retryAfterSeconds must be whole seconds"),
        ({"dupliacte": 1}, "unknown fault plan fields dupliacte"),
    ],
)
def test_put_rejects_a_bad_plan_and_keeps_the_old_one(control: EmulatorControl, body: dict, message: str) -> None:
    before = control.set_faults({"seed": 12, "late": 0.25})["plan"]
    response = requests.put(control.base_url + "/emulator/faults", json=body, timeout=10)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert control.faults()["plan"] == before


def test_get_shows_the_random_seed_a_plan_without_one_got(control: EmulatorControl) -> None:
    shown = control.set_faults({"drop": 0.5})["plan"]
    assert isinstance(shown["seed"], int)
    assert control.faults()["plan"] == FaultPlan(drop=0.5, seed=shown["seed"]).to_dict()
