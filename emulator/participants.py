"""Participant operations: list, get, add (with invitation timeout), cancel add, remove, mute, move here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import people
from .call_control import caller_id_for, connected_leg, context_body, operation_callback
from .errors import AcsError, invalid_field, not_found
from .identifiers import Identifier, parse_identifier
from .models import Backend, CallConnection, Participant, ServerCall
from .operations import CALL, ApiRequest, Operation, respond
from .validation import optional, optional_int, require

PAGE_SIZE = 20  # the live page size is undocumented; a small one makes apps that ignore nextLink fail early
MAX_INVITATION_TIMEOUT = 180
ALREADY_DONE = (400, 8585, "The invitation has already completed and can no longer be canceled.")
NOT_IN_FROM_CALL = (404, 8522, "The participant is not in the call it is moved from.")


@dataclass
class Invitation:
    """A pending AddParticipant: its leg, whom it rings, and the ringing CancelAddParticipant can stop."""

    invitation_id: str
    connection: CallConnection
    ringing: people.Ringing


def invitations(backend: Backend) -> dict[str, Invitation]:
    return backend.store("invitations")


def present_participant(call: ServerCall, identifier: Identifier, path: str) -> Participant:
    participant = call.participant(identifier.raw_id)
    if participant is None or participant.state != "connected":
        raise AcsError(404, 8522, f"Participant {identifier.raw_id} is not in the call.", path)
    return participant


async def list_participants(request: ApiRequest) -> web.Response:
    """One page of the participants present (GetParticipantsResponse), with nextLink while more remain."""
    connection = request.backend.connection(request.params["call_connection_id"])
    present = connection.call.present()
    skip = _skip(request)
    body: dict[str, Any] = {"value": [p.to_model() for p in present[skip : skip + PAGE_SIZE]]}
    if skip + PAGE_SIZE < len(present):
        base = request.backend.config.public_url or f"{request.raw.scheme}://{request.raw.host}"
        body["nextLink"] = f"{base}{request.raw.path}?skip={skip + PAGE_SIZE}"
    return respond(200, body, call_correlation_id=connection.call.correlation_id)


def _skip(request: ApiRequest) -> int:
    value = request.raw.query.get("skip", "0")
    if not value.isdigit():
        raise invalid_field("skip", "must be a non-negative integer")
    return int(value)


async def get_participant(request: ApiRequest) -> web.Response:
    connection = request.backend.connection(request.params["call_connection_id"])
    raw_id = request.params["participant_raw_id"]
    participant = connection.call.participant(raw_id)
    if participant is None or participant.state != "connected":
        raise not_found(f"Participant {raw_id}")
    return respond(200, participant.to_model(), call_correlation_id=connection.call.correlation_id)


async def add_participant(request: ApiRequest) -> web.Response:
    """202 with an invitationId; AddParticipantSucceeded + ParticipantsUpdated, or AddParticipantFailed."""
    connection = connected_leg(request)
    call = connection.call
    body = request.body
    target = parse_identifier(require(body, "participantToAdd", dict), "participantToAdd")
    caller_id_for(body, [target])
    timeout = optional_int(body, "invitationTimeoutInSeconds", None, 0, MAX_INVITATION_TIMEOUT)
    callback_uri = operation_callback(body)
    operation_context = optional(body, "operationContext", str)
    existing = call.participant(target.raw_id)
    if existing is not None and existing.state != "left":
        raise invalid_field("participantToAdd", f"{target.raw_id} is already in the call or being invited")

    def answered(participant: Participant) -> None:
        connection.emit(
            "AddParticipantSucceeded",
            operation_context=operation_context,
            callback_uri=callback_uri,
            data={"participant": target.to_model()},
        )
        people.join(call, participant)
        if len(call.present()) > 2:
            call.is_group = True

    def refused(result: people.Result) -> None:
        connection.emit(
            "AddParticipantFailed",
            operation_context=operation_context,
            callback_uri=callback_uri,
            data={"participant": target.to_model()},
            result=result,
        )

    ringing = people.ring(
        call, target, on_answer=answered, on_refuse=refused,
        timeout_seconds=request.backend.config.ring_timeout_seconds if timeout is None else timeout,
        custom_context=custom_calling_context(body),
    )  # fmt: skip
    invitation = Invitation(str(uuid.uuid4()), connection, ringing)
    invitations(request.backend)[invitation.invitation_id] = invitation
    response = context_body(body, participant=ringing.participant.to_model(), invitationId=invitation.invitation_id)
    return respond(202, response, call_correlation_id=call.correlation_id)


def custom_calling_context(body: dict) -> dict[str, dict[str, str]]:
    """customCallingContext's voipHeaders/sipHeaders, kept on the invited participant."""
    context = optional(body, "customCallingContext", dict, {})
    kept = {}
    for name in ("voipHeaders", "sipHeaders"):
        headers = optional(context, f"customCallingContext.{name}", dict)
        if headers:
            kept[name] = {str(key): str(value) for key, value in headers.items()}
    return kept


