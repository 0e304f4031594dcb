"""Call connection operations: create, answer, redirect, reject, connect, get, hang up, terminate, transfer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from . import incoming, people, streaming
from .errors import AcsError, invalid_field, missing_field
from .events import CALL_ENDED_BY_APP_MESSAGE, CALL_ENDED_MESSAGE
from .identifiers import Identifier, parse_communication_user, parse_identifier, parse_phone_number
from .models import Backend, CallConnection, Participant, ServerCall
from .operations import CALL, ApiRequest, Operation, respond
from .validation import check_url, optional, require, require_enum, require_url

APP_USER_PREFIX = "8:acs:"
REJECT_REASONS = ("none", "busy", "forbidden")
LOCATOR_IDS = {"serverCallLocator": "serverCallId", "groupCallLocator": "groupCallId", "roomCallLocator": "roomId"}
# The live service's result for these events is undocumented (contract §3.3); the emulator's guesses.
TRANSFER_ACCEPTED = (202, 0, "The transfer operation completed successfully.")
CONNECT_UNKNOWN_CALL = (404, 8522, "Call not found: no active call has that serverCallId.")
NOT_ESTABLISHED = 8501


def app_identity(request: ApiRequest, leg: str = "app") -> Identifier:
    """The identity an app leg has in the call when the request names none: a bot identity of this resource."""
    return Identifier.acs_user(f"{APP_USER_PREFIX}{request.backend.config.resource_id}_callautomation-{leg}")


def cognitive_endpoint(body: dict) -> str | None:
    options = optional(body, "callIntelligenceOptions", dict, {})
    return optional(options, "callIntelligenceOptions.cognitiveServicesEndpoint", str)


def connected_leg(request: ApiRequest) -> CallConnection:
    """The request's leg, which must be connected for call actions (400/8501 while it is still connecting)."""
    connection = request.backend.connection(request.params["call_connection_id"])
    if connection.state == "connecting":
        raise AcsError(400, NOT_ESTABLISHED, "Action is not supported: the call is not established yet.")
    return connection


def operation_callback(body: dict) -> str | None:
    uri = optional(body, "operationCallbackUri", str)
    return check_url(uri, "operationCallbackUri") if uri else None


def context_body(body: dict, **extra: Any) -> dict[str, Any]:
    """The small `{operationContext, ...}` bodies action responses carry; absent values are left out."""
    fields = {"operationContext": optional(body, "operationContext", str), **extra}
    return {key: value for key, value in fields.items() if value is not None}


def configure_streaming(connection: CallConnection, body: dict) -> None:
    """Hand mediaStreamingOptions/transcriptionOptions of create/answer/connect to the streaming feature."""
    streaming.configure_from_request(connection, body)


def open_leg(request: ApiRequest, call: ServerCall, app_id: Identifier, **properties: Any) -> CallConnection:
    """A new app leg on `call`, with the app's own participant (not yet joined); a new call is registered with it,
    after the body validated, so a rejected request leaves nothing behind."""
    body = request.body
    connection = CallConnection(
        call=call, callback_uri=require_url(body, "callbackUri"), api_version=request.api_version,
        operation_context=optional(body, "operationContext", str), cognitive_services_endpoint=cognitive_endpoint(body),
        app_participant=Participant(app_id, state="ringing", is_app=True), **properties,
    )  # fmt: skip
    configure_streaming(connection, body)
    request.backend.calls.setdefault(call.server_call_id, call)
    request.backend.add_connection(connection)
    request.attach_call(call)
    call.participants[app_id.raw_id] = connection.app_participant
    return connection


def connect_leg(connection: CallConnection, on_joined: Callable[[Participant], None] | None = None) -> None:
    """The leg is up: CallConnected, then the app joins the call (ParticipantsUpdated to every leg); `on_joined`
    replaces the plain join when the leg answers a call another leg placed to it."""
    if connection.state != "connecting" or connection.call.ended:
        return
    connection.state = "connected"
    connection.emit("CallConnected", operation_context=connection.operation_context)
    if on_joined is not None:
        on_joined(connection.app_participant)
    else:
        people.join(connection.call, connection.app_participant)


def existing_call_response(connection: CallConnection) -> web.Response:
    """Answer and Connect join a call the service already has, so unlike CreateCall's their response names it
    (serverCallId in the real answer capture, contract §1.6)."""
    call = connection.call
    return respond(
        200, {**connection.properties(), "serverCallId": call.server_call_id}, call_correlation_id=call.correlation_id
    )


def caller_id_for(body: dict, targets: list[Identifier]) -> str | None:
    """sourceCallerIdNumber, which ACS requires whenever a phone number is dialled."""
    if body.get("sourceCallerIdNumber") is not None:
        return parse_phone_number(body["sourceCallerIdNumber"], "sourceCallerIdNumber")
    if any(target.is_phone for target in targets):
        raise missing_field("sourceCallerIdNumber")
    return None


