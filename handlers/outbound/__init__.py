"""Calls the app places (CreateCall) or joins (Connect): dial or connect, then create the call's state at DIALLING.

ACS can report CallConnected before the state is written (a callee who answers at once); the engine then answers
503 (CallNotReady) for an event whose operation context names a flow, so ACS redelivers it a moment later.
Calls placed through the HTTP API without a flow follow the small "api" flow below.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from shared.acs import Connect, Headers, Locator, NewCall, PlacedCall
from shared.context import Context
from shared.deadlines import DEFAULT_INVITATION_SECONDS
from shared.engine import STEP_OVERDUE, Flow, On, Transition, Turn, once_connected
from shared.errors import BadRequest, StateConflict
from shared.identifiers import E164
from shared.settings import Settings
from shared.state import ENDED, CallState
from shared.streaming import call_streaming

# First step of every call the app places or joins, until CallConnected.
DIALLING = "dialling"
CONNECTED = "connected"
# Calls driven only through the HTTP API, with no flow of their own.
API_FLOW = "api"


def caller_id_for(requested: str | None, targets: Sequence[str], settings: Settings) -> str | None:
    """The caller id to show: the requested one or OUTBOUND_CALLER_ID; ACS needs one to dial a phone number."""
    caller_id = requested or settings.outbound_caller_id
    if caller_id is None and any(E164.match(item) for item in targets):
        raise BadRequest("callerId is required to call a phone number (an E.164 number you own in ACS)")
    return caller_id


async def dial(
    ctx: Context,
    *,
    targets: Sequence[str],
    flow: str,
    data: Mapping[str, Any],
    caller_id: str | None = None,
    display_name: str | None = None,
    headers: Headers = None,
) -> PlacedCall:
    """Place a call to one target (1:1) or several (group call) and create its state."""
    settings = ctx.settings
    request = NewCall(
        targets=tuple(targets),
        callback_url=settings.callback_url,
        flow=flow,
        caller_id=caller_id,
        display_name=display_name,
        cognitive_services_endpoint=settings.cognitive_services_endpoint,
        streaming=call_streaming(flow, settings),
    )
    placed = await ctx.acs.create_call(request, headers)
    await start(ctx, placed.call_connection_id, flow, {**data, "targets": list(targets)})
    return placed


async def connect(
    ctx: Context,
    *,
    locator: Locator,
    locator_id: str,
    flow: str,
    data: Mapping[str, Any],
    headers: Headers = None,
) -> PlacedCall:
    """Join an ongoing call or room (by its server call id, group call id or room id) and create its state."""
    settings = ctx.settings
    request = Connect(
        locator=locator,
        locator_id=locator_id,
        callback_url=settings.callback_url,
        flow=flow,
        cognitive_services_endpoint=settings.cognitive_services_endpoint,
        streaming=call_streaming(flow, settings),
    )
    placed = await ctx.acs.connect_call(request, headers)
    await start(ctx, placed.call_connection_id, flow, data)
    return placed


async def start(ctx: Context, call_connection_id: str, flow: str, data: Mapping[str, Any]) -> None:
    """Create the call's state at DIALLING, due once ACS's ring timeout has passed; a repeated request for the same
    call keeps the first one."""
    settings = ctx.settings
    ringing = DEFAULT_INVITATION_SECONDS * settings.watchdog_time_scale + settings.watchdog_grace_seconds
    state = CallState(
        call_connection_id=call_connection_id,
        flow=flow,
        step=DIALLING,
        data=dict(data),
        deadline=ctx.clock() + timedelta(seconds=ringing),
    )
    # ACS answers a repeated request with the same call: its state is already there.
    with contextlib.suppress(StateConflict):
        await ctx.state.commit(state)


async def on_connected(turn: Turn) -> Transition:
    return Transition(step=CONNECTED)


async def on_failed(turn: Turn) -> Transition:
    return Transition(step=ENDED, data={"failure": f"{turn.event.result.code}/{turn.event.result.sub_code}"})


API = Flow(
    name=API_FLOW,
    steps=(DIALLING, CONNECTED),
    transitions=(
        On("CallConnected", DIALLING, on_connected),
        On("CreateCallFailed", DIALLING, on_failed),
        On("ConnectFailed", DIALLING, on_failed),
        On(STEP_OVERDUE, DIALLING, once_connected(on_connected)),
    ),
)
