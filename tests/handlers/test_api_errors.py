"""How the HTTP API answers failures: field-named 400s, ACS errors mapped to statuses, never a traceback."""

import json

import azure.functions as func
import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError

from shared import api, clients
from shared.api import Reply
from shared.errors import BadRequest
from tests.fixtures.outbound_fakes import outbound_context


def acs_error(status: int, code: str = "8522", message: str = "Call not found.") -> HttpResponseError:
    error = HttpResponseError(message=message)
    error.status_code = status
    error.error = type("Error", (), {"code": code, "message": message})()
    return error


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (acs_error(404), 404, "8522"),
        (acs_error(412, "8583", "Incompatible media action."), 412, "8583"),
        (acs_error(401, "7509", "HMAC-SHA256 validation failed"), 502, "7509"),
        (acs_error(500, "9999", "Unknown"), 502, "9999"),
        (ServiceRequestError("connection refused"), 503, "AcsUnavailable"),
        (BadRequest("to must be an E.164 phone number"), 400, "BadRequest"),
        (RuntimeError("secret detail"), 500, "InternalError"),
    ],
)
def test_failures_become_json_errors(exc, status, code):
    got_status, body, _ = api.error_body(exc)

    assert got_status == status and body["error"]["code"] == code
    assert "secret detail" not in body["error"]["message"]


@pytest.fixture
def app_context():
    ctx, _, _ = outbound_context()
    clients.use(ctx)
    yield ctx
    clients.use(None)


def http(body: bytes, headers: dict | None = None) -> func.HttpRequest:
    return func.HttpRequest(method="POST", url="http://app/api/calls", body=body, headers=headers or {})


async def echo(request, ctx) -> Reply:
    return Reply(201, {"key": request.idempotency_key, "body": dict(request.body.data)})


async def test_run_answers_json_and_reads_the_idempotency_key(app_context):
    response = await api.run(http(b'{"a": 1}', {"Idempotency-Key": "k-1"}), echo)

    assert response.status_code == 201 and json.loads(response.get_body()) == {"key": "k-1", "body": {"a": 1}}


async def test_malformed_json_is_a_400_not_a_traceback(app_context):
    response = await api.run(http(b"{nope"), echo)

    assert response.status_code == 400
    assert json.loads(response.get_body())["error"]["message"].startswith("body is not valid JSON")
