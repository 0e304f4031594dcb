"""The IVR end to end: a simulated caller on the emulator, the app in the dev host, state in Azurite.

Each test reads like the call it places, then checks (1) what the caller heard and the callbacks the emulator sent,
(2) the emulator's view of the call and (3) the call's state as stored in Table Storage.
"""

import logging

import pytest

from devhost.stack import LocalStack
from emulator.control_client import EmulatorControl
from emulator.scripting import ScriptedCaller, prompt_texts
from shared.engine import split_context
from shared.settings import Settings
from tests.e2e.helpers import (
    app_connection_id,
    app_settings,
    callbacks,
    entries_after,
    event_markers,
    participant_states,
    request_bodies,
    requests_made,
    summaries,
    wait_for_call_state,
    wait_for_timeline,
    wait_until_delivered,
)

IVR_LINE = "+18005550100"
APP = f"4:{IVR_LINE}"


@pytest.fixture
def settings() -> Settings:
    return app_settings()


@pytest.fixture
def agent(settings: Settings) -> str:
    assert settings.agent_target.startswith("8:acs:"), "the local settings invite an ACS user as the agent"
    return settings.agent_target


@pytest.fixture
def app_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """What the dev host and the app log while the test runs (they run in this process, on their own threads)."""
    caplog.set_level(logging.INFO)
    return caplog


def assert_no_errors_logged(app_log: pytest.LogCaptureFixture) -> None:
    messages = [record.getMessage() for record in app_log.records]
    assert any(m.startswith("Call disconnected") for m in messages), "the app's log is not being captured"
    errors = [f"{r.name}: {r.getMessage()}" for r in app_log.records if r.levelno >= logging.ERROR]
    assert errors == []


def dial(control: EmulatorControl, number: str = "+14255550123") -> tuple[ScriptedCaller, str]:
    """A caller rings the IVR line; returns them once they hear the greeting, with the app's call connection id."""
    caller = ScriptedCaller(control, number, timeout=15).dial(IVR_LINE)
    caller.wait_for_prompt("Thank you for calling")
    return caller, app_connection_id(control.call(caller.call_id))


def last_prompts(caller: ScriptedCaller, operation: str = "CallMedia_Recognize") -> list[str]:
    """The texts of the most recent Play or Recognize request."""
    return prompt_texts(request_bodies(caller.timeline, operation)[-1])


def hang_up_and_wait(caller: ScriptedCaller) -> dict:
    caller.hang_up()
    caller.wait_for_event("CallDisconnected")
    return caller.wait_until_ended()


def assert_ended_cleanly(
    stack: LocalStack, control: EmulatorControl, caller: ScriptedCaller, connection_id: str
) -> dict:
    """Stored state `ended` with an empty outbox, every callback delivered and answered 2xx."""
    state = wait_for_call_state(stack, connection_id, "ended")
    deliveries = wait_until_delivered(control, caller.call_id, connection_id)
    assert deliveries and all(d["ok"] for d in deliveries), [(d["status"], d["error"]) for d in deliveries]
    return state


def test_happy_path_order_status_by_keys(stack: LocalStack, control: EmulatorControl, settings: Settings) -> None:
    caller, connection_id = dial(control)
    caller.wait_for_prompt("press 1")
    caller.press("1")
    caller.wait_for_prompt("order number")
    caller.press("12345#")
    assert caller.wait_for_prompt("out for delivery") == "Order 1 2 3 4 5 is out for delivery."
    caller.wait_for_prompt("press 1")  # back at the main menu
    caller.wait_until_listening()
    view = hang_up_and_wait(caller)

    # (1) what the caller heard, and the conversation between the emulator and the app
    assert caller.heard() == [
        settings.ivr_greeting_text,
        settings.ivr_menu_prompt,
        settings.ivr_order_number_prompt,
        "Order 1 2 3 4 5 is out for delivery.",
        settings.ivr_menu_prompt,
    ]
    timeline = caller.timeline
    assert requests_made(timeline) == [
        "AnswerCall",
        "CallMedia_Play",
        "CallMedia_Recognize",
        "CallRecording_StartRecording",  # after the greeting is on its way, so it never delays it
        "CallMedia_Recognize",
        "CallMedia_Play",
        "CallMedia_Recognize",
    ], summaries(timeline)
    recognized = [(t, c) for t, c in callbacks(timeline) if t.startswith("Recognize")]
    assert recognized == [("RecognizeCompleted", "main-menu"), ("RecognizeCompleted", "order-number")]
    assert callbacks(timeline)[-1] == ("CallDisconnected", None)
    # (2) the emulator: the call is over, everyone left, the app's leg is disconnected
    assert view["state"] == "ended"
    assert participant_states(view) == {caller.raw_id: "left", APP: "left"}
    assert [c["state"] for c in view["connections"]] == ["disconnected"]
    # (3) stored: the call ended in the IVR, having gone through the menu with no failed inputs
    state = assert_ended_cleanly(stack, control, caller, connection_id)
    assert (state["flow"], state["retries"], state.get("deadline")) == ("ivr", 0, None)  # nothing left to wait for
    assert state["data"]["caller"] == caller.raw_id and state["data"]["callee"] == APP
    # one marker per event the app acted on: CallConnected, two RecognizeCompleted, CallDisconnected
    assert len(event_markers(stack, connection_id)) >= 4