async def create_call(request: ApiRequest) -> web.Response:
    body = request.body
    raw_targets = require(body, "targets", list)
    targets = [parse_identifier(t, f"targets[{i}]") for i, t in enumerate(raw_targets)]
    require_url(body, "callbackUri")
    caller_id = caller_id_for(body, targets)
    # `source` (CallAutomationClient(..., source=...)) is the ACS user the app's leg is; the caller id is what PSTN
    # targets see.
    source = parse_communication_user(body["source"], "source") if body.get("source") else None
    call = ServerCall(request.backend, is_group=len(targets) > 1)
    app_id = source or (Identifier.phone(caller_id) if caller_id else app_identity(request))
    connection = open_leg(
        request,
        call,
        app_id,
        source=source or app_id,
        targets=targets,
        source_caller_id=caller_id,
        source_display_name=optional(body, "sourceDisplayName", str),
    )
    connection.app_participant.state = "connected"
    call.timeline.add(
        "emulator",
        "call created by the app",
        callConnectionId=connection.call_connection_id,
        targets=[t.raw_id for t in targets],
    )
    people.dial(call, targets, connection)
    return respond(201, connection.properties(), call_correlation_id=call.correlation_id)


async def answer_call(request: ApiRequest) -> web.Response:
    body = request.body
    context = require(body, "incomingCallContext", str)
    require_url(body, "callbackUri")
    answered_by = optional(body, "answeredBy", dict)
    answered_by_id = require(answered_by, "answeredBy.id", str) if answered_by is not None else None
    offered = incoming.ringing_offer(request.backend, context)
    call = offered.call
    connection = open_leg(
        request,
        call,
        offered.callee,
        source=offered.caller,
        targets=[offered.callee],
        answered_by=answered_by_id,
        answered_for=offered.callee.phone_number,
    )
    offered.take("answered")
    request.backend.later(0, lambda: connect_leg(connection, offered.on_answer))
    return existing_call_response(connection)


async def redirect_call(request: ApiRequest) -> web.Response:
    """The app hands a ringing call on without answering; no callback events (contract §7.1)."""
    body = request.body
    context = require(body, "incomingCallContext", str)
    target = parse_identifier(require(body, "target", dict), "target")
    offered = incoming.ringing_offer(request.backend, context)
    request.attach_call(offered.call)
    offered.take("redirected")
    redirect(request.backend, offered, target)
    return respond(204, call_correlation_id=offered.call.correlation_id)


def redirect(backend: Backend, offered: incoming.Offer, target: Identifier) -> None:
    """A person with a configured behaviour, or any phone number, is rung; an ACS user without one is taken to be
    another endpoint of this resource, so a new IncomingCall offers the call to the app for them."""
    call = offered.call
    if target.is_acs_user and target.raw_id not in people.behaviours(backend):
        incoming.offer(
            call,
            offered.caller,
            target,
            on_refuse=people.ends_the_call(call, target),
            display_name=offered.display_name,
            custom_context=offered.custom_context,
        )
        return
    people.ring(
        call,
        target,
        timeout_seconds=backend.config.ring_timeout_seconds,
        on_answer=lambda participant: people.join(call, participant),
        on_refuse=lambda _: people.end_call(call),
    )


async def reject_call(request: ApiRequest) -> web.Response:
    """The app turns a ringing call down; the caller's call ends; no callback events (contract §7.1)."""
    body = request.body
    context = require(body, "incomingCallContext", str)
    reason = require_enum(body, "callRejectReason", REJECT_REASONS, default="none")
    offered = incoming.ringing_offer(request.backend, context)
    request.attach_call(offered.call)
    offered.take("rejected")
    offered.call.timeline.add("emulator", f"reject reason: {reason}")
    offered.on_refuse("busy" if reason == "busy" else "decline")
    return respond(204, call_correlation_id=offered.call.correlation_id)


async def connect(request: ApiRequest) -> web.Response:
    """Join a call by locator; a group or room call that does not exist yet is created (ACS starts them on join)."""
    body = request.body
    kind, locator_id = parse_locator(require(body, "callLocator", dict))
    require_url(body, "callbackUri")
    backend = request.backend
    if kind == "serverCallLocator":
        call = backend.find_call(server_call_id=locator_id)
        if call is None:
            return _connect_unknown_call(request, locator_id)
    else:
        group_call_id = locator_id if kind == "groupCallLocator" else None
        room_id = locator_id if kind == "roomCallLocator" else None
        call = backend.find_call(group_call_id=group_call_id, room_id=room_id) or ServerCall(
            backend, is_group=True, group_call_id=group_call_id, room_id=room_id
        )
    connection = open_leg(request, call, app_identity(request, leg=f"{len(call.connections) + 1}"))
    backend.later(0, lambda: connect_leg(connection))
    return existing_call_response(connection)


def parse_locator(locator: dict) -> tuple[str, str]:
    kind = optional(locator, "callLocator.kind", str)
    if kind is None:
        kind = next((k for k, field in LOCATOR_IDS.items() if locator.get(field)), None)
        if kind is None:
            raise invalid_field("callLocator", "one of serverCallId, groupCallId, roomId must be set")
    if kind not in LOCATOR_IDS:
        raise invalid_field("callLocator.kind", f"must be one of {', '.join(LOCATOR_IDS)}")
    return kind, require(locator, f"callLocator.{LOCATOR_IDS[kind]}", str)


