"""HTTP API, calls: place a call, join a call or room and announce, read a call, transfer, hang up, terminate."""

from __future__ import annotations

import logging
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from handlers import api_reminders, outbound, reminder
from handlers.api_media import parse_prompts, prompts_json
from handlers.outbound import announce, external_ivr
from handlers.policies.continuous_dtmf import received_keys
from shared.acs import identifier
from shared.api import ApiRequest, Reply, call_id, identifier_json, participant_json
from shared.context import Context
from shared.errors import BadRequest
from shared.identifiers import GROUP_CALL_ID, ROOM_ID, SERVER_CALL_ID, matches
from shared.logging import mask
from shared.validation import Body, target

logger = logging.getLogger(__name__)

FLOWS = (reminder.FLOW.name, external_ivr.NAME)
MAX_TARGETS = 20
LOCATORS = {"serverCallId": "server_call_id", "groupCallId": "group_call_id", "roomId": "room_id"}
LOCATOR_SHAPES = {
    "serverCallId": (SERVER_CALL_ID, "a serverCallId (base64)"),
    "groupCallId": (GROUP_CALL_ID, "a group call id (a GUID)"),
    "roomId": (ROOM_ID, "a room id (digits, or a GUID)"),
}


def parse_targets(body: Body) -> list[str]:
    """`target` (one) or `targets` (several: a group call), each E.164 or an ACS user id."""
    if body.has("target") == body.has("targets"):
        raise BadRequest("give exactly one of target (one callee) or targets (a list, for a group call)")
    if body.has("target"):
        return [body.target("target")]
    items = body.items("targets", required=True, max_items=MAX_TARGETS)
    return [target(item, f"targets[{index}]") for index, item in enumerate(items)]


async def place_call(request: ApiRequest, ctx: Context) -> Reply:
    """POST /calls: dial one target or several, optionally into a flow (reminder, external-ivr)."""
    body = request.body
    flow = body.text("flow", max_length=40)
    if flow is not None and flow not in FLOWS:
        raise BadRequest(f"flow must be one of {', '.join(FLOWS)} (or absent: the call is driven through the API)")
    if flow == reminder.FLOW.name:
        return await api_reminders.create_reminder(request, ctx)
    targets = parse_targets(body)
    caller_id = outbound.caller_id_for(body.phone_number("callerId"), targets, ctx.settings)
    display_name = body.text("displayName", max_length=256)
    if body.has("customContext"):
        # CreateCallRequest (API 2026-03-12) has no customCallingContext; add and transfer do.
        raise BadRequest(
            "customContext: ACS cannot attach custom context when placing a call; place the call, then add the "
            "participant with POST /api/calls/{callId}/participants and customContext, or transfer with it"
        )
    data: dict[str, Any] = {}
    if flow == external_ivr.NAME:
        if len(targets) != 1:
            raise BadRequest("the external-ivr flow dials exactly one target")
        data = {
            "dtmf": external_ivr.parse_sequence(body.data.get("dtmf"), "dtmf"),
            "hang_up_after_dtmf": body.boolean("hangUpAfterDtmf"),
        }
    properties = await outbound.dial(
        ctx,
        targets=targets,
        flow=flow or outbound.API_FLOW,
        data=data,
        caller_id=caller_id,
        display_name=display_name,
        request_options=request.repeatability("calls"),
    )
    logger.info("Placed call %s to %s (flow %s)", properties.call_connection_id, mask(", ".join(targets)), flow)
    return Reply(201, placed_json(properties, flow or outbound.API_FLOW))


def placed_json(properties: Any, flow: str) -> dict[str, Any]:
    return {
        "callConnectionId": properties.call_connection_id,
        "correlationId": properties.correlation_id,
        "state": str(properties.call_connection_state or "connecting"),
        "flow": flow,
    }