def test_order_lookup_unknown_then_known_order(stack: LocalStack, control: EmulatorControl, settings: Settings) -> None:
    caller, connection_id = dial(control)
    caller.press("1")
    caller.wait_for_prompt("order number")
    caller.press("99999#")

    # An unknown order: "not found", and the caller is asked again (one failed input so far).
    assert caller.wait_for_prompt("could not find") == "Sorry, we could not find order 9 9 9 9 9."
    assert last_prompts(caller) == ["Sorry, we could not find order 9 9 9 9 9.", settings.ivr_order_number_prompt]
    state = wait_for_call_state(stack, connection_id, "order-number")
    assert state["retries"] == 1

    caller.press("24680#")
    assert caller.wait_for_prompt("is shipped") == "Order 2 4 6 8 0 is shipped."
    caller.wait_for_prompt("press 1")
    state = wait_for_call_state(stack, connection_id, "main-menu")
    assert state["retries"] == 0  # a found order resets the failure count

    view = hang_up_and_wait(caller)
    timeline = caller.timeline
    keyed = [split_context(body["operationContext"])[0] for body in request_bodies(timeline, "CallMedia_Recognize")]
    assert keyed == ["main-menu", "order-number", "order-number", "main-menu"]
    order_results = [
        e["detail"]["data"]["dtmfResult"]["tones"]
        for e in timeline
        if e["kind"] == "callback" and split_context(e["detail"].get("operationContext"))[0] == "order-number"
    ]
    assert order_results == [["nine"] * 5, ["two", "four", "six", "eight", "zero"]]
    assert view["state"] == "ended"
    assert_ended_cleanly(stack, control, caller, connection_id)


def test_menu_choice_by_speech(stack: LocalStack, control: EmulatorControl, settings: Settings) -> None:
    caller, connection_id = dial(control)
    caller.say("order status")

    assert caller.wait_for_prompt("order number") == settings.ivr_order_number_prompt
    menu_result = next(e for e in caller.timeline if e["kind"] == "callback" and e["summary"] == "RecognizeCompleted")[
        "detail"
    ]["data"]
    assert menu_result["recognitionType"] == "choices"
    assert menu_result["choiceResult"]["label"] == "order-status"
    assert menu_result["resultInformation"]["subCode"] == 8545  # speech option matched
    state = wait_for_call_state(stack, connection_id, "order-number")
    assert state["retries"] == 0

    caller.press("11111#")
    assert caller.wait_for_prompt("being prepared") == "Order 1 1 1 1 1 is being prepared."
    hang_up_and_wait(caller)
    assert_ended_cleanly(stack, control, caller, connection_id)


@pytest.mark.slow  # three menus and three silence timeouts: over 3 s
def test_retries_exhausted_after_three_no_inputs(
    stack: LocalStack, control: EmulatorControl, settings: Settings
) -> None:
    assert settings.ivr_max_retries == 3
    caller, connection_id = dial(control)

    # The caller says nothing at all.
    caller.wait_for_prompt("Thank you for calling. Goodbye.")
    view = caller.wait_until_ended()
    caller.wait_for_event("CallDisconnected")

    # (1) asked three times; "didn't catch that" twice; goodbye; then the app hung up for everyone
    heard = caller.heard()
    assert heard == [
        settings.ivr_greeting_text,
        settings.ivr_menu_prompt,
        settings.ivr_no_input_prompt,
        settings.ivr_menu_prompt,
        settings.ivr_no_input_prompt,
        settings.ivr_menu_prompt,
        settings.ivr_goodbye_prompt,
    ]
    timeline = wait_for_timeline(
        control, caller.call_id, lambda t: "CallConnection_TerminateCall" in requests_made(t), "TerminateCall"
    )
    failures = [
        e["detail"]["data"]["resultInformation"]["subCode"]
        for e in timeline
        if e["kind"] == "callback" and e["summary"] == "RecognizeFailed"
    ]
    assert failures == [8510, 8510, 8510]  # initial silence timeout
    assert ("PlayCompleted", "goodbye") in callbacks(timeline)
    assert requests_made(timeline)[-1] == "CallConnection_TerminateCall"
    disconnected = next(e for e in timeline if e["summary"] == "CallDisconnected")["detail"]["data"]
    assert "ended by Azure Communication Service Call Automation API" in disconnected["resultInformation"]["message"]
    # (2) the call is over for everyone
    assert view["state"] == "ended"
    assert participant_states(view) == {caller.raw_id: "left", APP: "left"}
    # (3) stored: ended, with the failures counted up to the goodbye
    state = assert_ended_cleanly(stack, control, caller, connection_id)
    assert state["retries"] == 2  # the third failure says goodbye rather than counting


