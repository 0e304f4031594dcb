"""Number masking end to end: buyer and seller meet through a proxy number and never see each other's number."""

from devhost.stack import LocalStack
from emulator.control_client import EmulatorControl
from emulator.scripting import ScriptedCaller
from tests.e2e.api_client import Api, callbacks, requests_of, wait_until

PROXY = "+18005550142"  # seeded by shared.seed: pairs the buyer and the seller as "order-1001"
BUYER = "+14255550101"
SELLER = "+14255550102"


def seller_joins(control: EmulatorControl, caller: ScriptedCaller) -> dict:
    def joined() -> dict | None:
        view = control.call(caller.call_id)
        seller = next((p for p in view["participants"] if p["rawId"] == f"4:{SELLER}"), None)
        return view if seller and seller["state"] == "connected" else None

    return wait_until(joined, "the seller to join")


def app_leg(control: EmulatorControl, caller: ScriptedCaller) -> str:
    return wait_until(lambda: control.call(caller.call_id)["callConnectionIds"], "the app to answer")[0]


def test_buyer_reaches_seller_through_the_proxy_and_hanging_up_ends_it_for_both(
    stack: LocalStack, control: EmulatorControl
) -> None:
    control.set_behaviour(SELLER, "answer", answer_after_ms=100)
    buyer = ScriptedCaller(control, BUYER).dial(PROXY)

    view = seller_joins(control, buyer)
    call_id = app_leg(control, buyer)
    seller = next(p for p in view["participants"] if p["rawId"] == f"4:{SELLER}")
    assert seller["customContext"] == {"sipHeaders": {"X-MS-Custom-Pairing": "order-1001"}}
    [invite] = requests_of(control, call_id, "CallConnection_AddParticipant")
    assert invite["body"]["sourceCallerIdNumber"] == {"value": PROXY}  # the seller sees the proxy, not the buyer
    assert BUYER not in str(invite["body"])
    state = wait_until(lambda: (v := Api(stack).call(call_id))["step"] == "connected" and v, "the masked call")
    assert state["data"]["pairing"] == "order-1001"

    buyer.hang_up()
    control.wait_for_call(call_id, "ended")
    assert requests_of(control, call_id, "CallConnection_TerminateCall")
    wait_until(lambda: Api(stack).call(call_id)["step"] == "ended", "the call's state to end")


def test_seller_hanging_up_ends_the_call_for_the_buyer(stack: LocalStack, control: EmulatorControl) -> None:
    buyer = ScriptedCaller(control, BUYER).dial(PROXY)
    seller_joins(control, buyer)

    ScriptedCaller(control, SELLER).join(buyer.call_id).hang_up()

    buyer.wait_until_ended()


def test_caller_in_no_pairing_is_rejected(stack: LocalStack, control: EmulatorControl) -> None:
    stranger = ScriptedCaller(control, "+14255550199").dial(PROXY)

    view = stranger.wait_until_ended()
    assert view["callConnectionIds"] == []
    assert any(e["summary"] == "reject reason: forbidden" for e in control.timeline(stranger.call_id))
    assert not callbacks(control, stranger.call_id)
