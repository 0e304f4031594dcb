"""HTTP API call operations through the served pipeline: validation, what the app asks of ACS, what comes back."""

import pytest

from shared.acs import CallProperties, Party
from tests.fixtures.fakes import present
from tests.fixtures.outbound_fakes import api, outbound_context

ALICE = "8:acs:resource_alice"
CALL = {"callId": "call-1"}


async def test_a_group_call_dials_every_target_with_the_caller_id():
    ctx, acs, store = outbound_context()

    status, placed = await api(ctx, "POST", "calls", {"targets": ["+14255550141", ALICE], "callerId": "+18005550100"})

    [create] = acs.calls("create_call")
    assert create.request.targets == ("+14255550141", ALICE) and create.request.caller_id == "+18005550100"
    assert status == 201 and placed == {
        "callConnectionId": "call-1",
        "correlationId": "corr-1",
        "state": "connecting",
        "flow": "api",
    }
    assert store.states["call-1"].flow == "api" and store.states["call-1"].step == "dialling"


async def test_an_idempotency_key_becomes_a_stable_repeatability_id():
    ctx, acs, _ = outbound_context()

    for _ in range(2):
        await api(ctx, "POST", "calls", {"target": ALICE}, headers={"Idempotency-Key": "order-17"})
    await api(ctx, "POST", "calls", {"target": ALICE}, headers={"Idempotency-Key": "order-18"})

    ids = [op.headers["Repeatability-Request-ID"] for op in acs.calls("create_call")]
    assert ids[0] == ids[1] != ids[2]


async def test_a_bad_idempotency_key_is_refused():
    ctx, _, _ = outbound_context()

    status, body = await api(ctx, "POST", "calls", {"target": ALICE}, headers={"Idempotency-Key": "a b"})

    assert status == 400 and body["error"]["message"].startswith("the Idempotency-Key header must be")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"target": "4255550141"}, "target must be an E.164 phone number"),
        ({"targets": []}, "targets must be a list of 1 to 20 items"),
        ({"targets": [ALICE, "bob"]}, "targets[1] must be an E.164 phone number"),
        ({"target": ALICE, "targets": [ALICE]}, "give exactly one of target"),
        ({"target": "+14255550141"}, "callerId is required to call a phone number"),
        ({"target": ALICE, "flow": "karaoke"}, "flow must be one of reminder, external-ivr"),
        ({"target": ALICE, "flow": "external-ivr"}, "dtmf must be keys such as"),
        ({"target": ALICE, "customContext": {"voipHeaders": {"a": "b"}}}, "customContext: ACS cannot attach"),
        ({"flow": "reminder", "to": ALICE, "name": "Alex"}, "when must be"),
        ([1], "body must be a JSON object"),
    ],
)
async def test_place_call_validation(body, message):
    ctx, acs, _ = outbound_context()

    status, answer = await api(ctx, "POST", "calls", body)

    assert status == 400 and answer["error"] == {"code": "BadRequest", "message": answer["error"]["message"]}
    assert answer["error"]["message"].startswith(message) and acs.ops == []


async def test_external_ivr_and_reminder_flows_are_placed():
    ctx, acs, _ = outbound_context()

    ivr, _ = await api(ctx, "POST", "calls", {"target": ALICE, "flow": "external-ivr", "dtmf": "1" * 5})
    when = "2026-03-14T15:30:00+00:00"
    reminder, body = await api(ctx, "POST", "calls", {"flow": "reminder", "to": ALICE, "when": when, "name": "Alex"})

    assert ivr == reminder == 201 and body["outcome"] == "pending" and body["when"] == when
    assert [op.request.flow for op in acs.calls("create_call")] == ["external-ivr", "reminder"]


async def test_connect_announces_into_a_room():
    ctx, acs, store = outbound_context()

    body = {"roomId": "99486837513245380", "announce": [{"text": "Hello room"}]}
    status, placed = await api(ctx, "POST", "calls/connect", body)

    [connect] = acs.calls("connect_call")
    assert (connect.request.locator, connect.request.locator_id) == ("room_id", "99486837513245380")
    assert status == 201 and placed["flow"] == "announce"
    assert store.states["call-2"].data["announcement"][0]["text"] == "Hello room"


