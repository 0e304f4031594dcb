"""Number masking: a call to a proxy number is joined to the caller's paired party, the proxy shown as caller id.

The IncomingCall routing (mode "masking") answers only callers in a pairing of that proxy and puts the pairing
in the call's state; this module invites the peer with an X-MS-Custom-Pairing header naming the pairing, and
ends the call for both as soon as either of them leaves.
"""

from __future__ import annotations

from shared.actions import AddParticipant, HangUp
from shared.context import Context
from shared.events import CallEvent, ParticipantEvent, ParticipantsUpdated
from shared.flow import Transition, advance
from shared.routing import Router
from shared.settings import E164
from shared.state import ANSWERING, CallState

FLOW = "masking"
CONNECTING = "connecting-peer"
CONNECTED = "connected"
HANGING_UP = "hanging-up"
PEER = "masking-peer"
PAIRING_HEADER = "X-MS-Custom-Pairing"

router = Router()


def raw_id(party: str) -> str:
    return f"4:{party}" if E164.match(party) else party


def invite_peer(state: CallState, ctx: Context) -> Transition:
    """Ring the peer from the proxy number, naming the pairing in the call's custom context."""
    peer, header = state.data["peer"], {PAIRING_HEADER: state.data["pairing"]}
    is_phone = bool(E164.match(peer))
    invite = AddParticipant(
        target=peer,
        caller_id=state.data["proxy"] if is_phone else None,
        invitation_timeout=ctx.settings.masking_invitation_timeout_seconds,
        sip_headers=header if is_phone else None,
        voip_headers=None if is_phone else header,
        operation_context=PEER,
    )
    return Transition(step=CONNECTING, actions=(invite,))


@router.register("CallConnected", operation_context=FLOW)
async def on_caller_connected(event: CallEvent, ctx: Context) -> None:
    """The caller is answered: invite their peer."""
    await advance(event, ctx, decide=lambda state: invite_peer(state, ctx), from_steps={ANSWERING})


@router.register("AddParticipantSucceeded", operation_context=PEER)
async def on_peer_joined(event: ParticipantEvent, ctx: Context) -> None:
    """Both parties are talking."""
    await advance(event, ctx, decide=lambda state: Transition(step=CONNECTED), from_steps={CONNECTING})


@router.register("AddParticipantFailed", operation_context=PEER)
async def on_peer_unreachable(event: ParticipantEvent, ctx: Context) -> None:
    """The peer did not answer: end the call."""
    await advance(
        event,
        ctx,
        decide=lambda state: Transition(step=HANGING_UP, actions=(HangUp(for_everyone=True),)),
        from_steps={CONNECTING},
    )


@router.register("ParticipantsUpdated")
async def on_participants_updated(event: ParticipantsUpdated, ctx: Context) -> None:
    """When either party leaves a connected masked call, end it for the other one too.

    Snapshots may arrive out of order, so only one newer than the first showing both parties counts.
    """
    present = {participant.identifier.raw_id for participant in event.participants}

    def decide(state: CallState) -> Transition | None:
        if state.flow != FLOW or state.step not in (CONNECTING, CONNECTED):
            return None
        both_present = {state.data["caller"], raw_id(state.data["peer"])} <= present
        joined_at = state.data.get("joined_sequence")
        if both_present and joined_at is None:
            return Transition(step=state.step, data={"joined_sequence": event.sequence_number})
        if not both_present and joined_at is not None and event.sequence_number > joined_at:
            return Transition(step=HANGING_UP, actions=(HangUp(for_everyone=True),))
        return None

    await advance(event, ctx, decide=decide)
