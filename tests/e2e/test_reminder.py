"""Appointment reminders end to end: placed over HTTP, answered by a scripted person, outcome stored."""

import pytest

from devhost.stack import LocalStack
from emulator.control_client import EmulatorControl
from emulator.scripting import ScriptedCaller
from tests.e2e.api_client import Api, callbacks, wait_until

PATIENT = "+14255550111"
APPOINTMENT = {"when": "2026-03-14T15:30:00+00:00", "name": "Alex"}


def place_reminder(api: Api, to: str = PATIENT) -> dict:
    status, body = api.post("/reminders", {"to": to, **APPOINTMENT})
    assert status == 201, body
    assert body["outcome"] == "pending"
    return body


def outcome_of(api: Api, reminder_id: str, expected: str, timeout: float = 10.0) -> dict:
    def probe() -> dict | None:
        status, body = api.get(f"/reminders/{reminder_id}")
        assert status == 200, body
        return body if body["outcome"] == expected else None

    return wait_until(probe, f"reminder outcome {expected}", timeout)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("press 1", "confirmed"), ("say cancel", "cancelled"), ("press 3", "reschedule-requested")],
)
def test_patient_answers_the_reminder(stack: LocalStack, control: EmulatorControl, answer: str, expected: str) -> None:
    control.set_behaviour(PATIENT, "answer", answer_after_ms=100)
    api = Api(stack)
    reminder = place_reminder(api)
    patient = ScriptedCaller(control, PATIENT).join(reminder["callConnectionId"])

    prompt = patient.wait_for_prompt("reminder of your appointment")
    assert prompt.startswith("Hello Alex, this is a reminder of your appointment on Saturday, March 14 at 3:30 PM.")
    how, what = answer.split(" ", 1)
    patient.press(what) if how == "press" else patient.say(what)
    patient.wait_for_prompt("Goodbye")
    patient.wait_until_ended()

    stored = outcome_of(api, reminder["id"], expected)
    assert stored["to"] == PATIENT and stored["name"] == "Alex"
    assert callbacks(control, reminder["callConnectionId"], "RecognizeCompleted")


@pytest.mark.slow  # two prompts and two silence timeouts: over 2 s
def test_silence_is_retried_then_recorded_as_no_response(stack: LocalStack, control: EmulatorControl) -> None:
    api = Api(stack)
    reminder = place_reminder(api)
    patient = ScriptedCaller(control, PATIENT).join(reminder["callConnectionId"])

    patient.wait_for_prompt("reminder of your appointment")
    patient.wait_for_prompt("didn't catch that")  # REMINDER_MAX_RETRIES=2: one re-prompt, then goodbye
    patient.wait_for_prompt("We did not get your answer")
    patient.wait_until_ended()

    outcome_of(api, reminder["id"], "no-response")
    assert len(callbacks(control, reminder["callConnectionId"], "RecognizeFailed")) == 2


@pytest.mark.parametrize(("behaviour", "expected"), [("busy", "busy"), ("decline", "declined"), ("never", "no-answer")])
def test_unreached_patient_is_recorded(
    stack: LocalStack, control: EmulatorControl, behaviour: str, expected: str
) -> None:
    number = "+14255550112"
    control.set_behaviour(number, behaviour)
    api = Api(stack)
    reminder = place_reminder(api, number)

    outcome_of(api, reminder["id"], expected, timeout=15)
    assert callbacks(control, reminder["callConnectionId"], "CreateCallFailed")


def test_invalid_reminders_are_refused_with_the_field_named(stack: LocalStack) -> None:
    api = Api(stack)
    assert api.post("/reminders", {"to": "4255550111", **APPOINTMENT})[1]["error"]["message"].startswith("to must be")
    status, body = api.post("/reminders", {"to": PATIENT, "when": "next tuesday", "name": "Alex"})
    assert status == 400 and body["error"]["message"].startswith("when must be an ISO 8601 date-time")
    assert api.get("/reminders/0123456789abcdef")[0] == 404
