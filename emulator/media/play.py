"""Play and CancelAllMediaOperations (contract §1.3 rows 10 and 14, §7.2)."""

from __future__ import annotations

from functools import partial

from aiohttp import web

from ..events import result_for
from ..models import CallConnection
from ..operations import ApiRequest
from ..validation import optional, require
from .compatibility import Kind
from .engine import MediaOperation, media_state
from .hold import hold_for_prompt, release_after_prompt
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
from .sources import PlayFailure, PlaySource, parse_play_sources, total_duration


async def play(request: ApiRequest) -> web.Response:
    connection = connected_leg(request)
    body = request.body
    sources = parse_play_sources(require(body, "playSources", list), "playSources")
    audience = [
        participant_in_call(connection.call, value, f"playTo[{index}]")
        for index, value in enumerate(optional(body, "playTo", list, []))
    ]
    loop = optional(optional(body, "playOptions", dict, {}), "playOptions.loop", bool, False)
    require_speech_service(connection, any(source.needs_speech_service for source in sources))
    kind = Kind.PLAY_TO if audience else Kind.PLAY_TO_ALL
    op = MediaOperation(
        kind=kind, connection=connection, body=partial(run_play, sources=sources, loop=loop),
        canceled_event="PlayCanceled", operation_context=operation_context(body),
        callback_uri=operation_callback_uri(body), targets=frozenset(p.identifier.raw_id for p in audience),
    )  # fmt: skip
    # The service honours interruptCallMediaOperation for PlayToAll and Recognize only (SPEC).
    interrupt = kind is Kind.PLAY_TO_ALL and optional(body, "interruptCallMediaOperation", bool, False)
    media_state(connection).submit(op, interrupt=interrupt)
    return accepted(connection)


async def run_play(op: MediaOperation, *, sources: list[PlaySource], loop: bool) -> None:
    """PlayStarted, the sources one after another, PlayCompleted; a looping play only ends when canceled.

    A play to some participants holds them for the prompt, as the live service does (see hold.py).
    """
    connection = op.connection
    audience = [p for raw_id in sorted(op.targets) if (p := connection.call.participant(raw_id)) is not None]
    held = hold_for_prompt(connection, audience)
    try:
        try:
            seconds = await total_duration(sources, connection.backend.callbacks.session)
        except PlayFailure as failure:
            op.emit("PlayFailed", failure.result, failedPlaySourceIndex=failure.index)
            return
        op.phase = "playing"
        op.emit("PlayStarted", PLAY_STARTED)
        if loop:
            await until_canceled()
        await connection.backend.clock.sleep(seconds)
        op.emit("PlayCompleted", result_for("PlayCompleted", 0))
    finally:
        release_after_prompt(connection, audience, held)


async def cancel_all_media_operations(request: ApiRequest) -> web.Response:
    connection: CallConnection = request.backend.connection(request.params["call_connection_id"])
    media_state(connection).cancel_all()
    return accepted(connection)
