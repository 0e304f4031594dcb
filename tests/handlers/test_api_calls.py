"""HTTP API call operations against a recording fake: validation, what reaches ACS, what comes back."""

from types import SimpleNamespace

import pytest
from azure.communication.callautomation import CommunicationUserIdentifier, PhoneNumberIdentifier

from handlers import api_calls
from shared.api import ApiRequest
from shared.errors import BadRequest
from shared.validation import Body
from tests.fixtures.outbound_fakes import outbound_context, request

ALICE = "8:acs:resource_alice"


async def test_a_group_call_dials_every_target_with_the_caller_id():
    ctx, acs, store = outbound_context()

    reply = await api_calls.place_call(request({"targets": ["+14255550141", ALICE], "callerId": "+18005550100"}), ctx)

    [create] = acs.calls("create_call")
    assert [t.raw_id for t in create.args[0]] == ["4:+14255550141", ALICE]
    assert create.kwargs["source_caller_id_number"].raw_id == "4:+18005550100"
    assert reply.status == 201 and reply.body["callConnectionId"] == "call-1"
    assert store.states["call-1"].flow == "api" and store.states["call-1"].step == "dialling"


async def test_an_idempotency_key_becomes_a_stable_repeatability_id():
    ctx, acs, _ = outbound_context()
    keyed = ApiRequest(body=Body({"target": ALICE}), idempotency_key="order-17")

    await api_calls.place_call(keyed, ctx)
    await api_calls.place_call(keyed, ctx)

    ids = {op.kwargs["headers"]["Repeatability-Request-ID"] for op in acs.calls("create_call")}
    assert len(ids) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"target": "4255550141"}, "target must be an E.164 phone number"),
        ({"targets": []}, "targets must be a list of 1 to 20 items"),
        ({"target": ALICE, "targets": [ALICE]}, "give exactly one of target"),
        ({"target": "+14255550141"}, "callerId is required to call a phone number"),
        ({"target": ALICE, "flow": "karaoke"}, "flow must be one of reminder, external-ivr"),
        ({"target": ALICE, "flow": "external-ivr", "dtmf": "1" * 5}, None),
        ({"target": ALICE, "customContext": {"voipHeaders": {"a": "b"}}}, "customContext: ACS cannot attach"),
    ],
)
async def test_place_call_validation(body, message):
    ctx, _, _ = outbound_context()
    if message is None:
        assert (await api_calls.place_call(request(body), ctx)).status == 201
        return
    with pytest.raises(BadRequest, match=message):
        await api_calls.place_call(request(body), ctx)


async def test_connect_announces_into_a_room():
    ctx, acs, store = outbound_context()

    body = {"roomId": "99486837513245380", "announce": [{"text": "Hello room"}]}
    reply = await api_calls.connect_call(request(body), ctx)

    assert acs.calls("connect_call")[0].kwargs["room_id"] == "99486837513245380"
    assert reply.body["flow"] == "announce"
    assert store.states["call-2"].data["announcement"][0]["text"] == "Hello room"


async def test_get_call_merges_acs_and_app_views():
    ctx, acs, _ = outbound_context()
    await api_calls.place_call(request({"target": ALICE}), ctx)
    acs.results["get_call_properties"] = SimpleNamespace(
        call_connection_id="call-1",
        server_call_id="server",
        correlation_id="corr",
        call_connection_state="connected",
        source=None,
        source_caller_id_number=PhoneNumberIdentifier("+18005550100"),
        targets=[],
    )
    acs.participants = [SimpleNamespace(identifier=CommunicationUserIdentifier(ALICE), is_muted=True, is_on_hold=False)]

    view = (await api_calls.get_call(request(callId="call-1"), ctx)).body

    assert view["state"] == "connected" and view["callerId"] == "+18005550100"
    assert view["participants"] == [{"rawId": ALICE, "kind": "communicationUser", "isMuted": True, "isOnHold": False}]
    assert view["flow"] == "api" and view["step"] == "dialling"


async def test_transfer_carries_transferee_and_custom_context():
    ctx, acs, _ = outbound_context()
    body = {
        "target": "+14255550143",
        "transferee": "+14255550141",
        "customContext": {"sipHeaders": {"X-MS-Custom-Case": "42"}},
    }

    assert (await api_calls.transfer(request(body, callId="call-1"), ctx)).status == 202

    [transfer] = acs.calls("transfer_call_to_participant")
    assert transfer.kwargs["transferee"].raw_id == "4:+14255550141"
    assert transfer.kwargs["sip_headers"] == {"X-MS-Custom-Case": "42"}


async def test_sip_headers_must_be_uui_or_x_ms_custom():
    ctx, _, _ = outbound_context()
    body = {"target": "+14255550143", "customContext": {"sipHeaders": {"X-Other": "1"}}}

    with pytest.raises(BadRequest, match=r"customContext\.sipHeaders\.X-Other"):
        await api_calls.transfer(request(body, callId="call-1"), ctx)


async def test_hang_up_leaves_and_terminate_ends_for_everyone():
    ctx, acs, _ = outbound_context()

    await api_calls.hang_up(request(callId="call-1"), ctx)
    await api_calls.terminate(request(callId="call-1"), ctx)

    assert [op.args for op in acs.calls("hang_up")] == [(False,), (True,)]
    with pytest.raises(BadRequest, match="callId"):
        await api_calls.terminate(request(callId="../etc"), ctx)
