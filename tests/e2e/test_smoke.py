"""The whole chain works: a caller reaches the IVR through the emulator, the dev host and the app, and is served."""

from devhost.stack import LocalStack
from emulator.control_client import EmulatorControl
from emulator.scripting import ScriptedCaller


def test_caller_checks_an_order_and_hangs_up(stack: LocalStack, control: EmulatorControl) -> None:
    caller = ScriptedCaller(control, "+14255550123").dial("+18005550100")
    caller.wait_for_prompt("Thank you for calling")
    caller.wait_for_prompt("press 1")
    caller.press("1")
    caller.wait_for_prompt("order number")
    caller.press("12345#")
    assert caller.wait_for_prompt("out for delivery") == "Order 1 2 3 4 5 is out for delivery."
    caller.hang_up()
    caller.wait_until_ended()
