"""HTTP API participant and media operations through the served pipeline."""

import pytest

from handlers.policies.continuous_dtmf import received_keys
from shared.actions import Play, Prompt
from tests.fixtures.fakes import deliver, present
from tests.fixtures.outbound_fakes import api, outbound_context

CALL = {"callId": "call-1"}
BOB = "+14255550141"
PARTICIPANT = "calls/{callId}/participants/{participantId}"


async def test_add_participant_with_timeout_context_and_caller_id():
    ctx, acs, _ = outbound_context()
    body = {
        "participant": BOB,
        "callerId": "+18005550100",
        "invitationTimeout": 20,
        "customContext": {"sipHeaders": {"User-To-User": "42"}},
    }

    status, answer = await api(ctx, "POST", "calls/{callId}/participants", body, **CALL)

    [add] = acs.calls("add-participant")
    assert add.request.invitation_timeout == 20 and add.request.sip_headers == {"User-To-User": "42"}
    assert add.request.caller_id == "+18005550100" and add.request.target == BOB
    assert status == 202 and answer == {"invitationId": "invitation-1", "participant": BOB, "status": "inviting"}


async def test_an_invitation_timeout_out_of_range_is_named():
    ctx, _, _ = outbound_context()
    body = {"participant": "8:acs:r_u", "invitationTimeout": 181}

    status, answer = await api(ctx, "POST", "calls/{callId}/participants", body, **CALL)

    assert status == 400 and answer["error"]["message"] == "invitationTimeout must be an integer from 1 to 180"


async def test_cancel_remove_mute_hold_unhold_reach_acs():
    ctx, acs, _ = outbound_context()
    who = {**CALL, "participantId": f"4%3A{BOB}"}  # URL-encoded, as a path carries it
    music = {"music": [{"audioUrl": "https://media.example/moh.wav"}]}

    canceled = await api(ctx, "DELETE", "calls/{callId}/invitations/{invitationId}", invitationId="inv-1", **CALL)
    assert canceled == (202, {"invitationId": "inv-1", "status": "canceling"})
    assert (await api(ctx, "DELETE", PARTICIPANT, **who))[1] == {"participant": BOB, "status": "removing"}
    assert (await api(ctx, "POST", PARTICIPANT + "/mute", **who))[1] == {"participant": BOB, "isMuted": True}
    assert (await api(ctx, "POST", PARTICIPANT + "/hold", music, **who))[1] == {"participant": BOB, "isOnHold": True}
    assert (await api(ctx, "POST", PARTICIPANT + "/unhold", **who))[1] == {"participant": BOB, "isOnHold": False}

    assert acs.names() == ["cancel_add", "remove_participant", "mute", "hold", "unhold"]
    assert acs.calls("hold")[0].request == (BOB, Prompt(audio_url="https://media.example/moh.wav"))


async def test_hold_music_is_one_prompt_from_an_allowed_host():
    ctx, _, _ = outbound_context()
    who = {**CALL, "participantId": BOB}
    two = {"music": [{"text": "a"}, {"text": "b"}]}
    elsewhere = {"music": [{"audioUrl": "https://evil.example/moh.wav"}]}

    assert (await api(ctx, "POST", PARTICIPANT + "/hold", two, **who))[1]["error"]["message"] == (
        "music must hold one prompt (it is looped)"
    )
    status, answer = await api(ctx, "POST", PARTICIPANT + "/hold", elsewhere, **who)
    assert status == 400 and answer["error"]["message"].startswith("music[0].audioUrl ")


async def test_list_and_get_participants():
    ctx, acs, _ = outbound_context()
    acs.participants_present = present(f"4:{BOB}")

    listed = await api(ctx, "GET", "calls/{callId}/participants", **CALL)
    one = await api(ctx, "GET", PARTICIPANT, participantId=BOB, **CALL)
    missing = await api(ctx, "GET", PARTICIPANT, participantId="+14255550199", **CALL)

    entry = {"rawId": f"4:{BOB}", "kind": "phoneNumber", "isMuted": False, "isOnHold": False}
    assert listed == (200, {"participants": [entry]}) and one == (200, entry)
    assert missing[0] == 404 and missing[1]["error"]["message"] == "ACS rejected the request: Participant not found"


async def test_play_to_some_participants_looped():
    ctx, acs, _ = outbound_context()
    body = {"prompts": [{"text": "Hi"}, {"ssml": "<speak>Bye</speak>"}], "to": [BOB], "loop": True}

    status, answer = await api(ctx, "POST", "calls/{callId}/play", body, **CALL)

    [play] = acs.actions(Play)
    assert play.prompts == (
        Prompt(text="Hi", voice_name="en-US-JennyNeural", locale="en-US"),
        Prompt(ssml="<speak>Bye</speak>"),
    )
    assert play.to == (BOB,) and play.loop is True
    assert status == 202 and answer == {"status": "playing", "to": [BOB]}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"to": BOB, "tones": "1" * 19}, "tones has 19 tones; at most 18"),
        ({"to": BOB, "tones": "12x"}, "tones holds 'x', which is not a DTMF key"),
        ({"tones": "1"}, "to must be an E.164 phone number"),
        ({"to": BOB}, 'tones must be keys such as "12#"'),
    ],
)
async def test_send_dtmf_validation(body, message):
    ctx, _, _ = outbound_context()

    status, answer = await api(ctx, "POST", "calls/{callId}/dtmf", body, **CALL)

    assert status == 400 and answer["error"]["message"].startswith(message)


async def test_send_dtmf_and_cancel_media():
    ctx, acs, _ = outbound_context()

    status, answer = await api(ctx, "POST", "calls/{callId}/dtmf", {"to": BOB, "tones": "1#"}, **CALL)
    canceled = await api(ctx, "POST", "calls/{callId}/cancel-media", **CALL)

    assert status == 202 and answer == {"status": "sending", "to": BOB, "tones": ["one", "pound"]}
    assert canceled == (202, {"status": "canceled"}) and acs.names() == ["send-dtmf", "cancel-all-media"]


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        ({"text": "a", "ssml": "b"}, "prompts[0] must have exactly one of text, ssml or audioUrl"),
        ({}, "prompts[0] must have exactly one of text, ssml or audioUrl"),
        ({"text": "a\x00"}, "prompts[0].text must not contain control characters"),
        ({"text": "a", "voice": "v" * 101}, "prompts[0].voice must be a non-empty string of at most 100 characters"),
        ("hello", "prompts[0] must be a JSON object"),
    ],
)
async def test_a_prompt_needs_exactly_one_clean_source(prompt, message):
    ctx, _, _ = outbound_context()

    status, answer = await api(ctx, "POST", "calls/{callId}/play", {"prompts": [prompt]}, **CALL)

    assert status == 400 and answer["error"]["message"] == message


async def test_continuous_dtmf_tones_are_kept_in_order_once():
    ctx, acs, store = outbound_context()
    await api(ctx, "POST", "calls", {"target": "8:acs:resource_bob"})
    await api(ctx, "POST", PARTICIPANT + "/dtmf-recognition", participantId=BOB, **CALL)

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
    assert acs.calls("continuous_dtmf")[0].request == (BOB, True, "api-dtmf-recognition")
    stopped = await api(ctx, "DELETE", PARTICIPANT + "/dtmf-recognition", participantId=BOB, **CALL)
    assert stopped == (200, {"participant": BOB, "recognizing": False})
