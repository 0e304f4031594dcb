"""The Functions adapter: status codes for callbacks, and the Event Grid IncomingCall trigger."""

import json
import logging
from datetime import UTC, datetime

import azure.functions as func
import pytest
from azure.core.exceptions import HttpResponseError

from function_app import app
from shared import clients
from shared.errors import Unauthorized
from tests.fixtures.fakes import callback, make_context, payload

# get_functions() re-adds blueprint functions on every call, so it is called once.
DEFINED = app.get_functions()
FUNCTIONS = {f.get_function_name(): f.get_user_function() for f in DEFINED}
TRIGGERS = {f.get_function_name(): f.get_trigger() for f in DEFINED}
GOOD_TOKEN = "Bearer good"


class FakeVerifier:
    async def verify(self, authorization, body=b""):
        if authorization != GOOD_TOKEN:
            raise Unauthorized("missing bearer token in the Authorization header")
        return {}


@pytest.fixture
def app_context():
    ctx, acs, store = make_context()
    clients.use(ctx, FakeVerifier())
    yield ctx, acs, store
    clients.use(None)


def post(body, authorization=GOOD_TOKEN):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Authorization": authorization} if authorization else {}
    request = func.HttpRequest(method="POST", url="/api/callbacks", headers=headers, body=raw)
    return FUNCTIONS["callbacks"](request)


async def deliver_incoming_call(envelope):
    event = func.EventGridEvent(
        id=envelope["id"],
        data=envelope["data"],
        topic=envelope["topic"],
        subject=envelope["subject"],
        event_type=envelope["eventType"],
        event_time=datetime(2026, 3, 12, 12, 0, tzinfo=UTC),
        data_version="1.0",
    )
    await FUNCTIONS["incoming_call"](event)


def test_callbacks_need_no_function_key_because_acs_cannot_send_one():
    assert TRIGGERS["callbacks"].auth_level == func.AuthLevel.ANONYMOUS
    assert all(
        trigger.auth_level == func.AuthLevel.FUNCTION
        for name, trigger in TRIGGERS.items()
        if name.startswith("api_") and name != "api_openapi"
    )


def test_function_names_match_the_event_grid_webhook_and_route():
    triggers = {"incoming_call", "recording_file_status", "callbacks", "watchdog"}
    assert triggers <= set(FUNCTIONS)
    # Everything else is the HTTP API (handlers/api_routes.py, handlers/api_recording_routes.py).
    assert all(name.startswith("api_") for name in set(FUNCTIONS) - triggers)


async def test_incoming_call_is_answered(app_context):
    _, acs, store = app_context
    [envelope] = payload("incoming_call")

    await deliver_incoming_call(envelope)

    assert acs.names() == ["answer"] and len(store.states) == 1


async def test_malformed_incoming_call_is_logged_and_dropped(app_context, caplog):
    _, acs, _ = app_context
    [envelope] = payload("incoming_call")
    del envelope["data"]["from"]

    await deliver_incoming_call(envelope)

    assert acs.ops == [] and "data.from" in caplog.text


async def test_callback_for_a_known_call_is_acted_on(app_context):
    _, acs, _ = app_context
    await deliver_incoming_call(payload("incoming_call")[0])
    [call] = acs.answered.values()

    response = await post([callback("call_connected", call_connection_id=call)])

    assert response.status_code == 200
    assert acs.names()[-2:] == ["play", "recognize"]


async def test_bad_json_is_400_with_a_message(app_context):
    response = await post(b"{oops")
    assert response.status_code == 400 and b"not valid JSON" in response.get_body()


async def test_missing_element_field_is_400_naming_it(app_context):
    response = await post([{"id": "1", "type": "Microsoft.Communication.CallConnected", "data": {}}])
    assert response.status_code == 400 and b"event[0].data.callConnectionId" in response.get_body()


async def test_missing_token_is_401_and_nothing_is_parsed_or_done(app_context):
    _, acs, _ = app_context
    response = await post(b"{oops", authorization=None)
    assert response.status_code == 401 and acs.ops == []


async def test_unknown_event_type_is_acknowledged(app_context):
    event = callback("call_connected")
    event["type"] = "Microsoft.Communication.SomethingNew"
    assert (await post([event])).status_code == 200