async def cancel_add_participant(request: ApiRequest) -> web.Response:
    """Stop a pending invitation: CancelAddParticipantSucceeded, or CancelAddParticipantFailed once it completed."""
    connection = connected_leg(request)
    body = request.body
    invitation_id = require(body, "invitationId", str)
    invitation = invitations(request.backend).get(invitation_id)
    if invitation is None or invitation.connection is not connection:
        raise not_found(f"Invitation {invitation_id}")
    callback_uri = operation_callback(body)
    operation_context = optional(body, "operationContext", str)
    if invitation.ringing.cancel():
        connection.emit(
            "CancelAddParticipantSucceeded",
            operation_context=operation_context,
            callback_uri=callback_uri,
            data={"invitationId": invitation_id},
            result=canceled_result(invitation.ringing.participant.identifier),
        )
    else:
        connection.emit(
            "CancelAddParticipantFailed",
            operation_context=operation_context,
            callback_uri=callback_uri,
            data={"invitationId": invitation_id},
            result=ALREADY_DONE,
        )
    response = context_body(body, invitationId=invitation_id)
    return respond(202, response, call_correlation_id=connection.call.correlation_id)


def canceled_result(invitee: Identifier) -> tuple[int, int, str]:
    """The resultInformation of a live CancelAddParticipantSucceeded: the canceled invitation, as 200/5300."""
    reason = "The conversation has ended. DiagCode: 0#5300.@"
    return 200, 5300, f"addParticipants failed for participant {invitee.raw_id}. Underlying reason: {reason}"


async def remove_participant(request: ApiRequest) -> web.Response:
    """RemoveParticipantSucceeded, then ParticipantsUpdated without them (or, in a 1:1 call, the call ends)."""
    connection = connected_leg(request)
    call = connection.call
    body = request.body
    target = parse_identifier(require(body, "participantToRemove", dict), "participantToRemove")
    participant = present_participant(call, target, "participantToRemove")
    if participant.is_app:
        raise invalid_field("participantToRemove", "is an app leg; hang up that call connection instead")
    connection.emit(
        "RemoveParticipantSucceeded",
        operation_context=optional(body, "operationContext", str),
        callback_uri=operation_callback(body),
        data={"participant": target.to_model()},
    )
    people.leave(call, participant)
    return respond(202, context_body(body), call_correlation_id=call.correlation_id)


async def mute(request: ApiRequest) -> web.Response:
    """Mute ACS users (the only kind ACS can mute); ParticipantsUpdated shows isMuted."""
    connection = connected_leg(request)
    call = connection.call
    body = request.body
    targets = require(body, "targetParticipants", list)
    muted = []
    for index, raw in enumerate(targets):
        path = f"targetParticipants[{index}]"
        identifier = parse_identifier(raw, path)
        if not identifier.is_acs_user:
            raise invalid_field(path, "only Azure Communication Services users (communicationUser) can be muted")
        muted.append(present_participant(call, identifier, path))
    for participant in muted:
        participant.is_muted = True
    call.timeline.add("emulator", "muted " + ", ".join(p.identifier.raw_id for p in muted))
    call.broadcast_participants()
    return respond(200, context_body(body), call_correlation_id=call.correlation_id)


async def move_participants(request: ApiRequest) -> web.Response:
    """Move people from the call of `fromCall` (a callConnectionId) into this one, each reported on its own."""
    connection = connected_leg(request)
    call = connection.call
    body = request.body
    targets = [
        parse_identifier(t, f"targetParticipants[{i}]") for i, t in enumerate(require(body, "targetParticipants", list))
    ]
    from_call = require(body, "fromCall", str)
    source = request.backend.connection(from_call).call
    if source is call:
        raise invalid_field("fromCall", "names this same call")
    callback_uri = operation_callback(body)
    operation_context = optional(body, "operationContext", str)
    for target in targets:
        moved = _move(source, call, target)
        event = "MoveParticipantSucceeded" if moved else "MoveParticipantFailed"
        connection.emit(
            event,
            operation_context=operation_context,
            callback_uri=callback_uri,
            data={"participant": target.to_model(), "fromCall": from_call},
            result=(200, 0, "") if moved else NOT_IN_FROM_CALL,
        )
        if moved:
            people.join(call, moved)
    if len(call.present()) > 2:
        call.is_group = True
    participants = [Participant(t).to_model() for t in targets]
    response = context_body(body, participants=participants, fromCall=from_call)
    return respond(202, response, call_correlation_id=call.correlation_id)


def _move(source: ServerCall, destination: ServerCall, target: Identifier) -> Participant | None:
    """Take `target` out of `source` (which ends if it was 1:1), returning their participant for `destination`."""
    participant = source.participant(target.raw_id)
    if participant is None or participant.state != "connected" or participant.is_app:
        return None
    people.leave(source, participant)
    destination.timeline.add("person", f"{target.raw_id} moved in", fromServerCallId=source.server_call_id)
    return Participant(target, display_name=participant.display_name, custom_context=participant.custom_context)


OPERATIONS = [
    Operation("CallConnection_GetParticipants", "GET", CALL + r"/participants", list_participants),
    Operation("CallConnection_AddParticipant", "POST", CALL + r"/participants:add", add_participant, repeatable=True),
    Operation(
        "CallConnection_RemoveParticipant", "POST", CALL + r"/participants:remove", remove_participant, repeatable=True
    ),
    Operation("CallConnection_Mute", "POST", CALL + r"/participants:mute", mute, repeatable=True),
    Operation(
        "CallConnection_CancelAddParticipant",
        "POST",
        CALL + r"/participants:cancelAddParticipant",
        cancel_add_participant,
        repeatable=True,
    ),
    Operation(
        "CallConnection_MoveParticipants", "POST", CALL + r"/participants:moveHere", move_participants, repeatable=True
    ),
    Operation(
        "CallConnection_GetParticipant", "GET", CALL + r"/participants/(?P<participant_raw_id>[^/]+)", get_participant
    ),
]