async def test_connect_needs_exactly_one_locator():
    ctx, _, _ = outbound_context()

    both = await api(ctx, "POST", "calls/connect", {"roomId": "1", "groupCallId": "x"})
    bad = await api(ctx, "POST", "calls/connect", {"groupCallId": "x"})

    assert both[1]["error"]["message"] == "give exactly one of serverCallId, groupCallId or roomId"
    assert bad[1]["error"]["message"] == "groupCallId must be a group call id (a GUID)"


async def test_get_call_merges_acs_and_app_views():
    ctx, acs, _ = outbound_context()
    await api(ctx, "POST", "calls", {"target": ALICE})
    acs.properties = CallProperties(
        call_connection_id="call-1",
        server_call_id="server",
        correlation_id="corr",
        state="connected",
        source=None,
        caller_id="+18005550100",
        targets=(Party(raw_id=ALICE, kind="communicationUser"),),
    )
    acs.participants_present = present(ALICE)

    status, view = await api(ctx, "GET", "calls/{callId}", **CALL)

    assert status == 200 and view["state"] == "connected" and view["callerId"] == "+18005550100"
    assert view["participants"] == [{"rawId": ALICE, "kind": "communicationUser", "isMuted": False, "isOnHold": False}]
    assert view["targets"] == [{"rawId": ALICE, "kind": "communicationUser"}]
    assert view["flow"] == "api" and view["step"] == "dialling"


async def test_a_call_acs_has_forgotten_is_shown_from_the_app_view_and_an_unknown_one_is_404():
    ctx, acs, _ = outbound_context()
    await api(ctx, "POST", "calls", {"target": ALICE})
    acs.call_state = None

    status, view = await api(ctx, "GET", "calls/{callId}", **CALL)
    unknown, error = await api(ctx, "GET", "calls/{callId}", callId="call-9")

    assert status == 200 and view["state"] == "disconnected" and view["participants"] == []
    assert unknown == 404 and error["error"]["message"] == "ACS rejected the request: Call not found"


async def test_transfer_carries_transferee_and_custom_context():
    ctx, acs, _ = outbound_context()
    body = {
        "target": "+14255550143",
        "transferee": "+14255550141",
        "customContext": {"sipHeaders": {"X-MS-Custom-Case": "42"}},
    }

    status, answer = await api(ctx, "POST", "calls/{callId}/transfer", body, **CALL)

    [transfer] = acs.calls("transfer")
    assert status == 202 and answer == {"status": "accepted", "target": "+14255550143"}
    assert transfer.request.transferee == "+14255550141"
    assert transfer.request.sip_headers == {"X-MS-Custom-Case": "42"}


async def test_sip_headers_must_be_uui_or_x_ms_custom():
    ctx, _, _ = outbound_context()
    body = {"target": "+14255550143", "customContext": {"sipHeaders": {"X-Other": "1"}}}

    status, answer = await api(ctx, "POST", "calls/{callId}/transfer", body, **CALL)

    assert status == 400
    assert answer["error"]["message"] == (
        "customContext.sipHeaders.X-Other: SIP headers must be User-To-User or X-MS-Custom-..."
    )


async def test_hang_up_leaves_and_terminate_ends_for_everyone():
    ctx, acs, _ = outbound_context()

    assert (await api(ctx, "DELETE", "calls/{callId}", **CALL)) == (204, None)
    assert (await api(ctx, "POST", "calls/{callId}/terminate", **CALL)) == (204, None)

    assert [op.request.for_everyone for op in acs.calls("hang-up")] == [False, True]
    status, body = await api(ctx, "POST", "calls/{callId}/terminate", callId="../etc")
    assert status == 400 and body["error"]["message"].startswith("callId must be a call connection id")
