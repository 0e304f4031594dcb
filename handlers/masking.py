"""Number masking: a call to a proxy number is joined to the caller's paired party, the proxy shown as caller id.

The IncomingCall routing (mode "masking") answers only callers in a pairing of that proxy and puts the pairing
in the call's state; this flow invites the peer with an X-MS-Custom-Pairing header naming the pairing, and
ends the call for both as soon as either of them leaves.
"""

from __future__ import annotations

from shared.actions import AddParticipant, HangUp
from shared.engine import STEP_OVERDUE, Flow, On, Transition, Turn, once_connected
from shared.events import ParticipantsUpdated
from shared.identifiers import E164
from shared.state import ANSWERING, CallState

NAME = "masking"
CONNECTING = "connecting-peer"
CONNECTED = "connected"
HANGING_UP = "hanging-up"
PEER = "masking-peer"
PAIRING_HEADER = "X-MS-Custom-Pairing"


def raw_id(party: str) -> str:
    return f"4:{party}" if E164.match(party) else party


def both_parties(state: CallState) -> set[str]:
    return {state.data["caller"], raw_id(state.data["peer"])}


async def invite_peer(turn: Turn) -> Transition:
    """The caller is answered: ring the peer from the proxy number, naming the pairing in the custom context."""
    state = turn.state
    peer, header = state.data["peer"], {PAIRING_HEADER: state.data["pairing"]}
    is_phone = bool(E164.match(peer))
    invite = AddParticipant(
        target=peer,
        caller_id=state.data["proxy"] if is_phone else None,
        invitation_timeout=turn.settings.masking_invitation_timeout_seconds,
        sip_headers=header if is_phone else None,
        voip_headers=None if is_phone else header,
        operation_context=PEER,
    )
    return Transition(step=CONNECTING, actions=(invite,))


async def on_peer_joined(turn: Turn) -> Transition:
    """Both parties are talking."""
    return Transition(step=CONNECTED)


async def hang_up(turn: Turn) -> Transition:
    """The peer did not answer, or one party left: end the call for everyone."""
    return Transition(step=HANGING_UP, actions=(HangUp(for_everyone=True),))


async def on_participants_updated(turn: Turn) -> Transition | None:
    """When either party leaves a connected masked call, end it for the other one too.

    Snapshots may arrive out of order, so only one newer than the first showing both parties counts.
    """
    event, state = turn.event, turn.state
    assert isinstance(event, ParticipantsUpdated)
    present = {participant.identifier.raw_id for participant in event.participants}
    both_present = both_parties(state) <= present
    joined_at = state.data.get("joined_sequence")
    if both_present and joined_at is None:
        return turn.stay(joined_sequence=event.sequence_number)
    if not both_present and joined_at is not None and event.sequence_number > joined_at:
        return await hang_up(turn)
    return None


async def check_parties(turn: Turn) -> Transition:
    """The watchdog's look at the call: both parties there means connected, anything else ends the call."""
    present = set(turn.event.data.get("participants", ()))
    if both_parties(turn.state) <= present:
        return Transition(step=CONNECTED)
    return await hang_up(turn)


FLOW = Flow(
    name=NAME,
    steps=(ANSWERING, CONNECTING, CONNECTED, HANGING_UP),
    transitions=(
        On("CallConnected", ANSWERING, invite_peer),
        On("AddParticipantSucceeded", CONNECTING, on_peer_joined, context=PEER),
        On("AddParticipantFailed", CONNECTING, hang_up, context=PEER),
        On("ParticipantsUpdated", (CONNECTING, CONNECTED), on_participants_updated),
        On(STEP_OVERDUE, ANSWERING, once_connected(invite_peer)),
        On(STEP_OVERDUE, (CONNECTING, CONNECTED), check_parties),
        On(STEP_OVERDUE, HANGING_UP, hang_up),
    ),
)
