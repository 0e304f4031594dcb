"""What every handler receives besides the event: settings, the state store, ACS and reference data."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from shared.lookup import InMemoryLookup, Lookup
from shared.pairings import InMemoryPairings, Pairings
from shared.recordings import InMemoryRecordingIndex, RecordingIndex
from shared.settings import Settings
from shared.state import StateStore
from shared.transcripts import InMemoryTranscriptStore, TranscriptStore

if TYPE_CHECKING:
    from shared.acs import Acs


def utc_now() -> datetime:
    return datetime.now(UTC)


# Who holds a claim's lease: unique per process, readable in logs (host, pid, a random suffix for restarts).
INSTANCE_ID = f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, kw_only=True)
class Context:
    settings: Settings
    state: StateStore
    acs: Acs
    routing_rules: Lookup
    orders: Lookup
    clock: Callable[[], datetime] = field(default=utc_now)
    instance_id: str = INSTANCE_ID
    # In-memory defaults serve unit tests; clients.build_context always passes the Table Storage ones.
    reminders: Lookup = field(default_factory=InMemoryLookup)
    pairings: Pairings = field(default_factory=InMemoryPairings)
    recordings: RecordingIndex = field(default_factory=InMemoryRecordingIndex)
    transcripts: TranscriptStore = field(default_factory=InMemoryTranscriptStore)
