"""The app's error hierarchy and how each error maps to an HTTP status the caller can act on."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


class AppError(Exception):
    """Base class; `status` is the HTTP status the adapter answers with."""

    status = 500


class BadRequest(AppError):
    """The payload is malformed; retrying the same body will not help."""

    status = 400


class PayloadTooLarge(BadRequest):
    """The body is larger than the route accepts."""

    status = 413


class NotFound(AppError):
    """The call, participant, recording or reminder the request names is not known."""

    status = 404


class MethodNotAllowed(AppError):
    status = 405


class Conflict(AppError):
    """The call is not in a state that allows the request; the message says why."""

    status = 409


class Unauthorized(AppError):
    """The callback carried no valid ACS token."""

    status = 401


class StateConflict(AppError):
    """Concurrent updates kept winning over ours; the platform should redeliver the event."""

    status = 503


class DependencyUnavailable(AppError):
    """A service we depend on (token keys, storage, ACS) could not be reached; retry later."""

    status = 503


class SettingsError(AppError):
    """One or more settings are missing or invalid; the message names every one of them."""


def is_permanent(exc: BaseException) -> bool:
    """True when delivering the same event again cannot succeed, so it is acknowledged and logged, not retried.

    That is an AppError below 500 (malformed, refused by storage as invalid) or a 4xx answer from a service (an
    azure-core HttpResponseError: ACS refusing an expired incomingCallContext) other than 401/403 (our
    credentials: fixable, so worth a retry), 408 and 429.
    """
    if isinstance(exc, AppError):
        return exc.status < 500
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and 400 <= status < 500 and status not in (401, 403, 408, 429)


def http_status(exc: BaseException) -> int:
    """The HTTP status for exc: its own for AppErrors, 500 for anything unexpected."""
    return exc.status if isinstance(exc, AppError) else 500


def error_reply(exc: BaseException) -> tuple[int, str]:
    """Log exc as its kind deserves and return (status, message) for the HTTP reply.

    Client errors are logged as warnings without a traceback; 5xx keep the traceback so the platform's
    retry is explained. Unexpected errors never leak their text to the caller.
    """
    status = http_status(exc)
    if status < 500:
        logger.warning("Rejected request (%d): %s", status, exc)
        return status, str(exc)
    logger.error("Request failed (%d): %s", status, exc, exc_info=exc)
    return status, str(exc) if isinstance(exc, AppError) else "internal error"


def error_document(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """(status, {"error": {"code", "message"}}): the one shape of every error the app's HTTP routes answer.

    The code is the AppError's class name ("BadRequest"), or "InternalError" for anything unexpected.
    """
    status, message = error_reply(exc)
    code = type(exc).__name__ if isinstance(exc, AppError) else "InternalError"
    return status, {"error": {"code": code, "message": message}}
