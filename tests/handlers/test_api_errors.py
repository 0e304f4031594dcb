"""How the HTTP API answers failures: field-named 400s, ACS errors mapped to statuses, one JSON shape everywhere."""

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError

from shared import api_runtime
from shared.errors import BadRequest
from tests.fixtures.outbound_fakes import api, outbound_context


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
    got_status, body, _ = api_runtime.error_body(exc)

    assert got_status == status and body["error"]["code"] == code
    assert "secret detail" not in body["error"]["message"]


def test_throttling_passes_retry_after_on():
    error = acs_error(429, "429", "Too many requests")
    error.response = type("Response", (), {"headers": {"Retry-After": "7"}})()

    assert api_runtime.error_body(error)[0::2] == (429, {"Retry-After": "7"})


async def test_malformed_json_is_a_400_not_a_traceback():
    ctx, _, _ = outbound_context()

    status, body = await api(ctx, "POST", "calls", b"{nope")

    assert status == 400 and body["error"]["message"].startswith("body is not valid JSON")


async def test_acs_failing_during_an_operation_is_answered_in_the_same_shape():
    ctx, acs, _ = outbound_context()
    acs.fail_with["transfer"] = acs_error(500, "9999", "Unknown")

    status, body = await api(ctx, "POST", "calls/{callId}/transfer", {"target": "+14255550143"}, callId="call-1")

    assert (status, body) == (502, {"error": {"code": "9999", "message": "ACS failed (500): Unknown"}})
