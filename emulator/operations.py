"""The REST operation table (moto's urls.py): method + path pattern -> handler, plus request/response helpers."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .config import SUPPORTED_API_VERSIONS
from .errors import bad_request
from .models import Backend, ServerCall

CALL_OF_REQUEST = web.RequestKey("emulator_call", ServerCall)


@dataclass
class ApiRequest:
    """A parsed REST request: path parameters, the JSON body (an object, or {} when empty), the raw request."""

    backend: Backend
    operation: str
    params: dict[str, str]
    body: dict[str, Any]
    raw: web.Request
    api_version: str

    def attach_call(self, call: ServerCall) -> None:
        """Name the call a request created (no callConnectionId in its path) so its timeline records the request."""
        self.raw[CALL_OF_REQUEST] = call


Handler = Callable[[ApiRequest], Awaitable[web.Response]]


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    pattern: str
    handler: Handler
    repeatable: bool = False  # accepts Repeatability-Request-ID (contract §1.2)
    regex: re.Pattern = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile("^" + self.pattern + "$"))


CALL = r"/calling/callConnections/(?P<call_connection_id>[^/:]+)"
RECORDING = r"/calling/recordings/(?P<recording_id>[^/:]+)"


def parse_body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise bad_request(f"The request body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


def respond(
    status: int, body: Any = None, *, call_correlation_id: str | None = None, empty_json: bool = False
) -> web.Response:
    """A response with the headers real ACS sends; `empty_json` answers `{}` where the service does (sendDtmfTones)."""
    headers = {"api-supported-versions": ", ".join(SUPPORTED_API_VERSIONS)}
    if call_correlation_id:
        headers["X-Microsoft-Skype-Chain-ID"] = call_correlation_id
    if body is None and not empty_json:
        return web.Response(status=status, headers=headers)
    payload = json.dumps({} if body is None else body).encode()
    return web.Response(status=status, body=payload, content_type="application/json", charset="utf-8", headers=headers)
