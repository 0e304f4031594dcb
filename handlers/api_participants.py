"""HTTP API, participants: list, get one, add (invitation), cancel an add, remove, mute, hold and unhold."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from handlers import outbound
from handlers.api_media import parse_prompts
from shared.acs import identifier, play_source
from shared.api import ApiRequest, Reply, call_id, participant_json, route_id
from shared.context import Context
from shared.errors import BadRequest
from shared.validation import Body, target

MAX_INVITATION_TIMEOUT = 180


def participant_id(request: ApiRequest) -> str:
    """The participantId route parameter: an E.164 number, "4:+1...", or an ACS user id (URL-encoded or not)."""
    return target(unquote(request.params.get("participantId", "")), "participantId")


def connection(request: ApiRequest, ctx: Context) -> Any:
    """The SDK's aio CallConnectionClient for the callId of the request."""
    return ctx.acs.client.get_call_connection(call_id(request))


async def list_participants(request: ApiRequest, ctx: Context) -> Reply:
    """GET /calls/{callId}/participants."""
    participants = [participant_json(p) async for p in connection(request, ctx).list_participants()]
    return Reply(200, {"participants": participants})


async def get_participant(request: ApiRequest, ctx: Context) -> Reply:
    """GET /calls/{callId}/participants/{participantId}."""
    participant = await connection(request, ctx).get_participant(identifier(participant_id(request)))
    return Reply(200, participant_json(participant))


async def add_participant(request: ApiRequest, ctx: Context) -> Reply:
    """POST /calls/{callId}/participants: invite someone; the reply has the invitationId to cancel it with."""
    body = request.body
    who = body.target("participant")
    caller_id = outbound.caller_id_for(body.phone_number("callerId"), [who], ctx.settings)
    context = body.obj("customContext") or Body({}, "customContext")
    call = call_id(request)
    result = await connection(request, ctx).add_participant(
        identifier(who),
        invitation_timeout=body.integer("invitationTimeout", minimum=1, maximum=MAX_INVITATION_TIMEOUT),
        source_caller_id_number=identifier(caller_id) if caller_id else None,
        source_display_name=body.text("displayName", max_length=256),
        sip_headers=context.headers("sipHeaders", sip=True) or None,
        voip_headers=context.headers("voipHeaders", sip=False) or None,
        operation_context="api-add-participant",
        **request.repeatability(f"{call}/add/{who}"),
    )
    return Reply(202, {"invitationId": result.invitation_id, "participant": who, "status": "inviting"})


async def cancel_add(request: ApiRequest, ctx: Context) -> Reply:
    """DELETE /calls/{callId}/invitations/{invitationId}: stop ringing someone who has not answered yet."""
    invitation_id = route_id(request, "invitationId", what="the invitationId returned when the participant was added")
    call = call_id(request)
    await connection(request, ctx).cancel_add_participant_operation(
        invitation_id, operation_context="api-cancel-add", **request.repeatability(f"{call}/cancel/{invitation_id}")
    )
    return Reply(202, {"invitationId": invitation_id, "status": "canceling"})


async def remove_participant(request: ApiRequest, ctx: Context) -> Reply:
    """DELETE /calls/{callId}/participants/{participantId}."""
    who = participant_id(request)
    call = call_id(request)
    await connection(request, ctx).remove_participant(
        identifier(who), operation_context="api-remove", **request.repeatability(f"{call}/remove/{who}")
    )
    return Reply(202, {"participant": who, "status": "removing"})


async def mute(request: ApiRequest, ctx: Context) -> Reply:
    """POST /calls/{callId}/participants/{participantId}/mute (ACS mutes ACS users only)."""
    who = participant_id(request)
    call = call_id(request)
    await connection(request, ctx).mute_participant(
        identifier(who), operation_context="api-mute", **request.repeatability(f"{call}/mute/{who}")
    )
    return Reply(200, {"participant": who, "isMuted": True})


async def hold(request: ApiRequest, ctx: Context) -> Reply:
    """POST /calls/{callId}/participants/{participantId}/hold {music?}: hold, with music (looped) if given."""
    who = participant_id(request)
    music = parse_prompts(request.body, "music", ctx, required=False)
    if len(music) > 1:
        raise BadRequest("music must hold one prompt (it is looped)")
    await connection(request, ctx).hold(
        identifier(who), play_source=play_source(music[0]) if music else None, operation_context="api-hold"
    )
    return Reply(200, {"participant": who, "isOnHold": True})


async def unhold(request: ApiRequest, ctx: Context) -> Reply:
    """POST /calls/{callId}/participants/{participantId}/unhold."""
    who = participant_id(request)
    await connection(request, ctx).unhold(identifier(who), operation_context="api-unhold")
    return Reply(200, {"participant": who, "isOnHold": False})
