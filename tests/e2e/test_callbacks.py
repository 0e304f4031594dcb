"""The callback endpoint end to end: at-least-once delivery is harmless, and only ACS-signed callbacks are obeyed.

These tests POST to the dev host's /api/callbacks themselves, with events the emulator delivered (or built like them)
and tokens minted by the emulator's own TokenIssuer, next to a live call driven through the emulator.
"""

import copy
import re
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from devhost.stack import LocalStack
from emulator.config import API_VERSION
from emulator.control_client import EmulatorControl
from emulator.events import CALL_ENDED_MESSAGE, callback_event
from emulator.scripting import ScriptedCaller, prompt_texts
from shared.settings import Settings
from shared.state import event_marker
from tests.e2e.helpers import (
    app_connection_id,
    app_settings,
    delivered_callbacks,
    delivered_event,
    event_markers,
    mint_token,
    participant_states,
    post_callbacks,
    read_call_state,
    requests_made,
    summaries,
    wait_for_call_state,
    wait_for_timeline,
    wait_until_delivered,
)

IVR_LINE = "+18005550100"


@pytest.fixture
def settings() -> Settings:
    return app_settings()


def call_with_agent(
    stack: LocalStack, control: EmulatorControl, settings: Settings, number: str
) -> tuple[ScriptedCaller, str]:
    """A caller asks for an agent, who answers at once: a call at rest (no media, no timers) at step with-agent."""
    control.set_behaviour(settings.agent_target, answer="answer")
    caller = ScriptedCaller(control, number, timeout=15).dial(IVR_LINE)
    caller.press("2")
    caller.wait_for_event("AddParticipantSucceeded")
    connection_id = app_connection_id(control.call(caller.call_id))
    wait_for_call_state(stack, connection_id, "with-agent")
    wait_until_delivered(control, caller.call_id, connection_id)
    return caller, connection_id


def test_every_callback_delivered_again_is_acknowledged_and_ignored(
    stack: LocalStack, control: EmulatorControl, settings: Settings
) -> None:
    caller, connection_id = call_with_agent(stack, control, settings, "+14255550141")
    state = read_call_state(stack, connection_id)
    markers = event_markers(stack, connection_id)
    requests = requests_made(caller.timeline)
    delivered = delivered_callbacks(control, connection_id)
    delivered_types = [event["type"].rsplit(".", 1)[-1] for d in delivered for event in d["events"]]
    assert {"CallConnected", "RecognizeCompleted", "AddParticipantSucceeded"} <= set(delivered_types)

    # ACS delivers every one of them a second time, in order, each freshly signed.
    responses = [post_callbacks(stack, d["events"], mint_token(stack)) for d in delivered]

    assert [r.status_code for r in responses] == [200] * len(delivered), [r.text for r in responses]
    # No second greeting, menu, hold music or invitation: the emulator got no new request...
    assert requests_made(caller.timeline) == requests, summaries(caller.timeline)
    # ...the stored state was not even rewritten, and no new event was recorded...
    again = read_call_state(stack, connection_id)
    assert again is not None and again["etag"] == state["etag"] and again["step"] == "with-agent"
    assert sorted(event_markers(stack, connection_id)) == sorted(markers)
    # ...and caller and agent are still talking.
    view = control.call(caller.call_id)
    assert participant_states(view)[caller.raw_id] == "connected"
    assert participant_states(view)[settings.agent_target] == "connected"


@pytest.mark.slow  # a whole call with a redelivered failure: over 3 s
def test_a_failed_input_delivered_twice_counts_once(
    stack: LocalStack, control: EmulatorControl, settings: Settings
) -> None:
    """The event marker, not the step, is what stops this one: the call is still in the menu when it comes again."""
    caller = ScriptedCaller(control, "+14255550142", timeout=15).dial(IVR_LINE)
    caller.wait_for_event("RecognizeFailed")  # the caller said nothing
    connection_id = app_connection_id(control.call(caller.call_id))
    first_failure = wait_for_delivery(control, connection_id, "RecognizeFailed")

    response = post_callbacks(stack, [first_failure], mint_token(stack))

    assert response.status_code == 200, response.text
    assert event_marker(first_failure["id"]) in event_markers(stack, connection_id)
    caller.wait_for_prompt("Goodbye")
    caller.wait_until_ended()
    timeline = wait_for_timeline(
        control, caller.call_id, lambda t: "CallConnection_TerminateCall" in requests_made(t), "TerminateCall"
    )
    # Each re-prompt answers one failure the emulator reported; the redelivered one caused none.
    menu = [step_of(entry) for entry in timeline if step_of(entry)]
    assert menu == ["ask", "failed", "ask", "failed", "ask", "failed", "goodbye"], summaries(timeline)
    assert requests_made(timeline).count("CallMedia_Play") == 2  # the greeting and the goodbye, once each
    state = wait_for_call_state(stack, connection_id, "ended")
    assert state["retries"] == 2