async def connect_call(request: ApiRequest, ctx: Context) -> Reply:
    """POST /calls/connect: join a call (serverCallId), group call (groupCallId) or room (roomId), and announce."""
    body = request.body
    given = [name for name in LOCATORS if body.has(name)]
    if len(given) != 1:
        raise BadRequest("give exactly one of serverCallId, groupCallId or roomId")
    name = given[0]
    pattern, shape = LOCATOR_SHAPES[name]
    if not matches(pattern, body.data[name]):
        raise BadRequest(f"{name} must be {shape}")
    locator = {LOCATORS[name]: body.data[name]}
    announcement = parse_prompts(body, "announce", ctx, required=False)
    flow = announce.NAME if announcement else outbound.API_FLOW
    data = {"announcement": prompts_json(announcement), "stay": body.boolean("stay")} if announcement else {}
    properties = await outbound.connect(
        ctx, locator=locator, flow=flow, data=data, request_options=request.repeatability("connect")
    )
    return Reply(201, placed_json(properties, flow))


async def get_call(request: ApiRequest, ctx: Context) -> Reply:
    """GET /calls/{callId}: ACS's view (state, properties, participants) and the app's (flow, step, data)."""
    call = call_id(request)
    state = (await ctx.state.load(call)).state
    app_view = {
        "flow": state.flow if state else None,
        "step": state.step if state else None,
        "dtmfReceived": received_keys(state.data) if state else "",
        "data": dict(state.data) if state else {},
    }
    connection = ctx.acs.client.get_call_connection(call)
    try:
        properties = await connection.get_call_properties()
        participants = [participant_json(p) async for p in connection.list_participants()]
    except ResourceNotFoundError:
        if state is None:
            raise
        # ACS forgets a call once it is over; the app still knows how it went.
        return Reply(200, {"callConnectionId": call, "state": "disconnected", "participants": [], **app_view})
    caller_id = properties.source_caller_id_number
    acs_view = {
        "callConnectionId": properties.call_connection_id,
        "serverCallId": properties.server_call_id,
        "correlationId": properties.correlation_id,
        "state": str(properties.call_connection_state),
        "source": identifier_json(properties.source) if properties.source else None,
        "callerId": caller_id.raw_id.removeprefix("4:") if caller_id else None,
        "targets": [identifier_json(item) for item in properties.targets or []],
        "participants": participants,
    }
    return Reply(200, {**acs_view, **app_view})


async def transfer(request: ApiRequest, ctx: Context) -> Reply:
    """POST /calls/{callId}/transfer: blind transfer (1:1), or move `transferee` of a group call to `target`."""
    body = request.body
    to = body.target("target")
    transferee = body.target("transferee", required=False)
    context = body.obj("customContext") or Body({}, "customContext")
    caller_id = body.phone_number("callerId")
    call = call_id(request)
    result = await ctx.acs.client.get_call_connection(call).transfer_call_to_participant(
        identifier(to),
        transferee=identifier(transferee) if transferee else None,
        sip_headers=context.headers("sipHeaders", sip=True) or None,
        voip_headers=context.headers("voipHeaders", sip=False) or None,
        source_caller_id_number=identifier(caller_id) if caller_id else None,
        operation_context="api-transfer",
        **request.repeatability(f"{call}/transfer"),
    )
    return Reply(202, {"status": str(getattr(result, "status", None) or "accepted"), "target": to})


async def hang_up(request: ApiRequest, ctx: Context) -> Reply:
    """DELETE /calls/{callId}: the app leaves; in a group call the others stay."""
    await ctx.acs.client.get_call_connection(call_id(request)).hang_up(False)
    return Reply(204)


async def terminate(request: ApiRequest, ctx: Context) -> Reply:
    """POST /calls/{callId}/terminate: end the call for everyone."""
    call = call_id(request)
    await ctx.acs.client.get_call_connection(call).hang_up(True, **request.repeatability(f"{call}/terminate"))
    return Reply(204)
