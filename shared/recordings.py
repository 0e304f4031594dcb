"""Finished recordings: the RecordingFileStatusUpdated event, and their index per call in Table Storage.

Layout of the recordings table: when the app starts a recording it writes an owner row (PartitionKey
"owner-<hash of the recordingId>", RowKey "owner") naming the call, because the file event names only the
server call and the correlation id. The file event then becomes one index row in the call's partition
(PartitionKey = callConnectionId, RowKey = recordingId). A recording the app did not start is indexed under
"server-call-<hash of the serverCallId>" instead, so it is kept but not listed under any call.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.errors import BadRequest
from shared.settings import Settings
from shared.state import table_key

if TYPE_CHECKING:
    from azure.data.tables.aio import TableClient

EVENT_TYPE = "RecordingFileStatusUpdated"
OWNER_ROW = "owner"
# /recording/call/{correlationId}/serverCallId/{serverCallId}/recordingId/{recordingId}; a serverCallId is base64
# and may itself contain "/".
_SUBJECT = re.compile(r"^/recording/call/([^/]+)/serverCallId/(.+)/recordingId/([^/]+)$")


def _hashed(prefix: str, value: str) -> str:
    return f"{prefix}-{uuid.uuid5(uuid.NAMESPACE_URL, value).hex}"


@dataclass(frozen=True, kw_only=True)
class RecordingOptions:
    """How to record a call: content, channels, format, where the files go, and which channel the caller gets."""

    content: str = "audio"
    channel: str = "mixed"
    format: str = "wav"
    pause_on_start: bool = False
    # Bring-your-own-storage container; None keeps the files in ACS (fetch them within 24 hours).
    container_url: str | None = None
    # (channel, raw id): pin the caller to one channel of an unmixed recording.
    caller_channel: tuple[int, str] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, caller: str | None) -> RecordingOptions:
        pinned = settings.recording_caller_channel
        return cls(
            content=settings.recording_content,
            channel=settings.recording_channel,
            format=settings.recording_format,
            pause_on_start=settings.recording_pause_on_start,
            container_url=settings.recording_container_url,
            caller_channel=(pinned, caller) if pinned is not None and caller else None,
        )


@dataclass(frozen=True, kw_only=True)
class RecordingChunk:
    """One file of a recording: its content and metadata blobs (or ACS storage URLs)."""

    document_id: str
    index: int
    end_reason: str
    content_location: str
    metadata_location: str
    delete_location: str = ""


@dataclass(frozen=True, kw_only=True)
class RecordingFileStatus:
    """A RecordingFileStatusUpdated Event Grid event: a recording's files are ready."""

    id: str
    recording_id: str
    server_call_id: str
    correlation_id: str
    chunks: tuple[RecordingChunk, ...]
    start_time: str
    duration_ms: int
    session_end_reason: str = ""
    content_type: str = ""
    channel_type: str = ""
    format_type: str = ""

    type: ClassVar[str] = EVENT_TYPE
    operation_context: ClassVar[str | None] = None
    call_connection_id: ClassVar[str] = ""


def parse_recording_file_status(*, event_id: str, subject: str, data: Any) -> RecordingFileStatus:
    """Validate a RecordingFileStatusUpdated event; BadRequest names the first field that is wrong."""
    match = _SUBJECT.match(subject or "")
    if match is None:
        raise BadRequest(f"subject {subject!r} is not /recording/call/{{id}}/serverCallId/{{id}}/recordingId/{{id}}")
    if not isinstance(data, Mapping):
        raise BadRequest("data must be an object")
    storage = data.get("recordingStorageInfo")
    items = storage.get("recordingChunks") if isinstance(storage, Mapping) else None
    if not isinstance(items, list) or not items:
        raise BadRequest("data.recordingStorageInfo.recordingChunks must be a non-empty list")
    duration = data.get("recordingDurationMs")
    if isinstance(duration, bool) or not isinstance(duration, int) or duration < 0:
        raise BadRequest("data.recordingDurationMs must be a non-negative integer")
    correlation_id, server_call_id, recording_id = match.groups()
    return RecordingFileStatus(
        id=event_id,
        recording_id=recording_id,
        server_call_id=server_call_id,
        correlation_id=correlation_id,
        chunks=tuple(_chunk(item, f"data.recordingStorageInfo.recordingChunks[{i}]") for i, item in enumerate(items)),
        start_time=_text(data, "recordingStartTime", "data", required=True),
        duration_ms=duration,
        session_end_reason=_text(data, "sessionEndReason", "data"),
        content_type=_text(data, "recordingContentType", "data"),
        channel_type=_text(data, "recordingChannelType", "data"),
        format_type=_text(data, "recordingFormatType", "data"),
    )


def _chunk(item: Any, where: str) -> RecordingChunk:
    if not isinstance(item, Mapping):
        raise BadRequest(f"{where} must be an object")
    index = item.get("index", 0)
    if isinstance(index, bool) or not isinstance(index, int):
        raise BadRequest(f"{where}.index must be an integer")
    return RecordingChunk(
        document_id=_text(item, "documentId", where, required=True),
        index=index,
        end_reason=_text(item, "endReason", where),
        content_location=_text(item, "contentLocation", where, required=True),
        metadata_location=_text(item, "metadataLocation", where, required=True),
        delete_location=_text(item, "deleteLocation", where),
    )


def _text(source: Mapping[str, Any], name: str, where: str, *, required: bool = False) -> str:
    value = source.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise BadRequest(f"{where}.{name} must be a {'non-empty ' if required else ''}string")
    return value