def step_of(entry: dict) -> str | None:
    if entry["kind"] == "request" and entry["summary"] == "CallMedia_Recognize":
        return "ask"
    if entry["kind"] == "callback" and entry["summary"] == "RecognizeFailed":
        return "failed"
    if (
        entry["kind"] == "request"
        and entry["summary"] == "CallMedia_Play"
        and "Goodbye" in " ".join(prompt_texts(entry["detail"]["body"]))
    ):
        return "goodbye"
    return None


def wait_for_delivery(control: EmulatorControl, connection_id: str, event_type: str) -> dict:
    deadline = time.monotonic() + 15
    while True:
        try:
            return delivered_event(control, connection_id, event_type)
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def foreign_key_token(audience: str, issuer: str, kid: str) -> str:
    """Claims as ACS would make them, signed by a key that is not the resource's."""
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {"iss": issuer, "aud": audience, "iat": now, "nbf": now, "exp": now + 300}
    return jwt.encode(claims, other, algorithm="RS256", headers={"kid": kid})


def bad_tokens(stack: LocalStack) -> dict[str, tuple[str | None, str]]:
    """name -> (token or None for no Authorization header, what the 401 message must mention)."""
    assert stack.emulator is not None
    issuer = stack.emulator.backend.tokens
    wrong_audience, wrong_issuer = copy.copy(issuer), copy.copy(issuer)
    wrong_audience.audience = "00000000-0000-4000-8000-00000000beef"
    wrong_issuer.issuer = "https://attacker.example"
    return {
        "no token": (None, "missing bearer token"),
        "not a jwt": ("not-a-jwt", "malformed token"),
        "wrong audience": (wrong_audience.mint(), "audience"),
        "wrong issuer": (wrong_issuer.mint(), "issuer"),
        "expired": (issuer.mint(issued_at=time.time() - 3600), "expired"),
        "another key, same kid": (foreign_key_token(issuer.audience, issuer.issuer, issuer.kid), "signature"),
        "another key, unknown kid": (
            foreign_key_token(issuer.audience, issuer.issuer, "not-a-known-kid"),
            "unknown key",
        ),
    }


def test_callbacks_without_a_valid_jwt_are_refused(
    stack: LocalStack, control: EmulatorControl, settings: Settings
) -> None:
    caller, connection_id = call_with_agent(stack, control, settings, "+14255550143")
    state = read_call_state(stack, connection_id)
    requests = requests_made(caller.timeline)
    view = control.call(caller.call_id)
    # Someone who is not ACS tells the app the call is over.
    forged = callback_event(
        "CallDisconnected",
        call_connection_id=connection_id,
        server_call_id=caller.call_id,
        correlation_id=view["correlationId"],
        api_version=API_VERSION,
        result=(200, 7000, CALL_ENDED_MESSAGE),
    )

    for name, (token, complaint) in bad_tokens(stack).items():
        response = post_callbacks(stack, [forged], token)

        assert response.status_code == 401, f"{name}: {response.status_code} {response.text}"
        assert re.search(complaint, response.text, re.IGNORECASE), f"{name}: {response.text!r}"
    # Nothing happened: no request to ACS, the state untouched (not even rewritten), the call still up.
    assert requests_made(caller.timeline) == requests
    again = read_call_state(stack, connection_id)
    assert again is not None and again["etag"] == state["etag"] and again["step"] == "with-agent"
    assert event_marker(forged["id"]) not in event_markers(stack, connection_id)
    assert control.call(caller.call_id)["state"] == "connected"

    # The same event signed by the resource's key is believed: the refusals were about the token, not the body.
    response = post_callbacks(stack, [forged], mint_token(stack))
    assert response.status_code == 200, response.text
    assert read_call_state(stack, connection_id)["step"] == "ended"
