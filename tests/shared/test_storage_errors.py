"""Storage failures classified by status: unit cases, and what Azurite really answers through TableStateStore."""

import uuid
from dataclasses import replace

import pytest
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
)
from azure.data.tables.aio import TableServiceClient

from shared.errors import DependencyUnavailable, StateConflict, is_permanent
from shared.state import CallState, TableStateStore
from shared.storage_errors import PermanentStorageError, StorageFailure, classify, reraise_unless


class Status:
    """The part of an HTTP response azure-core's HttpResponseError reads."""

    def __init__(self, status: int) -> None:
        self.status_code = status
        self.reason = "reason"
        self.headers = {}

    def text(self) -> str:
        return ""


def failure(status: int) -> HttpResponseError:
    return HttpResponseError(message=f"failed with {status}", response=Status(status))


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (failure(409), StorageFailure.CONFLICT),
        (failure(412), StorageFailure.CONFLICT),
        (ResourceExistsError(message="exists", response=Status(409)), StorageFailure.CONFLICT),
        (ResourceModifiedError(message="etag", response=Status(412)), StorageFailure.CONFLICT),
        (ResourceNotFoundError(message="gone", response=Status(404)), StorageFailure.MISSING),
        (failure(400), StorageFailure.PERMANENT),
        (failure(413), StorageFailure.PERMANENT),
        (failure(403), StorageFailure.TRANSIENT),
        (failure(429), StorageFailure.TRANSIENT),
        (failure(500), StorageFailure.TRANSIENT),
        (failure(503), StorageFailure.TRANSIENT),
        (ServiceRequestError("connection refused"), StorageFailure.TRANSIENT),
    ],
)
def test_failures_are_classified_by_status(exc, kind):
    assert classify(exc) is kind


def test_reraise_unless_maps_the_unexpected_to_4xx_or_503():
    assert reraise_unless(failure(409), StorageFailure.CONFLICT) is StorageFailure.CONFLICT
    with pytest.raises(PermanentStorageError, match="failed with 400") as permanent:
        reraise_unless(failure(400), StorageFailure.CONFLICT)
    assert permanent.value.status == 422 and is_permanent(permanent.value)
    with pytest.raises(DependencyUnavailable):
        reraise_unless(failure(500), StorageFailure.CONFLICT)
    with pytest.raises(DependencyUnavailable):
        reraise_unless(failure(404), StorageFailure.CONFLICT)


@pytest.fixture
async def table_store(storage_connection_string):
    async with TableServiceClient.from_connection_string(storage_connection_string) as service:
        table = await service.create_table(f"errors{uuid.uuid4().hex[:12]}")
        yield TableStateStore(table)
        await service.delete_table(table.table_name)


# A string property over 64 KiB (32 Ki UTF-16 characters): Table Storage answers 400 for the operation.
OVERSIZED = {"notes": "x" * 70_000}


async def test_oversized_state_is_a_permanent_error_not_a_conflict(table_store):
    """Finding 8: the 400 of an entity-group transaction was read as a conflict, retried 5 times and answered 503."""
    call = CallState(call_connection_id=str(uuid.uuid4()), flow="ivr", step="answering")
    created = await table_store.commit(call, marker="incoming-1")

    with pytest.raises(PermanentStorageError):
        await table_store.commit(replace(created, data=OVERSIZED), marker="e1")
    with pytest.raises(PermanentStorageError):
        await table_store.commit(replace(call, call_connection_id=str(uuid.uuid4()), data=OVERSIZED), marker="e")


async def test_real_conflicts_are_still_conflicts(table_store):
    call = CallState(call_connection_id=str(uuid.uuid4()), flow="ivr", step="answering")
    created = await table_store.commit(call, marker="incoming-1")
    with pytest.raises(StateConflict):  # 409 in the transaction: the state exists
        await table_store.commit(call, marker="incoming-2")
    await table_store.commit(replace(created, step="main-menu"), marker="e1")

    with pytest.raises(StateConflict):  # 412: stale ETag
        await table_store.commit(replace(created, step="goodbye"), marker="e2")
