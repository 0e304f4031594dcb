"""Number masking: pairing lookup on IncomingCall, the peer invited from the proxy, the call ended for both."""

from dataclasses import replace

from handlers import engine
from shared.pairings import InMemoryPairings, Pairing
from shared.routing_rules import RoutingRule
from tests.fixtures.fakes import deliver, dispatch, incoming_call, make_context, present

PROXY, BUYER, SELLER = "+18005550142", "+14255550101", "+14255550102"


def context():
    ctx, acs, store = make_context()
    ctx.routing_rules.entities[PROXY] = RoutingRule(number=PROXY, mode="masking").to_entity()
    pairing = Pairing(name="order-1001", proxy=PROXY, party_a=BUYER, party_b=SELLER)
    return replace(ctx, pairings=InMemoryPairings(pairing)), acs, store


async def connected_masked_call(ctx):
    await dispatch(incoming_call(caller=BUYER, callee=PROXY), ctx)
    [call] = ctx.acs.answered.values()
    await deliver(ctx, "call_connected", call, operationContext="masking")
    return call


def snapshot(*parties, sequence):
    return {
        "participants": [{"identifier": {"rawId": f"4:{party}"}} for party in parties],
        "sequenceNumber": sequence,
    }


async def test_the_peer_is_invited_from_the_proxy_number_with_the_pairing_named():
    ctx, acs, store = context()
    call = await connected_masked_call(ctx)

    [invite] = acs.calls("add-participant")
    assert invite.request.target == SELLER
    assert invite.request.caller_id == f"{PROXY}"
    assert invite.request.sip_headers == {"X-MS-Custom-Pairing": "order-1001"}
    assert store.states[call].step == "connecting-peer"


async def test_a_caller_in_no_pairing_is_rejected_as_forbidden():
    ctx, acs, _ = context()

    await dispatch(incoming_call(caller="+14255550199", callee=PROXY), ctx)

    [reject] = acs.calls("reject")
    assert reject.request == "forbidden" and not acs.calls("answer")


async def test_either_party_leaving_ends_the_call_for_both():
    ctx, acs, store = context()
    call = await connected_masked_call(ctx)
    await deliver(ctx, "add_participant_succeeded", call, operationContext="masking-peer")
    await deliver(ctx, "participants_updated", call, **snapshot(BUYER, SELLER, sequence=3))
    acs.ops.clear()

    await deliver(ctx, "participants_updated", call, **snapshot(BUYER, sequence=4))

    assert acs.names() == ["hang-up"] and acs.ops[0].request.for_everyone is True
    assert store.states[call].step == "hanging-up"


async def test_a_snapshot_older_than_the_join_does_not_end_the_call():
    ctx, acs, store = context()
    call = await connected_masked_call(ctx)
    await deliver(ctx, "add_participant_succeeded", call, operationContext="masking-peer")
    await deliver(ctx, "participants_updated", call, **snapshot(BUYER, SELLER, sequence=3))
    acs.ops.clear()

    await deliver(ctx, "participants_updated", call, **snapshot(BUYER, sequence=2))

    assert acs.ops == [] and store.states[call].step == "connected"


async def test_an_unreachable_peer_ends_the_call():
    ctx, acs, store = context()
    call = await connected_masked_call(ctx)

    await deliver(ctx, "add_participant_failed", call, operationContext="masking-peer")

    assert acs.ops[-1].name == "hang-up" and store.states[call].step == "hanging-up"


async def test_the_watchdog_finds_both_parties_talking_or_ends_a_call_one_of_them_left():
    ctx, acs, store = context()
    call = await connected_masked_call(ctx)  # the peer answers, but AddParticipantSucceeded gets lost
    acs.participants_present = present(f"4:{BUYER}", f"4:{SELLER}")

    ctx.clock.now = store.states[call].deadline
    await engine.sweep(ctx)
    assert store.states[call].step == "connected" and acs.names()[-1] == "call_properties"

    acs.participants_present = present(f"4:{BUYER}")  # the seller left; that ParticipantsUpdated got lost too
    ctx.clock.now = store.states[call].deadline
    await engine.sweep(ctx)
    assert acs.ops[-1].name == "hang-up" and store.states[call].step == "hanging-up"
