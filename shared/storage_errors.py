"""What a Table Storage failure means for the event being processed, read from its HTTP status code.

azure-data-tables raises TableTransactionError for any failed entity-group transaction, carrying the status of
the operation that failed: 409 (the entity exists), 412 (the ETag no longer matches), 404 (it is gone), 400 (the
request is invalid, e.g. a property over 64 KiB) or 413 (the batch is too large). Only the first three mean
"someone else got there first"; a 400 will fail the same way every time, and a 5xx or a lost connection may not.
"""

from __future__ import annotations

import enum

from azure.core.exceptions import HttpResponseError

from shared.errors import AppError, DependencyUnavailable


class StorageFailure(enum.Enum):
    CONFLICT = "conflict"  # 409, 412: a concurrent writer won; re-read and decide again
    MISSING = "missing"  # 404: the entity (or table) is not there
    PERMANENT = "permanent"  # 400, 413 and other 4xx: the same request will always fail; acknowledge, never retry
    TRANSIENT = "transient"  # 5xx, 408, 429, 401/403 (credentials can be fixed), no answer at all: retry later


class PermanentStorageError(AppError):
    """Storage refused the write as invalid: redelivering the event cannot help, so it is answered 4xx."""

    status = 422


_CONFLICT_STATUSES = {409, 412}
_RETRYABLE_CLIENT_STATUSES = {401, 403, 408, 429}


def classify(exc: BaseException) -> StorageFailure:
    """The kind of failure exc is; anything without an HTTP status (connection errors, timeouts) is transient."""
    status = exc.status_code if isinstance(exc, HttpResponseError) else None
    if status is None:
        return StorageFailure.TRANSIENT
    if status in _CONFLICT_STATUSES:
        return StorageFailure.CONFLICT
    if status == 404:
        return StorageFailure.MISSING
    if 400 <= status < 500 and status not in _RETRYABLE_CLIENT_STATUSES:
        return StorageFailure.PERMANENT
    return StorageFailure.TRANSIENT


def reraise_unless(exc: BaseException, *expected: StorageFailure) -> StorageFailure:
    """The failure kind of exc when it is one of expected; otherwise raise what the caller's status should be:
    PermanentStorageError (4xx, acknowledged) or DependencyUnavailable (503, retried)."""
    kind = classify(exc)
    if kind in expected:
        return kind
    if kind is StorageFailure.PERMANENT:
        raise PermanentStorageError(f"storage refused the write: {_reason(exc)}") from exc
    raise DependencyUnavailable(f"storage failed ({kind.value}): {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    """The first line of the service's message (its ErrorCode line and request ids follow)."""
    message = str(getattr(exc, "message", None) or exc)
    return message.splitlines()[0][:200] if message else type(exc).__name__
