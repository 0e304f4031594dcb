"""One recording session: its options, the active/paused/stopped state machine and the intervals it records."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from ..clock import Clock
from ..errors import AcsError
from ..models import CallConnection, ServerCall

ACTIVE, PAUSED, STOPPED = "active", "paused", "stopped"
# The REST API and RecordingStateChanged only know active and inactive.
WIRE_STATE = {ACTIVE: "active", PAUSED: "inactive", STOPPED: "inactive"}
# (state, action) -> next state. Pausing a paused recording or resuming an active one is accepted and changes
# nothing (guess: the docs don't say; 202 without an event keeps retrying apps simple). Stopped recordings are
# gone from the REST API (404), so no action starts from STOPPED.
TRANSITIONS: dict[tuple[str, str], str] = {
    (ACTIVE, "pause"): PAUSED,
    (PAUSED, "pause"): PAUSED,
    (ACTIVE, "resume"): ACTIVE,
    (PAUSED, "resume"): ACTIVE,
    (ACTIVE, "stop"): STOPPED,
    (PAUSED, "stop"): STOPPED,
}
CALL_ENDED = "CallEnded"
# Guess: only "CallEnded" and "InitiatorLeft" are documented sessionEndReason values.
STOPPED_BY_APP = "StopRecordingRequested"


def new_recording_id(platform_endpoint_id: str) -> str:
    """Unpadded base64url of the JSON pair real recording ids decode to (contract §1.6)."""
    pair = {"PlatformEndpointId": platform_endpoint_id, "ResourceSpecificId": str(uuid.uuid4())}
    raw = json.dumps(pair, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class RecordingOptions:
    content_type: str = "audioVideo"
    channel_type: str = "mixed"
    format_type: str = "mp4"
    state_callback_uri: str | None = None
    pause_on_start: bool = False
    channel_affinity: tuple[tuple[int, str], ...] = ()  # (channel, participant raw id)
    participant_ordering: tuple[str, ...] = ()
    container_url: str | None = None  # bring-your-own-storage; None keeps the file in the emulator


@dataclass
class RecordingFile:
    """Where the finished recording landed (or why it could not be stored)."""

    content_location: str | None = None
    metadata_location: str | None = None
    delete_location: str | None = None
    document_id: str = field(default_factory=lambda: f"0-emu-d0-{uuid.uuid4().hex}")
    wav: bytes | None = None  # kept only when the emulator itself stores the file
    metadata: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class Recording:
    recording_id: str
    call: ServerCall
    owner: CallConnection
    options: RecordingOptions
    clock: Clock
    start_time: str = field(default_factory=Clock.timestamp)
    state: str = ACTIVE
    end_reason: str | None = None
    participants: list[str] = field(default_factory=list)
    file: RecordingFile | None = None
    _started: float = 0.0
    _ended: float | None = None
    _spans: list[list[float | None]] = field(default_factory=list)  # active [start, end] in emulated s from start

    def __post_init__(self) -> None:
        self._started = self.clock.monotonic()
        self.state = PAUSED if self.options.pause_on_start else ACTIVE
        if self.state == ACTIVE:
            self._spans.append([0.0, None])
        self.note_participants()

    @property
    def wire_state(self) -> str:
        return WIRE_STATE[self.state]

    @property
    def is_stopped(self) -> bool:
        return self.state == STOPPED

    def apply(self, action: str) -> bool:
        """Move the state machine; True when the active/inactive state the app sees changed."""
        next_state = TRANSITIONS.get((self.state, action))
        if next_state is None:
            raise AcsError(400, 8585, f"Cannot {action} a recording that is {self.state}.")
        before = self.wire_state
        now = self._now()
        if self.state != ACTIVE and next_state == ACTIVE:
            self._spans.append([now, None])
        if self.state == ACTIVE and next_state != ACTIVE:
            self._spans[-1][1] = now
        if next_state == STOPPED:
            self._ended = now
        self.state = next_state
        return self.wire_state != before

    def note_participants(self) -> None:
        """Remember everyone who was in the call while recording (app legs excluded), in order of arrival."""
        for person in self.call.people():
            if person.identifier.raw_id not in self.participants:
                self.participants.append(person.identifier.raw_id)

    def length_seconds(self) -> float:
        return self._ended if self._ended is not None else self._now()

    def active_intervals(self) -> list[tuple[float, float]]:
        """Active spans as (start, end) emulated seconds from the start; an open span ends now."""
        now = self.length_seconds()
        return [(start, now if end is None else end) for start, end in self._spans]  # type: ignore[misc]

    def paused_intervals(self) -> list[tuple[float, float]]:
        """The complement of the active spans within the recording's length."""
        gaps, cursor = [], 0.0
        for start, end in self.active_intervals():
            if start > cursor:
                gaps.append((cursor, start))
            cursor = end
        length = self.length_seconds()
        if length > cursor:
            gaps.append((cursor, length))
        return gaps

    def channel_of(self, raw_id: str) -> int:
        """Unmixed channel of a participant: its channelAffinity, else audioChannelParticipantOrdering, else arrival."""
        pinned = {participant: channel for channel, participant in self.options.channel_affinity}
        if raw_id in pinned:
            return pinned[raw_id]
        ordered = [*self.options.participant_ordering, *self.participants]
        unpinned = list(dict.fromkeys(p for p in ordered if p not in pinned))
        free = [c for c in range(len(unpinned) + len(pinned)) if c not in pinned.values()]
        return free[unpinned.index(raw_id)]

    def _now(self) -> float:
        return self.clock.monotonic() - self._started


def interval_models(intervals: list[tuple[float, float]]) -> list[dict[str, int]]:
    """[(start, end)] seconds -> [{"startMs", "endMs"}], the emulator's interval shape on the wire."""
    return [{"startMs": round(start * 1000), "endMs": round(end * 1000)} for start, end in intervals]
