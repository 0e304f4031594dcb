"""Transcript lines per call in Table Storage: written by the WebSocket receiver, read by the HTTP API.

PartitionKey = callConnectionId; RowKey = the line's offset (100 ns ticks, zero-padded so rows sort in speaking
order) and a short hash of the speaker, so two people talking at once keep two rows and a line sent twice (a
reconnecting stream) overwrites itself. The speaker's raw id is stored as sent: telling who said what is the
point of a transcript; logs mask it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol

from azure.data.tables import UpdateMode

from shared.state import table_key

if TYPE_CHECKING:
    from azure.data.tables.aio import TableClient

TICKS_PER_SECOND = 10_000_000


@dataclass(frozen=True, kw_only=True)
class TranscriptLine:
    """One final transcription result: who said what, when (offset from the start of transcription)."""

    call_connection_id: str
    offset: int
    duration: int
    text: str
    confidence: float
    speaker: str = ""
    locale: str = ""
    correlation_id: str = ""

    @property
    def row_key(self) -> str:
        speaker = hashlib.sha256(self.speaker.encode()).hexdigest()[:8]
        return f"{self.offset:020d}-{speaker}"

    def to_entity(self) -> dict[str, Any]:
        return {"PartitionKey": table_key(self.call_connection_id), "RowKey": self.row_key, **asdict(self)}

    @classmethod
    def from_entity(cls, entity: Mapping[str, Any]) -> TranscriptLine:
        return cls(
            call_connection_id=entity["call_connection_id"],
            offset=int(entity["offset"]),
            duration=int(entity.get("duration", 0)),
            text=entity.get("text", ""),
            confidence=float(entity.get("confidence", 0.0)),
            speaker=entity.get("speaker", ""),
            locale=entity.get("locale", ""),
            correlation_id=entity.get("correlation_id", ""),
        )

    def to_json(self) -> dict[str, Any]:
        """The line as the HTTP API shows it."""
        return {
            "offsetSeconds": self.offset / TICKS_PER_SECOND,
            "durationSeconds": self.duration / TICKS_PER_SECOND,
            "speaker": self.speaker,
            "text": self.text,
            "confidence": self.confidence,
            "locale": self.locale,
        }


class TranscriptStore(Protocol):
    async def add(self, line: TranscriptLine) -> None:
        """Insert or replace the line: a redelivered result lands on its own row."""

    async def lines(self, call_connection_id: str) -> list[TranscriptLine]:
        """The call's transcript in speaking order."""


class InMemoryTranscriptStore:
    """A TranscriptStore in a dict, for unit tests."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], TranscriptLine] = {}

    async def add(self, line: TranscriptLine) -> None:
        self.rows[(line.call_connection_id, line.row_key)] = line

    async def lines(self, call_connection_id: str) -> list[TranscriptLine]:
        return [line for (call, _), line in sorted(self.rows.items()) if call == call_connection_id]


class TableTranscriptStore:
    """A TranscriptStore on one Azure Table (azure.data.tables.aio TableClient)."""

    def __init__(self, table: TableClient) -> None:
        self._table = table

    async def add(self, line: TranscriptLine) -> None:
        await self._table.upsert_entity(line.to_entity(), mode=UpdateMode.REPLACE)

    async def lines(self, call_connection_id: str) -> list[TranscriptLine]:
        rows = self._table.query_entities("PartitionKey eq @call", parameters={"call": table_key(call_connection_id)})
        # Table Storage returns a partition in RowKey order, which is speaking order.
        return [TranscriptLine.from_entity(row) async for row in rows]