def test_a_wrong_key_counts_as_a_failed_input(stack: LocalStack, control: EmulatorControl, settings: Settings) -> None:
    caller, connection_id = dial(control)
    caller.press("9")

    assert caller.wait_for_prompt("didn't catch that") == settings.ivr_no_input_prompt
    assert last_prompts(caller) == [settings.ivr_no_input_prompt, settings.ivr_menu_prompt]
    failure = next(e for e in caller.timeline if e["summary"] == "RecognizeFailed")["detail"]["data"]
    assert failure["resultInformation"]["subCode"] == 8534  # incorrect tone
    assert wait_for_call_state(stack, connection_id, "main-menu")["retries"] == 1

    caller.press("1")
    caller.wait_for_prompt("order number")
    assert wait_for_call_state(stack, connection_id, "order-number")["retries"] == 0
    hang_up_and_wait(caller)
    assert_ended_cleanly(stack, control, caller, connection_id)


def test_agent_answers_and_the_hold_music_stops(
    stack: LocalStack, control: EmulatorControl, settings: Settings, agent: str
) -> None:
    # The agent lets it ring for 25 s (scaled): longer than two rounds of the 10 s hold music, within the timeout.
    assert settings.agent_invitation_timeout_seconds > 25
    control.set_behaviour(agent, answer="answer", answer_after_ms=25_000)
    caller, connection_id = dial(control)
    caller.press("2")

    # Hold music, looping, while the agent's phone rings.
    assert caller.wait_for_prompt("hold-music.wav") == settings.hold_music_url
    hold = request_bodies(caller.timeline, "CallMedia_Play")[-1]
    assert hold["playOptions"]["loop"] is True
    ringing = control.wait_for_call(caller.call_id, lambda v: participant_states(v).get(agent) == "ringing")
    media = ringing["connections"][0]["features"]["media"]["operations"]
    assert [(split_context(op["operationContext"])[0], op["phase"]) for op in media] == [("hold-music", "playing")]
    invited = request_bodies(caller.timeline, "CallConnection_AddParticipant")
    assert [body["participantToAdd"]["rawId"] for body in invited] == [agent]
    assert invited[0]["invitationTimeoutInSeconds"] == settings.agent_invitation_timeout_seconds
    assert wait_for_call_state(stack, connection_id, "connecting-agent")["retries"] == 0

    # The agent picks up: the music stops (cancel-all), caller and agent are connected.
    caller.wait_for_event("AddParticipantSucceeded", timeout=15)
    caller.wait_for_event("PlayCanceled")
    wait_for_call_state(stack, connection_id, "with-agent")
    view = control.call(caller.call_id)

    timeline = caller.timeline
    music = [t for t, c in callbacks(timeline) if c == "hold-music"]
    assert music == ["PlayStarted", "PlayCanceled"]  # it never completed: it looped until canceled
    after_join = requests_made(entries_after(timeline, "callback", "AddParticipantSucceeded"))
    assert after_join == ["CallMedia_CancelAllMediaOperations"]
    assert participant_states(view) == {caller.raw_id: "connected", APP: "connected", agent: "connected"}
    assert not any(p["isOnHold"] for p in view["participants"])
    assert view["connections"][0]["features"]["media"]["operations"] == []

    # The caller hangs up: in a three-party call that would leave the agent talking to the app, so the app
    # ends the call for everyone.
    caller.hang_up()
    assert caller.wait_until_ended()["state"] == "ended"
    timeline = wait_for_timeline(
        control, caller.call_id, lambda t: "CallConnection_TerminateCall" in requests_made(t), "TerminateCall"
    )
    assert requests_made(entries_after(timeline, "person", f"{caller.raw_id} hung up")) == [
        "CallConnection_TerminateCall"
    ]
    assert_ended_cleanly(stack, control, caller, connection_id)


