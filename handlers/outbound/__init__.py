"""Calls the app places or joins itself (HTTP API, reminders): dialling, connecting, and their first state.

The call's state is written as soon as ACS accepts the request. ACS may report CallConnected before that write
lands; such an event raises CallNotReady (HTTP 503), so ACS redelivers it a moment later instead of it being lost.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from shared.acs import identifier
from shared.context import Context
from shared.errors import BadRequest, DependencyUnavailable
from shared.events import CallEvent
from shared.flow import Decide, advance
from shared.settings import E164, Settings
from shared.state import CallState

# First step of every call the app places or joins, until CallConnected.
DIALLING = "dialling"
# Calls driven only through the HTTP API, with no flow of their own.
API_FLOW = "api"


def caller_id_for(requested: str | None, targets: Sequence[str], settings: Settings) -> str | None:
    """The caller id to show: the requested one or OUTBOUND_CALLER_ID; ACS needs one to dial a phone number."""
    caller_id = requested or settings.outbound_caller_id
    if caller_id is None and any(E164.match(item) for item in targets):
        raise BadRequest("callerId is required to call a phone number (an E.164 number you own in ACS)")
    return caller_id


class CallNotReady(DependencyUnavailable):
    """An event for a call whose state is not written yet; answered 503 so ACS redelivers it."""


async def dial(
    ctx: Context,
    *,
    targets: Sequence[str],
    flow: str,
    data: Mapping[str, Any],
    caller_id: str | None = None,
    display_name: str | None = None,
    request_options: Mapping[str, Any] | None = None,
) -> Any:
    """Place a call to one target (1:1) or several (group call) and create its state; returns ACS's properties."""
    participants = [identifier(target) for target in targets]
    properties = await ctx.acs.client.create_call(
        participants[0] if len(participants) == 1 else participants,
        ctx.settings.callback_url,
        source_caller_id_number=identifier(caller_id) if caller_id else None,
        source_display_name=display_name,
        operation_context=flow,
        cognitive_services_endpoint=ctx.settings.cognitive_services_endpoint,
        **ctx.acs.call_options(flow),
        **(request_options or {}),
    )
    await start(ctx, properties.call_connection_id, flow, {**data, "targets": list(targets)})
    return properties


async def connect(
    ctx: Context,
    *,
    locator: Mapping[str, str],
    flow: str,
    data: Mapping[str, Any],
    request_options: Mapping[str, Any] | None = None,
) -> Any:
    """Join an ongoing call or room (locator: server_call_id, group_call_id or room_id) and create its state."""
    properties = await ctx.acs.client.connect_call(
        ctx.settings.callback_url,
        operation_context=flow,
        cognitive_services_endpoint=ctx.settings.cognitive_services_endpoint,
        **ctx.acs.call_options(flow),
        **locator,
        **(request_options or {}),
    )
    await start(ctx, properties.call_connection_id, flow, data)
    return properties


async def start(ctx: Context, call_connection_id: str, flow: str, data: Mapping[str, Any]) -> None:
    """Create the call's state at DIALLING; a repeated request for the same call keeps the first one."""
    state = CallState(call_connection_id=call_connection_id, flow=flow, step=DIALLING, data=dict(data))
    await ctx.state.create(state=state, event_id="placed")


async def advance_placed(
    event: CallEvent, ctx: Context, *, decide: Decide, from_steps: Collection[str] | None = None
) -> CallState:
    """shared.flow.advance for a call the app placed; an event that overtook the state's creation is retried."""
    state = await advance(event, ctx, decide=decide, from_steps=from_steps)
    if state is None:
        raise CallNotReady(f"call {event.call_connection_id}: {event.type} arrived before the call's state")
    return state
