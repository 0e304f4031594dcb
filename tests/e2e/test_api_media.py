"""The HTTP API's media operations end to end: play, cancel media, send DTMF, continuous DTMF recognition."""

from devhost.stack import LocalStack
from emulator.control_client import EmulatorControl
from emulator.scripting import ScriptedCaller
from tests.e2e.api_client import ALICE, BOB, CALLER_ID, Api, callbacks, connected, place, requests_of, wait_until


def test_play_to_one_participant_then_to_all(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    call_id = place(api, targets=[ALICE, BOB], callerId=CALLER_ID)
    connected(api, call_id, count=3)
    bob = ScriptedCaller(control, BOB).join(call_id)

    status, body = api.post(f"/calls/{call_id}/play", {"prompts": [{"text": "Only for Bob."}], "to": [BOB]})
    assert status == 202, body
    assert bob.wait_for_prompt("Only for Bob.") == "Only for Bob."
    status, _ = api.post(f"/calls/{call_id}/play", {"prompts": [{"ssml": "<speak>For everyone.</speak>"}]})
    assert status == 202
    bob.wait_for_prompt("For everyone.")
    [to_bob, to_all] = requests_of(control, call_id, "CallMedia_Play")
    assert [t["rawId"] for t in to_bob["body"]["playTo"]] == [f"4:{BOB}"] and not to_all["body"].get("playTo")
    api.post(f"/calls/{call_id}/terminate")


def test_looped_play_is_canceled(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    call_id = place(api, target=BOB, callerId=CALLER_ID)
    connected(api, call_id)
    music = f"{stack.emulator.url}/emulator/media/hold-music.wav"

    assert api.post(f"/calls/{call_id}/play", {"prompts": [{"audioUrl": music}], "loop": True})[0] == 202
    wait_until(lambda: callbacks(control, call_id, "PlayStarted"), "the music to start")
    assert api.post(f"/calls/{call_id}/cancel-media")[0] == 202

    wait_until(lambda: callbacks(control, call_id, "PlayCanceled"), "PlayCanceled")
    [play] = requests_of(control, call_id, "CallMedia_Play")
    assert play["body"]["playOptions"] == {"loop": True}
    api.post(f"/calls/{call_id}/terminate")


def test_send_dtmf_and_its_limit(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    call_id = place(api, target=BOB, callerId=CALLER_ID)
    connected(api, call_id)

    assert api.post(f"/calls/{call_id}/dtmf", {"to": BOB, "tones": "12#"})[0] == 202
    wait_until(lambda: callbacks(control, call_id, "SendDtmfTonesCompleted"), "SendDtmfTonesCompleted")
    [heard] = [e for e in control.timeline(call_id) if e["summary"].endswith("heard DTMF tones")]
    assert heard["detail"]["tones"] == ["one", "two", "pound"]

    status, body = api.post(f"/calls/{call_id}/dtmf", {"to": BOB, "tones": "1" * 19})
    assert status == 400 and body["error"]["message"] == "tones has 19 tones; at most 18 can be sent at a time"
    api.post(f"/calls/{call_id}/terminate")


def test_continuous_dtmf_tones_are_kept_on_the_call(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    call_id = place(api, target=BOB, callerId=CALLER_ID)
    connected(api, call_id)
    bob = ScriptedCaller(control, BOB).join(call_id)

    assert api.post(f"/calls/{call_id}/participants/{BOB}/dtmf-recognition")[0] == 200
    bob.press("4711#", when_listening=False)

    view = wait_until(lambda: (v := api.call(call_id))["dtmfReceived"] == "4711#" and v, "the tones on the state")
    assert [tone for _, tone in view["data"]["dtmf_received"]] == ["four", "seven", "one", "one", "pound"]
    assert api.delete(f"/calls/{call_id}/participants/{BOB}/dtmf-recognition")[0] == 200
    wait_until(lambda: callbacks(control, call_id, "ContinuousDtmfRecognitionStopped"), "recognition to stop")
    api.post(f"/calls/{call_id}/terminate")
