"""HTTP API plumbing: JSON in, JSON out, and every failure a JSON error whose status says what to do next.

ACS errors keep their meaning: a 4xx from ACS (bad argument, call or participant not found, conflict, a media
operation that cannot run now) becomes the same 4xx with ACS's code and message; ACS 5xx becomes 502, ACS
unreachable 503, and a 429 stays 429 with its Retry-After.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func
from azure.core.exceptions import HttpResponseError, ServiceRequestError

from shared import clients, guarded_json
from shared.context import Context
from shared.errors import AppError, BadRequest, error_reply
from shared.identifiers import CALL_CONNECTION_ID, OPAQUE_ID, matches
from shared.validation import Body

logger = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
# Namespace of the Repeatability-Request-IDs derived from Idempotency-Key headers.
IDEMPOTENCY_NAMESPACE = uuid.UUID("0c6b6c51-3f4e-4c1e-9a0e-7d1f4b2f5e21")
# ACS 4xx statuses that describe the client's request; others (401: our credentials) are the app's fault.
_CLIENT_STATUSES = {400, 403, 404, 405, 409, 412, 422}
# Idempotency keys become part of a Repeatability-Request-ID seed: visible ASCII only.
_IDEMPOTENCY_KEY = re.compile(r"\A[\x21-\x7e]{1,200}\Z")


class NotFound(AppError):
    status = 404


@dataclass(frozen=True, kw_only=True)
class ApiRequest:
    """What an API operation needs from the HTTP request."""

    body: Body
    params: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None

    def repeatability(self, operation: str) -> dict[str, str]:
        """SDK keyword arguments that make a retried request with the same Idempotency-Key a repeat for ACS.

        ACS recognises the repeat by its Repeatability-Request-ID; the SDK stamps Repeatability-First-Sent.
        """
        if not self.idempotency_key:
            return {}
        request_id = uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{operation}/{self.idempotency_key}")
        return {"headers": {"Repeatability-Request-ID": str(request_id)}}


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None


Operation = Callable[[ApiRequest, Context], Awaitable[Reply]]


def parse(req: func.HttpRequest) -> ApiRequest:
    raw = req.get_body()
    data = guarded_json.loads(raw, max_bytes=guarded_json.MAX_API_BYTES) if raw.strip() else {}
    key = req.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not _IDEMPOTENCY_KEY.match(key):
        raise BadRequest(f"the {IDEMPOTENCY_HEADER} header must be 1 to 200 visible ASCII characters")
    return ApiRequest(body=Body(data), params=dict(req.route_params), query=dict(req.params), idempotency_key=key)


async def run(req: func.HttpRequest, operation: Operation) -> func.HttpResponse:
    """Parse req, run operation with the app's context, and answer JSON; no failure escapes as a traceback."""
    try:
        reply = await operation(parse(req), await clients.context())
    except Exception as exc:
        status, body, headers = error_body(exc)
        return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/json", headers=headers)
    if reply.body is None:
        return func.HttpResponse(status_code=reply.status)
    return func.HttpResponse(json.dumps(reply.body), status_code=reply.status, mimetype="application/json")


def error_body(exc: BaseException) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, {"error": {"code", "message"}}, headers) for any failure of an API operation."""
    if isinstance(exc, HttpResponseError) and exc.status_code is not None:
        return _acs_error(exc)
    if isinstance(exc, ServiceRequestError):
        logger.error("ACS unreachable: %s", exc)
        return 503, _error("AcsUnavailable", "Azure Communication Services could not be reached; retry later"), {}
    status, message = error_reply(exc)
    return status, _error(type(exc).__name__ if isinstance(exc, AppError) else "InternalError", message), {}


def _acs_error(exc: HttpResponseError) -> tuple[int, dict[str, Any], dict[str, str]]:
    error = getattr(exc, "error", None)
    code = str(getattr(error, "code", "") or exc.status_code)
    message = getattr(error, "message", None) or exc.reason or "request failed"
    status = exc.status_code
    if status == 429:
        retry_after = exc.response.headers.get("Retry-After") if exc.response is not None else None
        return 429, _error(code, f"ACS is throttling requests: {message}"), {"Retry-After": retry_after or "1"}
    if status in _CLIENT_STATUSES:
        logger.warning("ACS rejected the request (%d, %s): %s", status, code, message)
        return status, _error(code, f"ACS rejected the request: {message}"), {}
    logger.error("ACS failed (%d, %s): %s", status, code, message)
    return 502, _error(code, f"ACS failed ({status}): {message}"), {}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def call_id(request: ApiRequest) -> str:
    """The callId route parameter: a call connection id as ACS issues them."""
    return route_id(request, "callId", CALL_CONNECTION_ID, "a call connection id (letters, digits, '-', '.', '_')")


def route_id(request: ApiRequest, name: str, pattern: re.Pattern[str] = OPAQUE_ID, what: str = "an id") -> str:
    """A route parameter that must match pattern (shared/identifiers.py); BadRequest naming it otherwise."""
    value = request.params.get(name, "")
    if not matches(pattern, value):
        raise BadRequest(f"{name} must be {what}")
    return value


def identifier_json(identifier: Any) -> dict[str, Any]:
    """{"rawId", "kind"} with kind spelt as in ACS's REST model ("phoneNumber"), not the SDK's "phone_number"."""
    first, *rest = str(getattr(identifier.kind, "value", identifier.kind)).split("_")
    return {"rawId": identifier.raw_id, "kind": first + "".join(word.title() for word in rest)}


def participant_json(participant: Any) -> dict[str, Any]:
    return {
        **identifier_json(participant.identifier),
        "isMuted": bool(participant.is_muted),
        "isOnHold": bool(participant.is_on_hold),
    }
