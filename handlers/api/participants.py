"""HTTP API, participants: list, get one, add (invitation), cancel an add, remove, mute, hold and unhold, and
continuous DTMF recognition.

The keys pressed during continuous recognition are kept on the call's state by the continuous_dtmf policy
(handlers/policies/) and shown by GET /calls/{callId} as dtmfReceived.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import model_validator

from handlers import outbound
from handlers.api.calls import CustomContext, ParticipantOut, participant_out
from handlers.api.media import Prompts, prompts
from handlers.policies.continuous_dtmf import RECOGNIZING
from shared.actions import AddParticipant
from shared.api_runtime import ApiModel, repeatable
from shared.context import Context
from shared.validation import Name, PhoneNumber, Target, integer_rule

MAX_INVITATION_TIMEOUT = 180


class Participants(ApiModel):
    participants: list[ParticipantOut]


async def list_participants(ctx: Context, call_id: str) -> Participants:
    """Everyone in the call."""
    return Participants(participants=[participant_out(p) for p in await ctx.acs.participants(call_id)])


async def get_participant(ctx: Context, call_id: str, participant_id: str) -> ParticipantOut:
    """One participant (404 if not in the call)."""
    return participant_out(await ctx.acs.participant(call_id, participant_id))


class AddParticipantRequest(ApiModel):
    participant: Target
    caller_id: PhoneNumber | None = None
    display_name: Name | None = None
    invitation_timeout: Annotated[int, integer_rule(1, MAX_INVITATION_TIMEOUT)] | None = None
    custom_context: CustomContext | None = None


class Invitation(ApiModel):
    invitation_id: str
    participant: str
    status: str


async def add_participant(
    ctx: Context, call_id: str, body: AddParticipantRequest, idempotency_key: str | None
) -> Invitation:
    """Invite someone; the answer has the invitationId to cancel the add with."""
    who = body.participant
    context = body.custom_context or CustomContext()
    action = AddParticipant(
        target=who,
        caller_id=outbound.caller_id_for(body.caller_id, [who], ctx.settings),
        display_name=body.display_name,
        invitation_timeout=body.invitation_timeout,
        sip_headers=context.sip_headers or None,
        voip_headers=context.voip_headers or None,
        operation_context="api-add-participant",
    )
    invitation = await ctx.acs.add_participant(call_id, action, repeatable(idempotency_key, f"{call_id}/add/{who}"))
    return Invitation(invitation_id=invitation, participant=who, status="inviting")


class InvitationCanceled(ApiModel):
    invitation_id: str
    status: str


async def cancel_add(ctx: Context, call_id: str, invitation_id: str, idempotency_key: str | None) -> InvitationCanceled:
    """Stop ringing someone who has not answered yet."""
    headers = repeatable(idempotency_key, f"{call_id}/cancel/{invitation_id}")
    await ctx.acs.cancel_add(call_id, invitation_id, "api-cancel-add", headers)
    return InvitationCanceled(invitation_id=invitation_id, status="canceling")


class ParticipantChange(ApiModel):
    participant: str
    status: str


async def remove_participant(
    ctx: Context, call_id: str, participant_id: str, idempotency_key: str | None
) -> ParticipantChange:
    """Remove a participant from the call."""
    headers = repeatable(idempotency_key, f"{call_id}/remove/{participant_id}")
    await ctx.acs.remove_participant(call_id, participant_id, "api-remove", headers)
    return ParticipantChange(participant=participant_id, status="removing")


class Muted(ApiModel):
    participant: str
    is_muted: bool


async def mute(ctx: Context, call_id: str, participant_id: str, idempotency_key: str | None) -> Muted:
    """Mute a participant (ACS mutes ACS users only)."""
    headers = repeatable(idempotency_key, f"{call_id}/mute/{participant_id}")
    await ctx.acs.mute(call_id, participant_id, "api-mute", headers)
    return Muted(participant=participant_id, is_muted=True)


class HoldRequest(ApiModel):
    music: Prompts | None = None

    @model_validator(mode="after")
    def _one_prompt(self) -> HoldRequest:
        if self.music is not None and len(self.music) > 1:
            raise ValueError("music must hold one prompt (it is looped)")
        return self


class HoldState(ApiModel):
    participant: str
    is_on_hold: bool


async def hold(ctx: Context, call_id: str, participant_id: str, body: HoldRequest) -> HoldState:
    """Put a participant on hold, with music (looped) if given."""
    music = prompts(body.music, ctx.settings)
    await ctx.acs.hold(call_id, participant_id, music[0] if music else None, "api-hold")
    return HoldState(participant=participant_id, is_on_hold=True)


async def unhold(ctx: Context, call_id: str, participant_id: str) -> HoldState:
    """Take a participant off hold."""
    await ctx.acs.unhold(call_id, participant_id, "api-unhold")
    return HoldState(participant=participant_id, is_on_hold=False)


class DtmfRecognition(ApiModel):
    participant: str
    recognizing: bool


async def start_dtmf_recognition(ctx: Context, call_id: str, participant_id: str) -> DtmfRecognition:
    """Start continuous DTMF recognition for a participant."""
    await ctx.acs.continuous_dtmf(call_id, participant_id, True, RECOGNIZING)
    return DtmfRecognition(participant=participant_id, recognizing=True)


async def stop_dtmf_recognition(ctx: Context, call_id: str, participant_id: str) -> DtmfRecognition:
    """Stop continuous DTMF recognition for a participant."""
    await ctx.acs.continuous_dtmf(call_id, participant_id, False, RECOGNIZING)
    return DtmfRecognition(participant=participant_id, recognizing=False)
