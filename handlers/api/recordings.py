"""HTTP API, recording: start, pause, resume and stop a call's recording, and list its finished recordings.

A recording paused for sensitive input (the IVR's card number) cannot be resumed or restarted from here until
the caller has finished keying: an agent desktop must not record card digits by accident. Pausing, resuming and
stopping go through Acs.change_recording, the path the recording policy uses too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from azure.core.exceptions import HttpResponseError

from handlers.policies import recording
from handlers.policies.call_notes import Note
from shared.acs import RecordingChange
from shared.api_runtime import ApiModel
from shared.context import Context
from shared.engine import update_data
from shared.errors import Conflict, NotFound
from shared.recordings import RecordingOptions
from shared.settings import CHANNELS, RECORDING_COMBINATIONS, RECORDING_CONTENTS, RECORDING_FORMATS
from shared.state import CallState, http_date
from shared.validation import Flag, choice_rule

# ACS's subcode for "a recording is already in progress for this call".
ALREADY_RECORDING = "8559"


async def known_call(ctx: Context, call_id: str) -> CallState:
    """The state of the call, or 404: recordings are noted on the app's state of the call."""
    state = (await ctx.state.load(call_id)).state
    if state is None:
        raise NotFound(f"call {call_id} is not known to this app")
    return state


def live_recording(state: CallState) -> Note:
    note = recording.recording_note(state)
    if not recording.is_live(note):
        raise Conflict(f"call {state.call_connection_id} is not being recorded; start a recording first")
    return note


class StartRecordingRequest(ApiModel):
    """The policy's options (RECORDING_* settings), overridden field by field."""

    content: Annotated[str, choice_rule(RECORDING_CONTENTS)] | None = None
    channel: Annotated[str, choice_rule(CHANNELS)] | None = None
    format: Annotated[str, choice_rule(RECORDING_FORMATS)] | None = None
    pause_on_start: Flag | None = None

    def options(self, ctx: Context, caller: str | None) -> RecordingOptions:
        defaults = RecordingOptions.from_settings(ctx.settings, caller=caller)
        content = self.content or defaults.content
        channel = self.channel or defaults.channel
        format_ = self.format or defaults.format
        if (content, channel, format_) not in RECORDING_COMBINATIONS:
            raise Conflict(
                f"ACS cannot record {channel} {content} as {format_} (mixed audio: wav or mp3; unmixed: wav)"
            )
        return RecordingOptions(
            content=content,
            channel=channel,
            format=format_,
            pause_on_start=defaults.pause_on_start if self.pause_on_start is None else self.pause_on_start,
            container_url=defaults.container_url,
            caller_channel=defaults.caller_channel if channel == "unmixed" else None,
        )


class RecordingStarted(ApiModel):
    recording_id: str
    paused_on_start: bool


async def start_recording(
    ctx: Context, call_id: str, body: StartRecordingRequest, idempotency_key: str | None
) -> RecordingStarted:
    """Start recording (the flow's policy, options overridable; 409 if the call is already being recorded)."""
    state = await known_call(ctx, call_id)
    note = recording.recording_note(state)
    if recording.is_live(note):
        raise Conflict(f"call {call_id} is already being recorded (recording {note['id']})")
    options = body.options(ctx, state.data.get("caller"))
    key = idempotency_key or str(uuid.uuid4())
    start = recording.start_action(
        ctx.settings, state, options, key=f"{call_id}/recording/api/{key}", now_http=http_date(ctx.clock())
    )
    try:
        recording_id = await ctx.acs.start_recording(call_id, start)
    except HttpResponseError as exc:
        if getattr(exc.error, "code", None) == ALREADY_RECORDING:
            raise Conflict(f"call {call_id} is already being recorded: {exc.message}") from exc
        raise
    await ctx.recordings.put_owner(recording.owner(state, recording_id))
    # A new note, forgetting the recording before it (which has stopped), but not its history.
    await save_note(ctx, state, lambda old: recording.started({"history": old.get("history", [])}, start, recording_id))
    return RecordingStarted(recording_id=recording_id, paused_on_start=options.pause_on_start)


async def save_note(ctx: Context, state: CallState, update: Callable[[Note], Note]) -> None:
    """Replace the call's recording note with update(note), under the state's ETag."""
    await update_data(
        ctx, state.call_connection_id, lambda current: {recording.RECORDING: update(recording.recording_note(current))}
    )


async def change(ctx: Context, state: CallState, how: RecordingChange) -> str:
    """Pause, resume or stop the call's live recording (409 if there is none, or no id for it yet)."""
    note = live_recording(state)
    recording_id = await ctx.acs.change_recording(
        state.call_connection_id, how, note.get("id") or "", recording.start_of(note)
    )
    if recording_id is None:
        raise Conflict(f"call {state.call_connection_id} has no recording id yet; try again in a moment")
    return recording_id


class RecordingWanted(ApiModel):
    recording_id: str
    wanted: str


async def pause_recording(ctx: Context, call_id: str) -> RecordingWanted:
    """Pause the recording until resumed (a pause for sensitive input does not resume it)."""
    state = await known_call(ctx, call_id)
    recording_id = await change(ctx, state, "pause")
    await save_note(ctx, state, wanted(recording.PAUSED))
    return RecordingWanted(recording_id=recording_id, wanted=recording.PAUSED)


async def resume_recording(ctx: Context, call_id: str) -> RecordingWanted:
    """Resume the recording, unless the caller is keying sensitive digits (409)."""
    state = await known_call(ctx, call_id)
    if live_recording(state).get("sensitive"):
        raise Conflict(f"cannot resume the recording now: the caller on call {call_id} is keying sensitive digits")
    recording_id = await change(ctx, state, "resume")
    await save_note(ctx, state, wanted(recording.ACTIVE))
    return RecordingWanted(recording_id=recording_id, wanted=recording.ACTIVE)


async def stop_recording(ctx: Context, call_id: str) -> None:
    """Stop the recording; the file is indexed once ACS reports it ready."""
    state = await known_call(ctx, call_id)
    await change(ctx, state, "stop")
    await save_note(ctx, state, lambda current: {**current, "stopped": True})


def wanted(value: str) -> Callable[[Note], Note]:
    return lambda note: {**note, "wanted": value}


class Recordings(ApiModel):
    call_connection_id: str
    # The recording in progress, if any: id, state, wanted, sensitive, error.
    current: dict[str, Any] | None
    recordings: list[dict[str, Any]]


async def list_recordings(ctx: Context, call_id: str) -> Recordings:
    """The call's finished recordings and their blob locations, and the one in progress if any."""
    state = (await ctx.state.load(call_id)).state
    finished = await ctx.recordings.list(call_id)
    if state is None and not finished:
        raise NotFound(f"call {call_id} is not known to this app")
    note = recording.recording_note(state) if state else {}
    current = {key: note.get(key) for key in ("id", "state", "wanted", "sensitive", "error")} if note else None
    return Recordings(call_connection_id=call_id, current=current, recordings=[r.to_json() for r in finished])
