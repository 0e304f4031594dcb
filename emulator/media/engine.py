"""Media state of one app leg: the main FIFO queue, the sub-leg operation, continuous DTMF and hold music."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import AcsError
from ..events import result_for
from ..models import CallConnection, ServerCall
from .compatibility import LANE, Kind, Lane, first_conflict

Heard = tuple[str, str]  # ("tone", "one") or ("speech", "what the person said")


@dataclass
class Listening:
    """What a running recognize hears: inputs of the kinds it accepts from the one participant it targets."""

    participant: str
    accepts: frozenset[str]
    inputs: asyncio.Queue[Heard] = field(default_factory=asyncio.Queue)


@dataclass(eq=False)
class MediaOperation:
    """One play, recognize or send-DTMF request, from admission until its last event."""

    kind: Kind
    connection: CallConnection
    body: Callable[[MediaOperation], Awaitable[None]]
    canceled_event: str | None  # PlayCanceled / RecognizeCanceled; None: cancel-all leaves it alone (SendDTMF)
    operation_context: str | None = None
    callback_uri: str | None = None
    targets: frozenset[str] = frozenset()  # raw ids it plays to or listens to; empty means everyone
    listening: Listening | None = None
    phase: str = "queued"  # queued | preparing | prompt | playing | listening | sending
    task: asyncio.Task | None = None

    def emit(self, event_type: str, result: tuple[int, int, str] | None, **data: Any) -> None:
        """Send one of this operation's events to its operationCallbackUri (else the call's) with its context."""
        self.connection.emit(
            event_type,
            data=data,
            operation_context=self.operation_context,
            callback_uri=self.callback_uri,
            result=result,
        )


@dataclass
class Subscription:
    """Continuous DTMF recognition for one participant."""

    operation_context: str | None
    callback_uri: str | None


def precondition_failed(new: Kind, existing: Kind) -> AcsError:
    # Contract §7.2 leaves 412/8583 vs 400/8500 open; 8583 is the code the docs tie to this table.
    return AcsError(
        412,
        8583,
        f"Precondition failed: {new} cannot run or queue while {existing} is running or queued "
        "on this call (see the media action compatibility table).",
    )


class MediaState:
    """Which media operations a call leg has running or queued, and the rules for admitting, cancelling, dropping."""

    def __init__(self, connection: CallConnection) -> None:
        self.connection = connection
        self.main: deque[MediaOperation] = deque()  # the head is running, the rest wait their turn
        self.sub: MediaOperation | None = None
        self.continuous: dict[str, Subscription] = {}
        self.hold_music: dict[str, asyncio.Task] = {}
        self.tone_sequence = 0

    def operations(self) -> list[MediaOperation]:
        return [*self.main, *([self.sub] if self.sub else [])]

    def to_view(self) -> dict[str, Any]:
        """What the control API shows for this leg's media (GET /emulator/calls/{id})."""
        return {
            "operations": [{"kind": op.kind.value, "phase": op.phase, "operationContext": op.operation_context,
                            "targets": sorted(op.targets)} for op in self.operations()],
            "continuousDtmf": sorted(self.continuous),
            "holdMusic": sorted(self.hold_music),
            "dtmfHeard": heard_tones(self.connection.call),
        }  # fmt: skip

    def existing_kinds(self) -> list[Kind]:
        kinds = [op.kind for op in self.operations()]
        return [*kinds, Kind.CONTINUOUS_DTMF] if self.continuous else kinds

    def admit(self, kind: Kind) -> None:
        """Raise 412/8583 unless the compatibility table lets `kind` run or queue now."""
        conflict = first_conflict(self.existing_kinds(), kind)
        if conflict is not None:
            raise precondition_failed(kind, conflict)

    def submit(self, op: MediaOperation, *, interrupt: bool = False) -> None:
        """Admit `op`, then run it at once (sub lane) or queue it (main lane); `interrupt` cancels the main head."""
        self.admit(op.kind)
        if interrupt and self.main:
            self._cancel(self.main.popleft(), announce=True)
        if LANE[op.kind] is Lane.SUB:
            self.sub = op
            self._start(op)
        elif interrupt:
            self.main.appendleft(op)
        else:
            self.main.append(op)
        self._advance()

    def cancel_all(self) -> None:
        """CancelAllMediaOperations: one Canceled event per running or queued play/recognize."""
        canceled = [op for op in self.operations() if op.canceled_event]
        for op in canceled:
            self._remove(op)
        for op in canceled:
            self._cancel(op, announce=True)
        self._advance()

    def drop_for(self, raw_id: str, still_present: set[str]) -> None:
        """A participant left: what only they could hear or say ends without a word, as on the real service."""
        for op in [op for op in self.operations() if op.targets and not op.targets & still_present]:
            self._remove(op)
            self._cancel(op, announce=False)
        self.continuous.pop(raw_id, None)
        self.stop_hold_music(raw_id)
        self._advance()

    def drop_all(self) -> None:
        """The leg ended: pending media goes silently (nothing may follow CallDisconnected)."""
        dropped = self.operations()
        self.main.clear()
        self.sub = None
        for op in dropped:
            self._cancel(op, announce=False)
        self.continuous.clear()
        for raw_id in list(self.hold_music):
            self.stop_hold_music(raw_id)

    def hear(self, raw_id: str, heard: Heard) -> None:
        """Hand a tone or a phrase to every running recognize listening to that participant for that kind."""
        for op in self.operations():
            ear = op.listening
            if op.task is not None and ear and ear.participant == raw_id and heard[0] in ear.accepts:
                ear.inputs.put_nowait(heard)

    def play_hold_music(self, raw_id: str, music: Awaitable[None]) -> None:
        self.stop_hold_music(raw_id)
        self.hold_music[raw_id] = self.connection.backend.spawn(music)

    def stop_hold_music(self, raw_id: str) -> None:
        task = self.hold_music.pop(raw_id, None)
        if task is not None:
            task.cancel()

    def _start(self, op: MediaOperation) -> None:
        op.phase = "preparing"
        op.task = self.connection.backend.spawn(self._run(op))

    async def _run(self, op: MediaOperation) -> None:
        try:
            await op.body(op)
        finally:
            self._remove(op)
            self._advance()

    def _remove(self, op: MediaOperation) -> None:
        if op in self.main:
            self.main.remove(op)
        if self.sub is op:
            self.sub = None

    def _advance(self) -> None:
        if self.main and self.main[0].task is None:
            self._start(self.main[0])

    @staticmethod
    def _cancel(op: MediaOperation, *, announce: bool) -> None:
        if announce and op.canceled_event:
            op.emit(op.canceled_event, result_for(op.canceled_event, 8508))
        if op.task is not None:
            op.task.cancel()


def media_state(connection: CallConnection) -> MediaState:
    """The leg's media state, created on first use (it lives in connection.extensions["media"])."""
    state = connection.extensions.get("media")
    if state is None:
        state = connection.extensions["media"] = MediaState(connection)
    return state


def heard_tones(call: ServerCall) -> dict[str, list[str]]:
    """Raw id -> every tone the app sent that participant with SendDtmfTones, in order (kept per call)."""
    return call.backend.store("media.dtmf_heard").setdefault(call.server_call_id, {})
