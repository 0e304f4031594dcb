"""Recording policy: record the calls of RECORDING_ENABLED_FLOWS from connect to end, note every state change,
and pause while the caller keys digits that must not be recorded.

The note on the call's state (data["recording"]): id, state (as ACS last reported it), wanted (what the app or
an agent asked for outside sensitive input), sensitive (paused for sensitive input right now), stopped (by the
API), history.
The recording stops by itself when the call ends (sessionEndReason CallEnded); the HTTP API can stop it earlier.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime

from azure.core.exceptions import HttpResponseError

from shared.actions import PauseRecording, ResumeRecording
from shared.call_notes import Note, Update, note_of, with_history, write_note
from shared.context import Context
from shared.events import CallEvent, RecordingEvent
from shared.flow import Transition, advance
from shared.logging import call_logger
from shared.recordings import RecordingOptions, RecordingOwner
from shared.routing import Router
from shared.state import CallState

logger = logging.getLogger(__name__)

RECORDING = "recording"
ACTIVE = "active"
PAUSED = "paused"

router = Router()


def recording_note(state: CallState) -> Note:
    return note_of(state.data, RECORDING)


def is_live(note: Note) -> bool:
    """Whether the note names a recording that has not stopped."""
    return bool(note.get("id")) and not note.get("stopped")


@router.register("CallConnected")
async def on_call_connected(event: CallEvent, ctx: Context) -> None:
    """Start recording a call whose flow the policy records; once, however often CallConnected arrives.

    This runs before the flow's own CallConnected handler, so the recording id is on the state before the
    caller can reach any step that pauses it.
    """
    settings = ctx.settings
    if not settings.recording_enabled_flows:
        return
    # A decide that changes nothing makes advance() a read that also adopts a call whose CallConnected overtook
    # the IncomingCall handler's state write; None means a call this app does not know (yet).
    state = await advance(event, ctx, decide=lambda state: None)
    if state is None or state.ended or state.flow not in settings.recording_enabled_flows:
        return
    if recording_note(state).get("id"):
        return
    options = RecordingOptions.from_settings(settings, caller=state.data.get("caller"))
    log = call_logger(logger, event)
    try:
        recording_id = await start(
            ctx,
            state,
            options,
            repeatability_key=f"{state.call_connection_id}/recording",
            first_sent=first_sent_of(event.time),
        )
    except HttpResponseError as exc:
        # The flow goes on unrecorded rather than not at all; the failure is on the state for whoever looks.
        error = exc.message
        log.error("Could not start recording the %s call: %s", state.flow, error)
        await write_note(
            ctx,
            event.call_connection_id,
            RECORDING,
            lambda note: {**note, "error": error},
            marker=None,  # a redelivered CallConnected tries again
        )
        return
    log.info("Recording the %s call as %s", state.flow, recording_id)
    await write_note(
        ctx, event.call_connection_id, RECORDING, started(recording_id, options), marker=f"{event.id}/recording"
    )


async def start(
    ctx: Context, state: CallState, options: RecordingOptions, *, repeatability_key: str, first_sent: str
) -> str:
    """Start recording the call and remember which call the recording belongs to; returns the recording id."""
    recording_id = await ctx.acs.start_recording(
        call_connection_id=state.call_connection_id,
        options=options,
        callback_url=ctx.settings.callback_url,
        repeatability_key=repeatability_key,
        first_sent=first_sent,
    )
    owner = RecordingOwner(
        recording_id=recording_id,
        call_connection_id=state.call_connection_id,
        correlation_id=state.data.get("correlation_id", ""),
    )
    await ctx.recordings.put_owner(owner)
    return recording_id


def started(recording_id: str, options: RecordingOptions) -> Update:
    """A note update for a recording that has just been started."""

    def update(note: Note) -> Note:
        return {**note, "id": recording_id, "wanted": PAUSED if options.pause_on_start else ACTIVE, "error": None}

    return update


def first_sent_of(event_time: str) -> str:
    """Repeatability-First-Sent from an event's time: the same on every redelivery of the event."""
    try:
        moment = datetime.fromisoformat(event_time) if event_time else datetime.now(UTC)
    except ValueError:
        moment = datetime.now(UTC)
    return format_datetime((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC), usegmt=True)


@router.register("RecordingStateChanged")
async def on_recording_state_changed(event: RecordingEvent, ctx: Context) -> None:
    """Note the state ACS reports (active or inactive) and when."""
    call_logger(logger, event).info("Recording %s is %s", event.recording_id, event.state)

    def update(note: Note) -> Note:
        if note.get("id") not in (None, event.recording_id):
            return note  # an older recording of this call
        return with_history({**note, "id": event.recording_id, "state": event.state}, [event.time, event.state])

    await write_note(ctx, event.call_connection_id, RECORDING, update, marker=event.id)


@router.register("StartRecordingFailed")
async def on_start_recording_failed(event: RecordingEvent, ctx: Context) -> None:
    """The recording could not start: log it and note it; the call goes on."""
    call_logger(logger, event).error(
        "Recording %s failed to start: %s/%s %s",
        event.recording_id,
        event.result.code,
        event.result.sub_code,
        event.result.message,
    )
    failure = f"{event.result.code}/{event.result.sub_code} {event.result.message}"
    await write_note(
        ctx,
        event.call_connection_id,
        RECORDING,
        lambda note: with_history({**note, "state": "failed", "error": failure}, [event.time, "failed"]),
        marker=event.id,
    )


def pause_for_sensitive_input(state: CallState, transition: Transition) -> Transition:
    """transition, preceded by pausing the call's recording: the caller is about to key what must not be recorded.

    Pausing a paused recording changes nothing, so the pause is issued whatever ACS last reported.
    """
    note = recording_note(state)
    if not is_live(note):
        return transition
    return replace(
        transition,
        actions=(PauseRecording(recording_id=note["id"]), *transition.actions),
        data={**(transition.data or {}), RECORDING: {**note, "sensitive": True}},
    )


def resume_after_sensitive_input(state: CallState, transition: Transition) -> Transition:
    """transition, preceded by resuming the recording paused for sensitive input, unless it was wanted paused."""
    note = recording_note(state)
    if not note.get("sensitive"):
        return transition
    actions = transition.actions
    if is_live(note) and note.get("wanted", ACTIVE) == ACTIVE:
        actions = (ResumeRecording(recording_id=note["id"]), *actions)
    return replace(
        transition, actions=actions, data={**(transition.data or {}), RECORDING: {**note, "sensitive": False}}
    )