@dataclass(frozen=True, kw_only=True)
class RecordingOwner:
    """The call a recording belongs to, written by the app when it starts the recording."""

    recording_id: str
    call_connection_id: str
    server_call_id: str = ""
    correlation_id: str = ""

    def to_entity(self) -> dict[str, Any]:
        return {"PartitionKey": _hashed("owner", self.recording_id), "RowKey": OWNER_ROW, **asdict(self)}


@dataclass(frozen=True, kw_only=True)
class IndexedRecording:
    """One finished recording in the index: where its files are, how long it lasted, why it ended."""

    call_connection_id: str
    recording_id: str
    server_call_id: str
    correlation_id: str
    start_time: str
    duration_ms: int
    session_end_reason: str
    content_type: str
    channel_type: str
    format_type: str
    chunks: tuple[RecordingChunk, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, event: RecordingFileStatus, call_connection_id: str) -> IndexedRecording:
        return cls(
            call_connection_id=call_connection_id,
            recording_id=event.recording_id,
            server_call_id=event.server_call_id,
            correlation_id=event.correlation_id,
            start_time=event.start_time,
            duration_ms=event.duration_ms,
            session_end_reason=event.session_end_reason,
            content_type=event.content_type,
            channel_type=event.channel_type,
            format_type=event.format_type,
            chunks=event.chunks,
        )

    @property
    def partition(self) -> str:
        if self.call_connection_id:
            return table_key(self.call_connection_id)
        return _hashed("server-call", self.server_call_id)

    def to_entity(self) -> dict[str, Any]:
        first = self.chunks[0] if self.chunks else None
        return {
            "PartitionKey": self.partition,
            "RowKey": table_key(self.recording_id),
            **{name: value for name, value in asdict(self).items() if name != "chunks"},
            # The first chunk's blobs as columns, so the index reads well in Storage Explorer.
            "content_location": first.content_location if first else "",
            "metadata_location": first.metadata_location if first else "",
            "chunks": json.dumps([asdict(chunk) for chunk in self.chunks]),
        }

    @classmethod
    def from_entity(cls, entity: Mapping[str, Any]) -> IndexedRecording:
        names = {f for f in cls.__dataclass_fields__ if f != "chunks"}
        return cls(
            **{name: entity.get(name, "") for name in names if name != "duration_ms"},
            duration_ms=int(entity.get("duration_ms", 0)),
            chunks=tuple(RecordingChunk(**chunk) for chunk in json.loads(entity.get("chunks") or "[]")),
        )

    def to_json(self) -> dict[str, Any]:
        """The recording as the HTTP API shows it."""
        return {
            "recordingId": self.recording_id,
            "serverCallId": self.server_call_id,
            "correlationId": self.correlation_id,
            "startTime": self.start_time,
            "durationMs": self.duration_ms,
            "sessionEndReason": self.session_end_reason,
            "contentType": self.content_type,
            "channelType": self.channel_type,
            "formatType": self.format_type,
            "chunks": [
                {
                    "index": chunk.index,
                    "contentLocation": chunk.content_location,
                    "metadataLocation": chunk.metadata_location,
                    "endReason": chunk.end_reason,
                }
                for chunk in self.chunks
            ],
        }


class RecordingIndex(Protocol):
    """Who owns each recording, and the finished recordings of each call."""

    async def put_owner(self, owner: RecordingOwner) -> None: ...

    async def owner(self, recording_id: str) -> RecordingOwner | None: ...

    async def put(self, recording: IndexedRecording) -> None:
        """Insert or replace: a redelivered file event rewrites the same row with the same values."""

    async def list(self, call_connection_id: str) -> list[IndexedRecording]:
        """The call's finished recordings, oldest first."""


class InMemoryRecordingIndex:
    """A RecordingIndex in a dict, for unit tests."""

    def __init__(self) -> None:
        self.owners: dict[str, RecordingOwner] = {}
        self.rows: dict[tuple[str, str], IndexedRecording] = {}

    async def put_owner(self, owner: RecordingOwner) -> None:
        self.owners[owner.recording_id] = owner

    async def owner(self, recording_id: str) -> RecordingOwner | None:
        return self.owners.get(recording_id)

    async def put(self, recording: IndexedRecording) -> None:
        self.rows[(recording.partition, recording.recording_id)] = recording

    async def list(self, call_connection_id: str) -> list[IndexedRecording]:
        rows = [row for (partition, _), row in self.rows.items() if partition == table_key(call_connection_id)]
        return sorted(rows, key=lambda row: row.start_time)


class TableRecordingIndex:
    """A RecordingIndex on one Azure Table (azure.data.tables.aio TableClient)."""

    def __init__(self, table: TableClient) -> None:
        self._table = table

    async def put_owner(self, owner: RecordingOwner) -> None:
        await self._table.upsert_entity(owner.to_entity(), mode=UpdateMode.REPLACE)

    async def owner(self, recording_id: str) -> RecordingOwner | None:
        try:
            entity = await self._table.get_entity(_hashed("owner", recording_id), OWNER_ROW)
        except ResourceNotFoundError:
            return None
        return RecordingOwner(**{name: entity.get(name, "") for name in RecordingOwner.__dataclass_fields__})

    async def put(self, recording: IndexedRecording) -> None:
        await self._table.upsert_entity(recording.to_entity(), mode=UpdateMode.REPLACE)

    async def list(self, call_connection_id: str) -> list[IndexedRecording]:
        rows = self._table.query_entities("PartitionKey eq @call", parameters={"call": table_key(call_connection_id)})
        found = [IndexedRecording.from_entity(row) async for row in rows]
        return sorted(found, key=lambda row: row.start_time)
