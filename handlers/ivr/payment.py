"""Pay a bill: the caller keys a card number and hears its last four digits back.

The card-number step is one of the IVR's sensitive steps: the recording policy (handlers/policies/recording.py)
pauses the call's recording as the call enters it and resumes it as the call leaves it, whichever way it leaves.
The full number is never stored, logged or recorded: only "card_last4" reaches the call's state, and log lines
show the number masked.
"""

from __future__ import annotations

import logging

from handlers.ivr import steps
from handlers.ivr.order_status import spoken_digits
from shared.actions import Play, Recognize
from shared.engine import Transition, Turn
from shared.events import RecognizeCompleted
from shared.logging import call_logger
from shared.settings import Settings
from shared.state import CallState

logger = logging.getLogger(__name__)

CARD_DIGITS = 16


def is_card_number(digits: str) -> bool:
    """16 digits that pass the Luhn check every payment card number carries."""
    if len(digits) != CARD_DIGITS or not digits.isdigit():
        return False
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def masked(digits: str) -> str:
    """A keyed card number as logs may show it: every digit but the last four hidden."""
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def ask_card_number(state: CallState, settings: Settings, *, preface: str | None = None) -> Recognize:
    """Ask the caller to key a 16-digit card number ending with #."""
    prompts = (
        *([steps.say(preface, settings)] if preface else []),
        steps.say(settings.ivr_card_number_prompt, settings),
    )
    return Recognize(
        input_type="dtmf",
        target=steps.caller(state),
        prompts=prompts,
        max_tones=CARD_DIGITS + 1,  # room for the closing "#"
        stop_tones=("pound",),
        initial_silence_timeout=settings.ivr_input_timeout_seconds,
        inter_tone_timeout=settings.ivr_input_timeout_seconds,
        operation_context=steps.CARD_NUMBER,
    )


def ask_for_card(state: CallState, settings: Settings) -> Transition:
    """Ask for the card number (the recording pauses as the call enters this step)."""
    return Transition(step=steps.CARD_NUMBER, retries=0, actions=(ask_card_number(state, settings),))


async def on_card_number(turn: Turn) -> Transition:
    """Accept a valid card number: read back its last four digits and return to the menu."""
    state, settings, event = turn.state, turn.settings, turn.event
    assert isinstance(event, RecognizeCompleted)
    digits = event.keys.rstrip("#")
    valid = is_card_number(digits)
    call_logger(logger, event).info("Card number %s: %s", masked(digits), "accepted" if valid else "invalid")
    if not valid:
        return steps.retry_or_goodbye(state, settings, ask_card_number, preface=settings.ivr_card_invalid_prompt)
    accepted = settings.ivr_card_accepted_prompt.format(last4=spoken_digits(digits[-4:]))
    return Transition(
        step=steps.MAIN_MENU,
        retries=0,
        actions=(
            Play(prompts=(steps.say(accepted, settings),), operation_context=steps.CARD_ACCEPTED),
            steps.ask_menu(state, settings),
        ),
        data={"payment": {"card_last4": digits[-4:]}},
    )


async def on_failed(turn: Turn) -> Transition:
    """No digits keyed in time: ask again, up to IVR_MAX_RETRIES failures."""
    return steps.retry_or_goodbye(turn.state, turn.settings, ask_card_number)