def _connect_unknown_call(request: ApiRequest, server_call_id: str) -> web.Response:
    """A serverCallId names no live call: like ACS, accept the request and report ConnectFailed on the new leg.

    The leg hangs off an ended stand-in call; an earlier ended call with that id keeps its place and timeline.
    """
    call = ServerCall(request.backend, server_call_id=server_call_id, ended=True)
    connection = open_leg(request, call, app_identity(request))

    def fail() -> None:
        connection.emit("ConnectFailed", operation_context=connection.operation_context, result=CONNECT_UNKNOWN_CALL)
        connection.abandon()

    request.backend.later(0, fail)
    return existing_call_response(connection)


async def get_call(request: ApiRequest) -> web.Response:
    connection = request.backend.connection(request.params["call_connection_id"])
    return respond(200, connection.properties(), call_correlation_id=connection.call.correlation_id)


async def hang_up(request: ApiRequest) -> web.Response:
    """The app leaves; in a 1:1 call that ends the call for the other side too, in a group call the others stay."""
    connection = request.backend.connection(request.params["call_connection_id"])
    connection.disconnect(CALL_ENDED_BY_APP_MESSAGE)
    people.leave(connection.call, connection.app_participant)
    return respond(204, call_correlation_id=connection.call.correlation_id)


async def terminate(request: ApiRequest) -> web.Response:
    connection = request.backend.connection(request.params["call_connection_id"])
    people.end_call(connection.call, CALL_ENDED_BY_APP_MESSAGE, ended_by=connection.app_participant.identifier)
    return respond(204, call_correlation_id=connection.call.correlation_id)


async def transfer(request: ApiRequest) -> web.Response:
    """1:1: the other party is put through to the target and the app's leg ends. Group: `transferee` is replaced."""
    connection = connected_leg(request)
    call = connection.call
    body = request.body
    target = parse_identifier(require(body, "targetParticipant", dict), "targetParticipant")
    transferee = _transferee(call, connection, body)
    existing = call.participant(target.raw_id)
    if existing is not None and existing.state != "left":
        raise invalid_field("targetParticipant", "is already in the call")
    callback_uri = operation_callback(body)
    operation_context = optional(body, "operationContext", str)
    custom_context = optional(body, "customCallingContext", dict, {})

    def accepted(participant: Participant) -> None:
        connection.emit(
            "CallTransferAccepted",
            operation_context=operation_context,
            callback_uri=callback_uri,
            data={"transferTarget": target.to_model(), "transferee": transferee.identifier.to_model()},
            result=TRANSFER_ACCEPTED,
        )
        people.join(call, participant)
        if call.is_group:
            people.leave(call, transferee)
        else:
            connection.disconnect(CALL_ENDED_MESSAGE)
            people.leave(call, connection.app_participant)

    def failed(result: people.Result) -> None:
        if connection.state == "transferring":
            connection.state = "connected"
        connection.emit(
            "CallTransferFailed", operation_context=operation_context, callback_uri=callback_uri, result=result
        )

    if not call.is_group:
        connection.state = "transferring"
    people.ring(
        call,
        target,
        timeout_seconds=request.backend.config.ring_timeout_seconds,
        on_answer=accepted,
        on_refuse=failed,
        custom_context=custom_context,
    )
    return respond(202, context_body(body), call_correlation_id=call.correlation_id)


def _transferee(call: ServerCall, connection: CallConnection, body: dict) -> Participant:
    """The party being transferred: named by `transferee` (required in a group call), else the other side."""
    if body.get("transferee") is None:
        if call.is_group:
            raise invalid_field("transferee", "is required when transferring in a group call")
        others = [p for p in call.present() if p is not connection.app_participant]
        if len(others) != 1:
            raise AcsError(400, 8585, "The call has no single other party to transfer.")
        return others[0]
    identifier = parse_identifier(body["transferee"], "transferee")
    participant = call.participant(identifier.raw_id)
    if participant is None or participant.state != "connected" or participant.is_app:
        raise AcsError(404, 8522, f"Participant {identifier.raw_id} is not in the call.", "transferee")
    return participant


OPERATIONS = [
    Operation("CreateCall", "POST", r"/calling/callConnections", create_call, repeatable=True),
    Operation("AnswerCall", "POST", r"/calling/callConnections:answer", answer_call, repeatable=True),
    Operation("RedirectCall", "POST", r"/calling/callConnections:redirect", redirect_call, repeatable=True),
    Operation("RejectCall", "POST", r"/calling/callConnections:reject", reject_call, repeatable=True),
    Operation("Connect", "POST", r"/calling/callConnections:connect", connect, repeatable=True),
    Operation("CallConnection_GetCall", "GET", CALL, get_call),
    Operation("CallConnection_HangupCall", "DELETE", CALL, hang_up),
    Operation("CallConnection_TerminateCall", "POST", CALL + r":terminate", terminate, repeatable=True),
    Operation(
        "CallConnection_TransferToParticipant", "POST", CALL + r":transferToParticipant", transfer, repeatable=True
    ),
]
