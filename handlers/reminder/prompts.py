"""The appointment reminder's vocabulary, shared by its calls and the API: steps, choices, outcomes, prompts."""

from __future__ import annotations

from datetime import datetime

from shared.actions import Choice, Play, Prompt, Recognize
from shared.engine import Transition
from shared.events import CallEvent, RecognizeCompleted
from shared.settings import Settings
from shared.state import CallState

NAME = "reminder"

# Steps after outbound.DIALLING; the recognize uses its step's name as operation context.
CONFIRMING = "confirming"
CLOSING = "closing"
HANGING_UP = "hanging-up"

PENDING = "pending"
OUTCOMES = {"confirm": "confirmed", "cancel": "cancelled", "reschedule": "reschedule-requested"}
NO_RESPONSE = "no-response"
FAILED = "failed"
CHOICES = (
    Choice(label="confirm", phrases=("confirm", "yes", "confirmed"), tone="one"),
    Choice(label="cancel", phrases=("cancel", "no"), tone="two"),
    Choice(label="reschedule", phrases=("reschedule", "change", "another time"), tone="three"),
)
KEYS = {"1": "confirm", "2": "cancel", "3": "reschedule"}

# CreateCallFailed subcodes (contract §3.3) and the outcome each means; anything else is "failed".
FAILURE_OUTCOMES = {8538: "declined", 8539: "busy", 8541: "no-answer"}


def say(text: str, settings: Settings) -> Prompt:
    return Prompt(text=text, voice_name=settings.ivr_voice_name, locale=settings.ivr_locale)


def spoken_time(when: datetime) -> str:
    """ "Saturday, March 14 at 3:30 PM", the way a person would read an appointment out."""
    return f"{when:%A, %B} {when.day} at {when.hour % 12 or 12}:{when:%M %p}"


def ask(state: CallState, settings: Settings, *, preface: str | None = None) -> Recognize:
    """Read the reminder and ask for confirm / cancel / reschedule, by voice or keypad."""
    text = settings.reminder_prompt.format(
        name=state.data["name"], when=spoken_time(datetime.fromisoformat(state.data["when"]))
    )
    prompts = (*([say(preface, settings)] if preface else []), say(text, settings))
    return Recognize(
        input_type="choices",
        target=state.data["targets"][0],
        prompts=prompts,
        choices=CHOICES,
        initial_silence_timeout=settings.ivr_input_timeout_seconds,
        operation_context=CONFIRMING,
    )


def chosen(event: RecognizeCompleted) -> str | None:
    """The label chosen, whether ACS reports it as a choice or as raw keys."""
    return event.choice_label.lower() if event.choice_label else KEYS.get(event.keys[:1])


def close(outcome: str, settings: Settings) -> Transition:
    """Store the outcome and say the matching closing line; the call is hung up once it has played."""
    text = {
        "confirmed": settings.reminder_confirmed_prompt,
        "cancelled": settings.reminder_cancelled_prompt,
        "reschedule-requested": settings.reminder_reschedule_prompt,
    }.get(outcome, settings.reminder_no_response_prompt)
    return Transition(
        step=CLOSING,
        data={"outcome": outcome},
        actions=(Play(prompts=(say(text, settings),), operation_context=CLOSING),),
    )


def failure_outcome(event: CallEvent) -> str:
    """What a CreateCallFailed means for the reminder: no-answer, busy, declined or failed."""
    return FAILURE_OUTCOMES.get(event.result.sub_code, FAILED)