async def test_handler_error_is_500_without_leaking_details(app_context, monkeypatch):
    _, acs, store = app_context
    await deliver_incoming_call(payload("incoming_call")[0])
    [call] = acs.answered.values()

    async def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(store, "load", broken)
    response = await post([callback("call_connected", call_connection_id=call)])

    assert response.status_code == 500
    assert json.loads(response.get_body()) == {"error": {"code": "InternalError", "message": "internal error"}}


async def test_an_action_acs_refuses_is_acknowledged_and_left_to_the_watchdog(app_context):
    _, acs, store = app_context
    await deliver_incoming_call(payload("incoming_call")[0])
    [call] = acs.answered.values()
    acs.fail_with["play"] = RuntimeError("ACS refused")

    response = await post([callback("call_connected", call_connection_id=call)])

    # A redelivery could not send the greeting any better; the watchdog re-asks once the step is overdue (now).
    assert response.status_code == 200
    assert store.states[call].deadline == store.states[call].outbox.lease_until


async def test_duplicate_delivery_is_a_no_op(app_context):
    _, acs, _ = app_context
    await deliver_incoming_call(payload("incoming_call")[0])
    [call] = acs.answered.values()
    body = [callback("call_connected", call_connection_id=call, event_id="connected-1")]

    first, second = await post(body), await post(body)

    assert (first.status_code, second.status_code) == (200, 200)
    assert acs.names().count("play") == 1


async def test_state_conflicts_are_503_so_acs_retries(app_context, monkeypatch):
    _, acs, store = app_context
    await deliver_incoming_call(payload("incoming_call")[0])
    [call] = acs.answered.values()

    async def always_conflicting(*args, **kwargs):
        from shared.errors import StateConflict

        raise StateConflict("someone else keeps winning")

    monkeypatch.setattr(store, "commit", always_conflicting)
    response = await post([callback("call_connected", call_connection_id=call)])
    assert response.status_code == 503


def test_cold_import_leaves_the_heavy_sdks_for_the_first_invocation():
    """And the HTTP API (pydantic, its operations) for its first request: a callback's cold start never pays for it."""
    import subprocess
    import sys

    heavy = ["azure.communication.callautomation", "azure.identity", "aiohttp", "jwt", "azure.storage.blob"]
    heavy += ["pydantic", "shared.api_runtime", "handlers.api.calls", "opentelemetry"]
    probe = f"import sys, function_app; print([m for m in {heavy!r} if m in sys.modules])"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


async def test_cloud_event_schema_incoming_call_is_answered(app_context):
    """Finding 2: a CloudEvent-schema delivery crashed incoming_call (CloudEvent has no event_time)."""
    _, acs, store = app_context
    [envelope] = payload("incoming_call")
    event = func.CloudEvent(
        id=envelope["id"],
        source=envelope["topic"],
        type=envelope["eventType"],
        specversion="1.0",
        time=datetime(2026, 3, 12, 12, 0, tzinfo=UTC),
        subject=envelope["subject"],
        datacontenttype="application/json",
        dataschema=None,
        data=envelope["data"],
    )

    await FUNCTIONS["incoming_call"](event)

    assert acs.names() == ["answer"] and len(store.states) == 1


async def test_incoming_call_with_a_lone_surrogate_is_acknowledged_not_retried(app_context):
    """Finding 1: a lone surrogate in serverCallId raised UnicodeEncodeError in the state keys: a 5xx forever."""
    _, acs, _ = app_context
    [envelope] = payload("incoming_call")
    envelope["data"]["serverCallId"] = "\ud800"

    await deliver_incoming_call(envelope)

    assert acs.ops == []


class AcsAnswer(HttpResponseError):
    def __init__(self, status):
        super().__init__(message=f"ACS answered {status}")
        self.status_code = status


async def test_incoming_call_acs_refuses_for_good_is_acknowledged(app_context, caplog):
    _, acs, _ = app_context
    acs.fail_with["answer"] = AcsAnswer(400)  # e.g. an expired incomingCallContext: no retry can help

    await deliver_incoming_call(payload("incoming_call")[0])

    assert "acknowledged without effect" in caplog.text


async def test_incoming_call_acs_failing_for_now_is_retried(app_context):
    _, acs, _ = app_context
    acs.fail_with["answer"] = AcsAnswer(503)

    with pytest.raises(HttpResponseError):
        await deliver_incoming_call(payload("incoming_call")[0])


def test_the_app_keeps_the_azure_sdks_at_warning():
    """Finding 7: the SDKs' INFO request lines carry URL-encoded phone numbers (table keys)."""
    assert logging.getLogger("azure").level == logging.WARNING
