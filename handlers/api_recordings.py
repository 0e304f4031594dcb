"""HTTP API, recording: start, pause, resume and stop a call's recording, and list its finished recordings.

A recording paused for sensitive input (the IVR's card number) cannot be resumed or restarted from here until
the caller has finished keying: an agent desktop must not record card digits by accident.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from azure.core.exceptions import HttpResponseError

from handlers.policies import recording
from handlers.policies.call_notes import Note
from shared.api import ApiRequest, NotFound, Reply, call_id
from shared.context import Context
from shared.engine import update_data
from shared.errors import AppError, BadRequest
from shared.recordings import RecordingOptions
from shared.settings import CHANNELS, RECORDING_COMBINATIONS, RECORDING_CONTENTS, RECORDING_FORMATS
from shared.state import CallState, http_date
from shared.validation import Body

# ACS's subcode for "a recording is already in progress for this call".
ALREADY_RECORDING = "8559"


class Conflict(AppError):
    """The call is not in a state that allows the request; the message says why."""

    status = 409


async def known_call(request: ApiRequest, ctx: Context) -> CallState:
    """The state of the call in the route, or 404: recordings are noted on the app's state of the call."""
    call = call_id(request)
    state = (await ctx.state.load(call)).state
    if state is None:
        raise NotFound(f"call {call} is not known to this app")
    return state


def live_recording(state: CallState) -> Note:
    note = recording.recording_note(state)
    if not recording.is_live(note):
        raise Conflict(f"call {state.call_connection_id} is not being recorded; start a recording first")
    return note


def refuse_while_sensitive(note: Note, state: CallState, what: str) -> None:
    if note.get("sensitive"):
        raise Conflict(f"cannot {what} now: the caller on call {state.call_connection_id} is keying sensitive digits")


def parse_options(body: Body, ctx: Context, caller: str | None) -> RecordingOptions:
    """The policy's options (RECORDING_* settings), overridden by content, channel, format and pauseOnStart."""
    defaults = RecordingOptions.from_settings(ctx.settings, caller=caller)
    content = choice(body, "content", RECORDING_CONTENTS) or defaults.content
    channel = choice(body, "channel", CHANNELS) or defaults.channel
    format_ = choice(body, "format", RECORDING_FORMATS) or defaults.format
    if (content, channel, format_) not in RECORDING_COMBINATIONS:
        raise Conflict(f"ACS cannot record {channel} {content} as {format_} (mixed audio: wav or mp3; unmixed: wav)")
    return RecordingOptions(
        content=content,
        channel=channel,
        format=format_,
        pause_on_start=body.boolean("pauseOnStart", default=defaults.pause_on_start),
        container_url=defaults.container_url,
        caller_channel=defaults.caller_channel if channel == "unmixed" else None,
    )


def choice(body: Body, name: str, options: tuple[str, ...]) -> str | None:
    value = body.text(name, max_length=20)
    if value is not None and value not in options:
        raise BadRequest(f"{body.path(name)} must be one of {', '.join(options)}")
    return value


async def start(request: ApiRequest, ctx: Context) -> Reply:
    """POST /calls/{callId}/recording: start recording (409 if the call is already being recorded)."""
    state = await known_call(request, ctx)
    note = recording.recording_note(state)
    if recording.is_live(note):
        raise Conflict(f"call {state.call_connection_id} is already being recorded (recording {note['id']})")
    options = parse_options(request.body, ctx, state.data.get("caller"))
    key = request.idempotency_key or str(uuid.uuid4())
    start = recording.start_action(
        ctx.settings,
        state,
        options,
        key=f"{state.call_connection_id}/recording/api/{key}",
        now_http=http_date(ctx.clock()),
    )
    try:
        recording_id = await ctx.acs.start_recording(start, state.call_connection_id)
    except HttpResponseError as exc:
        if getattr(exc.error, "code", None) == ALREADY_RECORDING:
            raise Conflict(f"call {state.call_connection_id} is already being recorded: {exc.message}") from exc
        raise
    await ctx.recordings.put_owner(recording.owner(state, recording_id))
    # A new note, forgetting the recording before it (which has stopped), but not its history.
    await save_note(ctx, state, lambda old: recording.started({"history": old.get("history", [])}, start, recording_id))
    return Reply(202, {"recordingId": recording_id, "pausedOnStart": options.pause_on_start})


async def save_note(ctx: Context, state: CallState, update: Callable[[Note], Note]) -> None:
    """Replace the call's recording note with update(note), under the state's ETag."""
    await update_data(
        ctx, state.call_connection_id, lambda current: {recording.RECORDING: update(recording.recording_note(current))}
    )


async def live_recording_id(ctx: Context, state: CallState) -> tuple[str, Note]:
    """The id of the call's live recording (409 if none), and its note.

    A recording the policy started whose RecordingStateChanged has not arrived yet is known only by its request:
    replaying that request (same Repeatability-Request-ID) makes ACS answer with the recording's id.
    """
    current = live_recording(state)
    recording_id = current.get("id")
    start = recording.start_of(current)
    if not recording_id and start is not None:
        recording_id = await ctx.acs.start_recording(start, state.call_connection_id)
    if not recording_id:
        raise Conflict(f"call {state.call_connection_id} has no recording id yet; try again in a moment")
    return recording_id, current


async def pause(request: ApiRequest, ctx: Context) -> Reply:
    """POST /calls/{callId}/recording/pause: pause until resumed (sensitive-input pauses do not resume it)."""
    state = await known_call(request, ctx)
    recording_id, _ = await live_recording_id(ctx, state)
    await ctx.acs.client.pause_recording(recording_id)
    await save_note(ctx, state, wanted(recording.PAUSED))
    return Reply(202, {"recordingId": recording_id, "wanted": recording.PAUSED})


async def resume(request: ApiRequest, ctx: Context) -> Reply:
    """POST /calls/{callId}/recording/resume: resume, unless the caller is keying sensitive digits (409)."""
    state = await known_call(request, ctx)
    refuse_while_sensitive(live_recording(state), state, "resume the recording")
    recording_id, _ = await live_recording_id(ctx, state)
    await ctx.acs.client.resume_recording(recording_id)
    await save_note(ctx, state, wanted(recording.ACTIVE))
    return Reply(202, {"recordingId": recording_id, "wanted": recording.ACTIVE})


async def stop(request: ApiRequest, ctx: Context) -> Reply:
    """DELETE /calls/{callId}/recording: stop; the file is indexed once ACS reports it ready."""
    state = await known_call(request, ctx)
    recording_id, _ = await live_recording_id(ctx, state)
    await ctx.acs.client.stop_recording(recording_id)
    await save_note(ctx, state, lambda current: {**current, "stopped": True})
    return Reply(204)


def wanted(value: str) -> Callable[[Note], Note]:
    return lambda note: {**note, "wanted": value}


async def list_recordings(request: ApiRequest, ctx: Context) -> Reply:
    """GET /calls/{callId}/recordings: the call's finished recordings, and the one in progress if any."""
    call = call_id(request)
    state = (await ctx.state.load(call)).state
    finished = await ctx.recordings.list(call)
    if state is None and not finished:
        raise NotFound(f"call {call} is not known to this app")
    note = recording.recording_note(state) if state else {}
    current = {key: note.get(key) for key in ("id", "state", "wanted", "sensitive", "error")} if note else None
    return Reply(200, {"callConnectionId": call, "current": current, "recordings": [r.to_json() for r in finished]})
