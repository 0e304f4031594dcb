"""HTTP API participant and media operations against a recording fake."""

from types import SimpleNamespace

import pytest

from handlers import api_calls, api_dtmf_recognition, api_media, api_participants
from handlers.policies.continuous_dtmf import received_keys
from shared.errors import BadRequest
from tests.fixtures.fakes import deliver
from tests.fixtures.outbound_fakes import outbound_context, request

CALL = {"callId": "call-1"}
BOB = "+14255550141"


async def test_add_participant_with_timeout_context_and_caller_id():
    ctx, acs, _ = outbound_context()
    acs.results["add_participant"] = SimpleNamespace(invitation_id="inv-1")
    body = {
        "participant": BOB,
        "callerId": "+18005550100",
        "invitationTimeout": 20,
        "customContext": {"sipHeaders": {"User-To-User": "42"}},
    }

    reply = await api_participants.add_participant(request(body, **CALL), ctx)

    [add] = acs.calls("add_participant")
    assert add.kwargs["invitation_timeout"] == 20 and add.kwargs["sip_headers"] == {"User-To-User": "42"}
    assert add.kwargs["source_caller_id_number"].raw_id == "4:+18005550100"
    assert reply.body["invitationId"] == "inv-1"


async def test_cancel_remove_mute_hold_unhold_reach_acs():
    ctx, acs, _ = outbound_context()
    who = {**CALL, "participantId": f"4:{BOB}"}

    await api_participants.cancel_add(request(invitationId="inv-1", **CALL), ctx)
    await api_participants.remove_participant(request(**who), ctx)
    await api_participants.mute(request(**who), ctx)
    await api_participants.hold(request({"music": [{"audioUrl": "https://media.example/moh.wav"}]}, **who), ctx)
    await api_participants.unhold(request(**who), ctx)

    assert acs.names() == [
        "cancel_add_participant_operation",
        "remove_participant",
        "mute_participant",
        "hold",
        "unhold",
    ]
    assert acs.calls("hold")[0].kwargs["play_source"].url == "https://media.example/moh.wav"


async def test_play_to_some_participants_looped():
    ctx, acs, _ = outbound_context()
    body = {"prompts": [{"text": "Hi"}, {"ssml": "<speak>Bye</speak>"}], "to": [BOB], "loop": True}

    await api_media.play(request(body, **CALL), ctx)

    [play] = acs.calls("play_media")
    assert [type(s).__name__ for s in play.args[0]] == ["TextSource", "SsmlSource"]
    assert play.args[1][0].raw_id == f"4:{BOB}" and play.kwargs["loop"] is True


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"to": BOB, "tones": "1" * 19}, "tones has 19 tones; at most 18"),
        ({"to": BOB, "tones": "12x"}, "tones holds 'x', which is not a DTMF key"),
        ({"tones": "1"}, "to must be an E.164 phone number"),
    ],
)
async def test_send_dtmf_validation(body, message):
    ctx, _, _ = outbound_context()
    with pytest.raises(BadRequest, match=message):
        await api_media.send_dtmf(request(body, **CALL), ctx)


async def test_a_prompt_needs_exactly_one_source():
    ctx, _, _ = outbound_context()
    with pytest.raises(BadRequest, match=r"prompts\[0\] must have exactly one of text, ssml or audioUrl"):
        await api_media.play(request({"prompts": [{"text": "a", "ssml": "b"}]}, **CALL), ctx)


async def test_continuous_dtmf_tones_are_kept_in_order_once():
    ctx, acs, store = outbound_context()
    await api_calls.place_call(request({"target": "8:acs:resource_bob"}), ctx)
    await api_dtmf_recognition.start(request(participantId=BOB, **CALL), ctx)

    for sequence, tone in [(2, "two"), (1, "one"), (2, "two"), (3, "pound")]:
        await deliver(
            ctx,
            "continuous_dtmf_tone_received",
            "call-1",
            operationContext="api-dtmf-recognition",
            sequenceId=sequence,
            tone=tone,
        )

    assert received_keys(store.states["call-1"].data) == "12#"
    assert acs.calls("start_continuous_dtmf_recognition")[0].kwargs["operation_context"] == "api-dtmf-recognition"
