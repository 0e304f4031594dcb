"""HTTP API, calls: place a call, join a call or room and announce, read a call, transfer, hang up, terminate."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Self

from azure.core.exceptions import ResourceNotFoundError
from pydantic import model_validator

from handlers import outbound, reminder
from handlers.api.media import Prompts, prompts, prompts_json
from handlers.api.reminders import CreateReminder, Reminder, create_reminder
from handlers.outbound import announce, external_ivr
from handlers.policies.continuous_dtmf import received_keys
from shared.acs import Locator, Participant, Party, PlacedCall, Transfer
from shared.actions import HangUp
from shared.api_runtime import ApiModel, exactly_one, repeatable
from shared.context import Context
from shared.logging import mask
from shared.validation import (
    DateTime,
    Flag,
    GroupCallId,
    Items,
    Name,
    PhoneNumber,
    RoomId,
    Rule,
    ServerCallId,
    ShortText,
    SipHeaders,
    Target,
    VoipHeaders,
    text_rule,
)

logger = logging.getLogger(__name__)

FLOWS = (reminder.FLOW.name, external_ivr.NAME)
MAX_TARGETS = 20


def _flow(value: Any) -> str:
    flow = str(text_rule(40).check(value))
    if flow not in FLOWS:
        raise ValueError(f"must be one of {', '.join(FLOWS)} (or absent: the call is driven through the API)")
    return flow


FlowName = Annotated[str, Rule(_flow, f"must be one of {', '.join(FLOWS)}", {"type": "string", "enum": list(FLOWS)})]
DtmfSequence = Annotated[
    list[list[str]],
    Rule(
        external_ivr.parse_sequence,
        external_ivr.SEQUENCE_EXPECTATION,
        {"oneOf": [{"type": "string", "example": "1,2#"}, {"type": "array", "items": {"type": "string"}}]},
    ),
]


class PlaceCall(ApiModel):
    """`target` (one callee) or `targets` (a group call); `flow` "reminder" takes the body of POST /api/reminders."""

    flow: FlowName | None = None
    target: Target | None = None
    targets: Annotated[list[Target], Items(MAX_TARGETS)] | None = None
    caller_id: PhoneNumber | None = None
    display_name: Name | None = None
    # external-ivr: the keys to send once connected, and whether to hang up after them.
    dtmf: DtmfSequence | None = None
    hang_up_after_dtmf: Flag = False
    # reminder: as POST /api/reminders.
    to: Target | None = None
    when: DateTime | None = None
    name: ShortText | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_custom_context(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("customContext") is not None:
            # CreateCallRequest (API 2026-03-12) has no customCallingContext; add and transfer do.
            raise ValueError(
                "customContext: ACS cannot attach custom context when placing a call; place the call, then add the "
                "participant with POST /api/calls/{callId}/participants and customContext, or transfer with it"
            )
        return data

    @model_validator(mode="before")
    @classmethod
    def _one_way_to_name_callees(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("flow") == reminder.FLOW.name:
            return data
        message = "give exactly one of target (one callee) or targets (a list, for a group call)"
        return exactly_one(data, ("target", "targets"), message)

    @model_validator(mode="after")
    def _callees(self) -> Self:
        if self.flow == reminder.FLOW.name:
            for name in ("to", "when", "name"):
                if getattr(self, name) is None:
                    raise ValueError(f"{name} {CreateReminder.model_fields[name].metadata[0].expectation}")
            return self
        if self.flow == external_ivr.NAME:
            if self.targets is not None and len(self.targets) != 1:
                raise ValueError("the external-ivr flow dials exactly one target")
            if self.dtmf is None:
                raise ValueError(f"dtmf {external_ivr.SEQUENCE_EXPECTATION}")
        return self

    @property
    def callees(self) -> list[str]:
        return [self.target] if self.target is not None else list(self.targets or ())


class CallPlaced(ApiModel):
    call_connection_id: str
    correlation_id: str | None
    state: str
    flow: str


def placed(call: PlacedCall, flow: str) -> CallPlaced:
    return CallPlaced(
        call_connection_id=call.call_connection_id, correlation_id=call.correlation_id, state=call.state, flow=flow
    )


async def place_call(ctx: Context, body: PlaceCall, idempotency_key: str | None) -> CallPlaced | Reminder:
    """Place a call: one target or several (a group call), optionally into a flow (reminder, external-ivr)."""
    if body.flow == reminder.FLOW.name:
        assert body.to is not None and body.when is not None and body.name is not None
        request = CreateReminder(to=body.to, when=body.when, name=body.name, caller_id=body.caller_id)
        return await create_reminder(ctx, request, idempotency_key)
    targets = body.callees
    caller_id = outbound.caller_id_for(body.caller_id, targets, ctx.settings)
    data: dict[str, Any] = {}
    if body.flow == external_ivr.NAME:
        data = {"dtmf": body.dtmf, "hang_up_after_dtmf": body.hang_up_after_dtmf}
    flow = body.flow or outbound.API_FLOW
    call = await outbound.dial(
        ctx,
        targets=targets,
        flow=flow,
        data=data,
        caller_id=caller_id,
        display_name=body.display_name,
        headers=repeatable(idempotency_key, "calls"),
    )
    logger.info("Placed call %s to %s (flow %s)", call.call_connection_id, mask(", ".join(targets)), flow)
    return placed(call, flow)


class ConnectCall(ApiModel):
    """Exactly one of serverCallId, groupCallId or roomId; with `announce`, the app plays it and leaves (unless
    `stay`)."""

    server_call_id: ServerCallId | None = None
    group_call_id: GroupCallId | None = None
    room_id: RoomId | None = None
    announce: Prompts | None = None
    stay: Flag = False

    @model_validator(mode="before")
    @classmethod
    def _one_locator(cls, data: Any) -> Any:
        locators = ("serverCallId", "groupCallId", "roomId")
        return exactly_one(data, locators, "give exactly one of serverCallId, groupCallId or roomId")

    @property
    def locator(self) -> tuple[Locator, str]:
        if self.server_call_id:
            return "server_call_id", self.server_call_id
        if self.group_call_id:
            return "group_call_id", self.group_call_id
        assert self.room_id is not None
        return "room_id", self.room_id


async def connect_call(ctx: Context, body: ConnectCall, idempotency_key: str | None) -> CallPlaced:
    """Join a call (serverCallId), group call (groupCallId) or room (roomId), and optionally announce."""
    announcement = prompts(body.announce, ctx.settings)
    flow = announce.NAME if announcement else outbound.API_FLOW
    data = {"announcement": prompts_json(announcement), "stay": body.stay} if announcement else {}
    locator, locator_id = body.locator
    call = await outbound.connect(
        ctx,
        locator=locator,
        locator_id=locator_id,
        flow=flow,
        data=data,
        headers=repeatable(idempotency_key, "connect"),
    )
    return placed(call, flow)


class PartyOut(ApiModel):
    raw_id: str
    kind: str


class ParticipantOut(PartyOut):
    is_muted: bool
    is_on_hold: bool


def party_out(party: Party) -> PartyOut:
    return PartyOut(raw_id=party.raw_id, kind=party.kind)


def participant_out(participant: Participant) -> ParticipantOut:
    party = participant.party
    return ParticipantOut(
        raw_id=party.raw_id, kind=party.kind, is_muted=participant.is_muted, is_on_hold=participant.is_on_hold
    )


class CallView(ApiModel):
    """ACS's view of a call (state, properties, participants) and the app's (flow, step, data)."""

    call_connection_id: str
    server_call_id: str | None = None
    correlation_id: str | None = None
    state: str
    source: PartyOut | None = None
    caller_id: str | None = None
    targets: list[PartyOut] = []
    participants: list[ParticipantOut]
    flow: str | None
    step: str | None
    dtmf_received: str
    data: dict[str, Any]


async def get_call(ctx: Context, call_id: str) -> CallView:
    """ACS's view of a call (state, properties, participants) and the app's (flow, step, data)."""
    state = (await ctx.state.load(call_id)).state
    app_view: dict[str, Any] = {
        "flow": state.flow if state else None,
        "step": state.step if state else None,
        "dtmf_received": received_keys(state.data) if state else "",
        "data": dict(state.data) if state else {},
    }
    try:
        properties = await ctx.acs.call_properties(call_id)
        participants = await ctx.acs.participants(call_id)
    except ResourceNotFoundError:
        if state is None:
            raise
        # ACS forgets a call once it is over; the app still knows how it went.
        return CallView(call_connection_id=call_id, state="disconnected", participants=[], **app_view)
    return CallView(
        call_connection_id=properties.call_connection_id,
        server_call_id=properties.server_call_id,
        correlation_id=properties.correlation_id,
        state=properties.state,
        source=party_out(properties.source) if properties.source else None,
        caller_id=properties.caller_id,
        targets=[party_out(target) for target in properties.targets],
        participants=[participant_out(participant) for participant in participants],
        **app_view,
    )


class CustomContext(ApiModel):
    """SIP headers (User-To-User, X-MS-Custom-*) for phone numbers, VoIP headers for ACS users."""

    sip_headers: SipHeaders | None = None
    voip_headers: VoipHeaders | None = None


class TransferRequest(ApiModel):
    target: Target
    transferee: Target | None = None
    custom_context: CustomContext | None = None
    caller_id: PhoneNumber | None = None


class TransferAccepted(ApiModel):
    status: str
    target: str


async def transfer(ctx: Context, call_id: str, body: TransferRequest, idempotency_key: str | None) -> TransferAccepted:
    """Blind transfer (1:1), or move `transferee` of a group call to `target`."""
    context = body.custom_context or CustomContext()
    request = Transfer(
        target=body.target,
        transferee=body.transferee,
        caller_id=body.caller_id,
        sip_headers=context.sip_headers or None,
        voip_headers=context.voip_headers or None,
        operation_context="api-transfer",
    )
    status = await ctx.acs.transfer(call_id, request, repeatable(idempotency_key, f"{call_id}/transfer"))
    return TransferAccepted(status=status, target=body.target)


async def hang_up(ctx: Context, call_id: str) -> None:
    """Hang up: the app leaves; in a group call the others stay."""
    await ctx.acs.send(call_id, HangUp(for_everyone=False), None)


async def terminate(ctx: Context, call_id: str, idempotency_key: str | None) -> None:
    """End the call for everyone."""
    await ctx.acs.send(call_id, HangUp(for_everyone=True), repeatable(idempotency_key, f"{call_id}/terminate"))