@pytest.mark.parametrize("behaviour", [pytest.param("never", marks=pytest.mark.slow), "decline"])  # never: 30 s ringing
def test_agent_does_not_answer_apology_and_the_call_ends(
    stack: LocalStack, control: EmulatorControl, settings: Settings, agent: str, behaviour: str
) -> None:
    control.set_behaviour(agent, answer=behaviour)
    caller, connection_id = dial(control)
    caller.press("2")
    caller.wait_for_prompt("hold-music.wav")

    assert caller.wait_for_prompt("no agent is available") == settings.ivr_agent_unavailable_prompt
    view = caller.wait_until_ended()
    caller.wait_for_event("CallDisconnected")

    timeline = wait_for_timeline(
        control, caller.call_id, lambda t: "CallConnection_TerminateCall" in requests_made(t), "TerminateCall"
    )
    failed = next(e for e in timeline if e["summary"] == "AddParticipantFailed")["detail"]["data"]
    assert failed["resultInformation"]["subCode"] == {"never": 8541, "decline": 8538}[behaviour]
    assert [t for t, c in callbacks(timeline) if c == "hold-music"] == ["PlayStarted", "PlayCanceled"]
    after_failure = requests_made(entries_after(timeline, "callback", "AddParticipantFailed"))
    assert after_failure == ["CallMedia_CancelAllMediaOperations", "CallMedia_Play", "CallConnection_TerminateCall"]
    assert caller.heard()[-2:] == [settings.hold_music_url, settings.ivr_agent_unavailable_prompt]
    assert view["state"] == "ended"
    assert agent not in participant_states(view)  # never joined
    assert participant_states(view) == {caller.raw_id: "left", APP: "left"}
    assert_ended_cleanly(stack, control, caller, connection_id)


def test_caller_hangs_up_mid_menu(
    stack: LocalStack, control: EmulatorControl, app_log: pytest.LogCaptureFixture
) -> None:
    caller, connection_id = dial(control)
    caller.wait_until_listening()
    assert wait_for_call_state(stack, connection_id, "main-menu")

    view = hang_up_and_wait(caller)

    state = assert_ended_cleanly(stack, control, caller, connection_id)
    assert state["step"] == "ended"
    timeline = caller.timeline
    assert requests_made(entries_after(timeline, "callback", "CallDisconnected")) == [], summaries(timeline)
    assert callback_types_after_hang_up(timeline) == ["CallDisconnected"]
    assert view["state"] == "ended"
    assert participant_states(view) == {caller.raw_id: "left", APP: "left"}
    assert view["connections"][0]["features"]["media"]["operations"] == []
    assert_no_errors_logged(app_log)


def test_caller_hangs_up_on_hold_while_the_agent_rings(
    stack: LocalStack, control: EmulatorControl, agent: str, app_log: pytest.LogCaptureFixture
) -> None:
    control.set_behaviour(agent, answer="never")
    caller, connection_id = dial(control)
    caller.press("2")
    caller.wait_for_prompt("hold-music.wav")
    control.wait_for_call(caller.call_id, lambda v: participant_states(v).get(agent) == "ringing")

    view = hang_up_and_wait(caller)

    # The agent's phone stops ringing with the call; the app hears only CallDisconnected and does nothing more.
    assert view["state"] == "ended"
    assert participant_states(view) == {caller.raw_id: "left", APP: "left", agent: "left"}
    state = assert_ended_cleanly(stack, control, caller, connection_id)
    assert state["step"] == "ended"
    timeline = caller.timeline
    assert callback_types_after_hang_up(timeline) == ["CallDisconnected"]
    assert requests_made(entries_after(timeline, "callback", "CallDisconnected")) == [], summaries(timeline)
    assert not any(e["summary"] in (f"{agent} answered", f"{agent} joined") for e in timeline)
    assert_no_errors_logged(app_log)


def test_caller_hangs_up_during_the_greeting(
    stack: LocalStack, control: EmulatorControl, app_log: pytest.LogCaptureFixture
) -> None:
    caller, connection_id = dial(control)

    view = hang_up_and_wait(caller)

    assert_ended_cleanly(stack, control, caller, connection_id)
    assert view["state"] == "ended"
    assert callback_types_after_hang_up(caller.timeline) == ["CallDisconnected"]
    assert_no_errors_logged(app_log)


def callback_types_after_hang_up(timeline: list[dict]) -> list[str]:
    """Callbacks after the caller hung up, except the recording's (it stops with the call: docs/recording.md)."""
    hung_up = next(i for i, e in enumerate(timeline) if e["kind"] == "person" and e["summary"].endswith("hung up"))
    after = timeline[hung_up:]
    return [e["summary"] for e in after if e["kind"] == "callback" and e["summary"] != "RecordingStateChanged"]
