"""Recording policy: record the calls of RECORDING_ENABLED_FLOWS from their first step to the end, note every state
change ACS reports, and pause while the call is at one of its flow's sensitive steps.

The note on the call's data (data["recording"]): start (the StartRecording request, kept so it can be replayed to
learn the recording id), id (from RecordingStateChanged or the API), state (as ACS last reported it), wanted (what
the app or an agent asked for outside sensitive input), sensitive (paused for sensitive input right now), stopped
(by the API), error, history. The recording stops by itself when the call ends; the HTTP API can stop it earlier.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from handlers.policies.call_notes import Note, note_of, with_history
from shared.acs import ActionResult, RecordingNotStarted
from shared.actions import Action, PauseRecording, ResumeRecording, StartRecording, action_from_dict
from shared.context import Context
from shared.engine import Next, Policy, Transition, Turn, update_data
from shared.events import RecordingEvent, event_types_of
from shared.logging import call_logger, short_id
from shared.recordings import RecordingOptions, RecordingOwner
from shared.settings import Settings
from shared.state import ANSWERING, ENDED, CallState, http_date

logger = logging.getLogger(__name__)

RECORDING = "recording"
ACTIVE = "active"
PAUSED = "paused"
# Steps before a call is connected: leaving one of them starts the recording.
FIRST_STEPS = frozenset({ANSWERING, "dialling"})


def recording_note(state: CallState) -> Note:
    return note_of(state.data, RECORDING)


def is_live(note: Note) -> bool:
    """Whether the note names a recording (started, or known by id) that has not been stopped."""
    return bool(note.get("id") or note.get("start")) and not note.get("stopped")


def start_action(
    settings: Settings, state: CallState, options: RecordingOptions, *, key: str, now_http: str
) -> StartRecording:
    """The StartRecording request for a call, with its own Repeatability-Request-ID key and first-sent time."""
    return StartRecording(
        callback_url=settings.callback_url,
        repeatability_key=key,
        first_sent=now_http,
        content=options.content,
        channel=options.channel,
        format=options.format,
        pause_on_start=options.pause_on_start,
        container_url=options.container_url,
        caller_channel=options.caller_channel,
    )


def started(note: Note, start: StartRecording, recording_id: str = "") -> Note:
    """A note for a recording that has just been requested (and its id, when already known)."""
    return {
        **note,
        "start": start.to_dict(),
        "id": recording_id or None,
        "wanted": PAUSED if start.pause_on_start else ACTIVE,
        "error": None,
    }


async def record(turn: Turn, inner: Next) -> Transition | None:
    """Note recording events; start recording as a recorded call leaves its first step; pause around sensitive steps."""
    transition = await inner(turn)
    if isinstance(turn.event, RecordingEvent):
        return noted(turn, transition or turn.stay())
    if transition is None or transition.step == ENDED:
        return transition
    state = turn.state
    if state.step in FIRST_STEPS and transition.step not in FIRST_STEPS:
        transition = start_if_recorded(turn, transition)
    sensitive = turn.flow.sensitive_steps
    if transition.step in sensitive and state.step not in sensitive:
        return pause_for_sensitive_input(turn, transition)
    if state.step in sensitive and transition.step not in sensitive:
        return resume_after_sensitive_input(turn, transition)
    return transition


POLICY = Policy(record, event_types=event_types_of(RecordingEvent))


def start_if_recorded(turn: Turn, transition: Transition) -> Transition:
    """transition, followed by starting the recording if the policy records this flow and nothing is recording yet.

    It goes after the flow's own actions, so the caller hears the greeting without waiting for it; a sensitive step
    cannot be reached before this claim's actions have all been sent.
    """
    settings, state = turn.settings, turn.state
    if state.flow not in settings.recording_enabled_flows or is_live(recording_note(state)):
        return transition
    options = RecordingOptions.from_settings(settings, caller=state.data.get("caller"))
    start = start_action(
        settings, state, options, key=f"{state.call_connection_id}/recording", now_http=http_date(turn.now)
    )
    call_logger(logger, turn.event).info("Recording the %s call", state.flow)
    return transition.then(start).with_data(**{RECORDING: started(recording_note(state), start)})


def current_note(turn: Turn, transition: Transition) -> Note:
    """The recording note as this transition leaves it (it may have just started the recording)."""
    return dict((transition.data or {}).get(RECORDING) or recording_note(turn.state))


def start_of(note: Note) -> StartRecording | None:
    start = note.get("start")
    action = action_from_dict({"kind": StartRecording.kind, **start}) if start else None
    return action if isinstance(action, StartRecording) else None


def pause_for_sensitive_input(turn: Turn, transition: Transition) -> Transition:
    """transition, preceded by pausing the call's recording: the caller is about to key what must not be recorded.

    Pausing a paused recording changes nothing, so the pause is issued whatever ACS last reported.
    """
    note = current_note(turn, transition)
    if not is_live(note):
        return transition
    pause = PauseRecording(recording_id=note.get("id") or "", start=start_of(note))
    return transition.first(pause).with_data(**{RECORDING: {**note, "sensitive": True}})


def resume_after_sensitive_input(turn: Turn, transition: Transition) -> Transition:
    """transition, preceded by resuming the recording paused for sensitive input, unless it was wanted paused."""
    note = current_note(turn, transition)
    if not note.get("sensitive"):
        return transition
    if is_live(note) and note.get("wanted", ACTIVE) == ACTIVE:
        transition = transition.first(ResumeRecording(recording_id=note.get("id") or "", start=start_of(note)))
    return transition.with_data(**{RECORDING: {**note, "sensitive": False}})


async def after_issue(ctx: Context, state: CallState, action: Action, result: ActionResult) -> None:
    """Once a StartRecording is sent: index which call the recording belongs to, or keep why ACS refused it."""
    if not isinstance(action, StartRecording):
        return
    if isinstance(result, RecordingNotStarted):
        error = result.message
        await update_data(ctx, state.call_connection_id, lambda current: not_started(current, error))
    elif isinstance(result, str):
        await ctx.recordings.put_owner(owner(state, result))


def not_started(state: CallState, error: str) -> Note:
    """A refused start: nothing is recording, and the note says why."""
    return {RECORDING: {**recording_note(state), "error": error, "start": None}}


def owner(state: CallState, recording_id: str) -> RecordingOwner:
    return RecordingOwner(
        recording_id=recording_id,
        call_connection_id=state.call_connection_id,
        correlation_id=state.data.get("correlation_id", ""),
    )


def noted(turn: Turn, transition: Transition) -> Transition:
    """RecordingStateChanged: the recording's id and state. StartRecordingFailed: the failure; the call goes on."""
    event = turn.event
    assert isinstance(event, RecordingEvent)
    log = call_logger(logger, event)
    note = current_note(turn, transition)
    if note.get("id") not in (None, event.recording_id):
        log.info("Recording %s is %s (an earlier recording of the call)", short_id(event.recording_id), event.state)
        return transition
    if event.type == "StartRecordingFailed":
        result = event.result
        log.error(
            "Recording %s failed to start: %s/%s %s",
            short_id(event.recording_id),
            result.code,
            result.sub_code,
            result.message,
        )
        failure = f"{result.code}/{result.sub_code} {result.message}"
        note = with_history({**note, "state": "failed", "error": failure}, [event.time, "failed"])
    else:
        log.info("Recording %s is %s", short_id(event.recording_id), event.state)
        note = with_history({**note, "id": event.recording_id, "state": event.state}, [event.time, event.state])
    return replace(transition, data={**(transition.data or {}), RECORDING: note})
