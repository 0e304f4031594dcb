"""Call Automation error responses: the HTTP status plus the numeric subcode that ACS puts in error.code."""

from __future__ import annotations

import json

from aiohttp import web


class AcsError(Exception):
    """An error answered as `{"error": {"code": "<subcode>", "message": ...}}`, the shape real ACS sends."""

    def __init__(self, status: int, subcode: int | str, message: str, target: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.subcode = str(subcode)
        self.message = message
        self.target = target

    def to_body(self) -> dict:
        error: dict = {"code": self.subcode, "message": self.message}
        if self.target:
            error["target"] = self.target
        return {"error": error}

    def to_response(self) -> web.Response:
        return web.Response(
            status=self.status,
            body=json.dumps(self.to_body()).encode(),
            content_type="application/json",
            charset="utf-8",
        )


def bad_request(message: str, target: str | None = None) -> AcsError:
    return AcsError(400, 8523, message, target)


def missing_field(path: str) -> AcsError:
    return AcsError(400, 8523, f"The {path} field is required.", path)


def invalid_field(path: str, reason: str) -> AcsError:
    return AcsError(400, 8523, f"The field {path} is invalid: {reason}", path)


def call_not_found(call_connection_id: str) -> AcsError:
    return AcsError(404, 8522, f"Call {call_connection_id} not found.")


def not_found(what: str) -> AcsError:
    return AcsError(404, 8522, f"{what} not found.")


def invalid_state(message: str) -> AcsError:
    return AcsError(400, 8585, message)


def hmac_failed() -> AcsError:
    return AcsError(401, 7509, "HMAC-SHA256 validation failed")
