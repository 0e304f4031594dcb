"""Dialling out to an external IVR and navigating it with DTMF, end to end."""

from devhost.stack import LocalStack
from emulator.control_client import EmulatorControl
from shared.validation import TONE_NAMES
from tests.e2e.api_client import Api, callbacks, wait_until

EXTERNAL_IVR = "+14255550130"


def heard(control: EmulatorControl, call_id: str) -> list[list[str]]:
    """The tone batches the external IVR heard, in order."""
    return [e["detail"]["tones"] for e in control.timeline(call_id) if e["summary"].endswith("heard DTMF tones")]


def test_sequence_is_sent_step_by_step_then_the_call_hangs_up(stack: LocalStack, control: EmulatorControl) -> None:
    control.set_behaviour(EXTERNAL_IVR, "answer", answer_after_ms=50)
    api = Api(stack)
    long_step = "1234567890" * 2  # 20 tones: more than ACS sends at once, so it is split 18 + 2
    status, placed = api.post(
        "/calls",
        {
            "target": EXTERNAL_IVR,
            "callerId": "+18005550100",
            "flow": "external-ivr",
            "dtmf": f"2,{long_step}#",
            "hangUpAfterDtmf": True,
        },
    )
    assert status == 201, placed
    call_id = placed["callConnectionId"]

    control.wait_for_call(call_id, "ended")
    first_18 = [TONE_NAMES[key] for key in long_step[:18]]
    assert heard(control, call_id) == [["two"], first_18, ["nine", "zero", "pound"]]
    view = wait_until(lambda: (v := api.call(call_id))["step"] == "ended" and v, "the call's state to end")
    assert len(callbacks(control, call_id, "SendDtmfTonesCompleted")) == 3
    assert len(view["data"]["dtmf_sent"]) == 3


def test_without_hang_up_the_call_is_left_to_the_api(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    status, placed = api.post(
        "/calls", {"target": EXTERNAL_IVR, "callerId": "+18005550100", "flow": "external-ivr", "dtmf": ["1", "42#"]}
    )
    assert status == 201, placed
    call_id = placed["callConnectionId"]

    view = wait_until(lambda: (v := api.call(call_id))["step"] == "navigated" and v, "navigation to finish")
    assert view["data"]["dtmf_sent"] == [["one"], ["four", "two", "pound"]]
    assert heard(control, call_id) == [["one"], ["four", "two", "pound"]]

    assert api.post(f"/calls/{call_id}/terminate")[0] == 204
    control.wait_for_call(call_id, "ended")
