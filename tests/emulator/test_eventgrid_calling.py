"""Event Grid events of calls (contract §4): IncomingCall, CallStarted, CallEnded, CallParticipantAdded/Removed."""

import asyncio
import base64
import contextlib
import json

import pytest
from aiohttp import web
from azure.communication.callautomation import CallAutomationClient, CommunicationUserIdentifier

from emulator.control_client import EmulatorControl
from emulator.server import EmulatorServer
from emulator.testing import CallbackRecorder, EventGridRecorder

pytestmark = pytest.mark.usefixtures("conformant_events")

APP_NUMBER = "+18005550100"
CUSTOMER = "+15551230000"
ALICE = "8:acs:res_alice"
BOB = CommunicationUserIdentifier("8:acs:res_bob")


def test_incoming_call_event_has_the_contract_shape(
    emulator: EmulatorServer, control: EmulatorControl, eventgrid: EventGridRecorder
) -> None:
    context = {"sipHeaders": {"X-MS-Custom-Order": "42"}, "voipHeaders": {"tier": "gold"}}
    placed = control.place_call(CUSTOMER, APP_NUMBER, custom_context=context, display_name="Pat")
    event = eventgrid.wait_for("IncomingCall")
    assert event["subject"] == f"/caller/4:{CUSTOMER}/recipient/4:{APP_NUMBER}"
    assert event["topic"] == emulator.config.resource_topic
    data = event["data"]
    assert data["from"] == {"rawId": f"4:{CUSTOMER}", "kind": "phoneNumber", "phoneNumber": {"value": CUSTOMER}}
    assert data["to"]["rawId"] == f"4:{APP_NUMBER}"
    assert (data["serverCallId"], data["correlationId"]) == (placed.server_call_id, placed.correlation_id)
    assert data["callerDisplayName"] == "Pat"
    assert data["customContext"] == context
    assert data["incomingCallContext"] == placed.incoming_call_context
    header, payload, signature = data["incomingCallContext"].split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "none", "typ": "JWT"}
    assert "cc" in json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert signature == ""
    assert eventgrid.delivery_headers[0]["aeg-event-type"] == "Notification"


def test_voip_call_publishes_started_participants_and_ended(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder, eventgrid: EventGridRecorder
) -> None:
    placed = control.place_call(ALICE, APP_NUMBER)
    call_id = client.answer_call(placed.incoming_call_context, recorder.url).call_connection_id
    started = eventgrid.wait_for("CallStarted")
    assert started["subject"] == f"call/{placed.server_call_id}/startedBy/{ALICE}"
    assert started["data"]["isTwoParty"] is True
    added = eventgrid.wait_for("CallParticipantAdded")
    assert added["subject"] == f"call/{placed.server_call_id}/participant/{ALICE}"
    assert added["data"]["user"]["communicationIdentifier"]["rawId"] == ALICE

    connection = client.get_call_connection(call_id)
    connection.add_participant(BOB)
    bob_added = eventgrid.wait_for("CallParticipantAdded", predicate=lambda e: e["subject"].endswith(BOB.raw_id))
    connection.remove_participant(BOB)
    bob_removed = eventgrid.wait_for("CallParticipantRemoved", predicate=lambda e: e["subject"].endswith(BOB.raw_id))
    assert bob_removed["data"]["participantId"] == bob_added["data"]["participantId"]

    connection.hang_up(is_for_everyone=True)
    ended = eventgrid.wait_for("CallEnded")
    assert ended["subject"] == f"call/{placed.server_call_id}"
    assert ended["data"]["callDurationInSeconds"] >= 0
    assert ended["data"]["endedBy"]["communicationIdentifier"]["rawId"] == f"4:{APP_NUMBER}"
    assert eventgrid.types().count("CallEnded") == 1


def test_phone_only_call_publishes_only_incoming_call(
    client: CallAutomationClient, control: EmulatorControl, recorder: CallbackRecorder, eventgrid: EventGridRecorder
) -> None:
    placed = control.place_call(CUSTOMER, APP_NUMBER)
    call_id = client.answer_call(placed.incoming_call_context, recorder.url).call_connection_id
    recorder.wait_for("CallConnected", call_connection_id=call_id)
    client.get_call_connection(call_id).hang_up(is_for_everyone=True)
    recorder.wait_for("CallDisconnected", call_connection_id=call_id)
    control.wait_for_call(call_id, "ended")
    assert eventgrid.types() == ["IncomingCall"]


def test_subscription_filters_event_types(
    control: EmulatorControl,
    eventgrid_receiver: EventGridRecorder,
    client: CallAutomationClient,
    recorder: CallbackRecorder,
) -> None:
    eventgrid_receiver.clear()
    control.add_subscription(eventgrid_receiver.url, event_types=["CallEnded"])
    try:
        placed = control.place_call(ALICE, APP_NUMBER)
        call_id = client.answer_call(placed.incoming_call_context, recorder.url).call_connection_id
        recorder.wait_for("CallConnected", call_connection_id=call_id)
        control.hang_up(call_id, ALICE)
        eventgrid_receiver.wait_for("CallEnded")
        assert eventgrid_receiver.types() == ["CallEnded"]
    finally:
        control.remove_subscription(eventgrid_receiver.url)


class HoldingWebhook(EventGridRecorder):
    """An Event Grid webhook that holds every notification until `together` are held at once (or a deadline passes),
    and counts the most it held."""

    def __init__(self, together: int) -> None:
        super().__init__()
        self.together = together
        self.held = self.most = 0
        self._all_here: asyncio.Event | None = None

    async def _receive(self, request: web.Request) -> web.Response:
        if request.headers.get("aeg-event-type") == "SubscriptionValidation":
            return await super()._receive(request)
        self._all_here = self._all_here or asyncio.Event()
        self.held += 1
        self.most = max(self.most, self.held)
        if self.held >= self.together:
            self._all_here.set()
        with contextlib.suppress(TimeoutError):  # the most held is then below `together`, which the test reports
            await asyncio.wait_for(self._all_here.wait(), timeout=5)
        self.held -= 1
        return await super()._receive(request)


def test_incoming_calls_are_delivered_at_once_however_slow_the_app_is(control: EmulatorControl) -> None:
    calls = 150  # past aiohttp's default pool of 100 connections
    with HoldingWebhook(together=calls) as webhook:
        control.add_subscription(webhook.url, event_types=["IncomingCall"])
        try:
            for index in range(calls):
                control.place_call(f"+1555123{index:04d}", APP_NUMBER)
            webhook.wait_for("IncomingCall", count=calls, timeout=30)
        finally:
            control.remove_subscription(webhook.url)
    assert webhook.most == calls
