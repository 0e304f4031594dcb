"""Hold and Unhold (contract §1.3 rows 19-20): isOnHold in ParticipantsUpdated, looping hold music and its events.

With a play source the live service reports the hold audio: HoldAudioStarted once it plays, HoldAudioPaused and
HoldAudioResumed around a prompt played to the held participant, and HoldAudioCompleted 400/8508 ("the operation
was canceled") on unhold. A play to one participant who is not on hold holds them for the prompt (isOnHold true,
then false once it ends).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from ..events import result_for
from ..models import CallConnection, Participant
from ..operations import ApiRequest
from ..validation import optional
from .engine import media_state
from .shared import (
    PLAY_STARTED,
    accepted,
    connected_leg,
    operation_callback_uri,
    operation_context,
    participant_in_call,
    require_speech_service,
    until_canceled,
)
from .sources import PlayFailure, PlaySource, parse_play_source, total_duration

HOLD_AUDIO_STORE = "hold_audio"


@dataclass
class HoldAudio:
    """Hold music playing to one participant, and where its events go."""

    operation_context: str | None
    callback_uri: str | None
    started: bool = False

    def emit(self, connection: CallConnection, event_type: str, result: tuple[int, int, str]) -> None:
        connection.emit(
            event_type, operation_context=self.operation_context, callback_uri=self.callback_uri, result=result
        )


def hold_audio(connection: CallConnection) -> dict[str, HoldAudio]:
    """Raw id -> the hold audio playing to them on this leg."""
    return connection.extensions.setdefault(HOLD_AUDIO_STORE, {})


async def hold(request: ApiRequest) -> web.Response:
    connection = connected_leg(request)
    body = request.body
    participant = participant_in_call(connection.call, body.get("targetParticipant"), "targetParticipant")
    info = optional(body, "playSourceInfo", dict)
    music = parse_play_source(info, "playSourceInfo") if info is not None else None
    require_speech_service(connection, music is not None and music.needs_speech_service)
    set_on_hold(connection, participant, True)
    raw_id = participant.identifier.raw_id
    state = media_state(connection)
    hold_audio(connection).pop(raw_id, None)
    if music is None:
        state.stop_hold_music(raw_id)
    else:
        audio = hold_audio(connection)[raw_id] = HoldAudio(operation_context(body), operation_callback_uri(body))
        state.play_hold_music(raw_id, play_hold_music(connection, music, audio))
    return accepted(connection, 200)


async def unhold(request: ApiRequest) -> web.Response:
    connection = connected_leg(request)
    participant = participant_in_call(connection.call, request.body.get("targetParticipant"), "targetParticipant")
    media_state(connection).stop_hold_music(participant.identifier.raw_id)
    audio = hold_audio(connection).pop(participant.identifier.raw_id, None)
    if audio is not None and audio.started:
        audio.emit(connection, "HoldAudioCompleted", result_for("PlayCanceled", 8508))
    set_on_hold(connection, participant, False)
    return accepted(connection, 200)


def set_on_hold(connection: CallConnection, participant: Participant, on_hold: bool) -> None:
    if participant.is_on_hold != on_hold:
        participant.is_on_hold = on_hold
        connection.call.timeline.add("emulator", f"{participant.identifier.raw_id} {'held' if on_hold else 'resumed'}")
        connection.call.broadcast_participants()


async def play_hold_music(connection: CallConnection, music: PlaySource, audio: HoldAudio) -> None:
    """Loop the music until unhold; a source that cannot be played is a HoldFailed (the participant stays held)."""
    try:
        await total_duration([music], connection.backend.callbacks.session)
    except PlayFailure as failure:
        connection.emit(
            "HoldFailed", operation_context=audio.operation_context, callback_uri=audio.callback_uri,
            result=failure.result,
        )  # fmt: skip
        return
    audio.started = True
    audio.emit(connection, "HoldAudioStarted", PLAY_STARTED)
    await until_canceled()


def hold_for_prompt(connection: CallConnection, audience: list[Participant]) -> list[Participant]:
    """Before a play to these participants: hold those not on hold, pause the hold audio of those who are.

    Returns the participants held for the prompt, for release_after_prompt().
    """
    held = []
    for participant in audience:
        audio = hold_audio(connection).get(participant.identifier.raw_id)
        if participant.is_on_hold and audio is not None and audio.started:
            audio.emit(connection, "HoldAudioPaused", PLAY_STARTED)
        elif not participant.is_on_hold:
            set_on_hold(connection, participant, True)
            held.append(participant)
    return held


def release_after_prompt(connection: CallConnection, audience: list[Participant], held: list[Participant]) -> None:
    """After the prompt: resume paused hold audio, and take off hold whoever was held only for it."""
    if connection.state != "connected":
        return
    for participant in audience:
        audio = hold_audio(connection).get(participant.identifier.raw_id)
        if participant not in held and audio is not None and audio.started and participant.state == "connected":
            audio.emit(connection, "HoldAudioResumed", PLAY_STARTED)
    for participant in held:
        if participant.state == "connected":
            set_on_hold(connection, participant, False)
