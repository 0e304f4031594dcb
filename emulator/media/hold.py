"""Hold and Unhold (contract §1.3 rows 19-20): isOnHold in ParticipantsUpdated, optional looping hold music."""

from __future__ import annotations

from aiohttp import web

from ..models import CallConnection, Participant
from ..operations import ApiRequest
from ..validation import optional
from .engine import media_state
from .play import until_canceled
from .shared import (
    accepted,
    connected_leg,
    operation_callback_uri,
    operation_context,
    participant_in_call,
    require_speech_service,
)
from .sources import PlayFailure, PlaySource, parse_play_source, total_duration


async def hold(request: ApiRequest) -> web.Response:
    connection = connected_leg(request)
    body = request.body
    participant = participant_in_call(connection.call, body.get("targetParticipant"), "targetParticipant")
    info = optional(body, "playSourceInfo", dict)
    music = parse_play_source(info, "playSourceInfo") if info is not None else None
    require_speech_service(connection, music is not None and music.needs_speech_service)
    _set_on_hold(connection, participant, True)
    state = media_state(connection)
    if music is None:
        state.stop_hold_music(participant.identifier.raw_id)
    else:
        state.play_hold_music(
            participant.identifier.raw_id,
            play_hold_music(connection, music, operation_context(body), operation_callback_uri(body)),
        )
    return accepted(connection, 200)


async def unhold(request: ApiRequest) -> web.Response:
    connection = connected_leg(request)
    participant = participant_in_call(connection.call, request.body.get("targetParticipant"), "targetParticipant")
    media_state(connection).stop_hold_music(participant.identifier.raw_id)
    _set_on_hold(connection, participant, False)
    return accepted(connection, 200)


def _set_on_hold(connection: CallConnection, participant: Participant, on_hold: bool) -> None:
    if participant.is_on_hold != on_hold:
        participant.is_on_hold = on_hold
        connection.call.timeline.add("emulator", f"{participant.identifier.raw_id} {'held' if on_hold else 'resumed'}")
        connection.call.broadcast_participants()


async def play_hold_music(
    connection: CallConnection, music: PlaySource, context: str | None, callback_uri: str | None
) -> None:
    """Loop the music until unhold; a source that cannot be played is a HoldFailed (the participant stays held)."""
    try:
        await total_duration([music], connection.backend.callbacks.session)
    except PlayFailure as failure:
        connection.emit("HoldFailed", operation_context=context, callback_uri=callback_uri, result=failure.result)
        return
    await until_canceled()
