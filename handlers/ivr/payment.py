"""Pay a bill: the call's recording pauses while the caller keys a card number, and resumes once they are done.

The caller hears the card's last four digits back. The full number is never stored, logged or recorded: only
"card_last4" reaches the call's state, and log lines show the number masked.
"""

from __future__ import annotations

import logging

from handlers import ivr, recording
from handlers.ivr_order_status import spoken_digits
from shared.actions import Play, Recognize
from shared.context import Context
from shared.events import CallEvent, RecognizeCompleted
from shared.flow import Transition, advance
from shared.logging import call_logger
from shared.routing import Router
from shared.settings import Settings
from shared.state import CallState

logger = logging.getLogger(__name__)

CARD_DIGITS = 16

router = Router()


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
    prompts = (*([ivr.say(preface, settings)] if preface else []), ivr.say(settings.ivr_card_number_prompt, settings))
    return Recognize(
        input_type="dtmf",
        target=ivr.caller(state),
        prompts=prompts,
        max_tones=CARD_DIGITS + 1,  # room for the closing "#"
        stop_tones=("pound",),
        initial_silence_timeout=settings.ivr_input_timeout_seconds,
        inter_tone_timeout=settings.ivr_input_timeout_seconds,
        operation_context=ivr.CARD_NUMBER,
    )


def ask_for_card(state: CallState, settings: Settings) -> Transition:
    """Pause the recording, then ask for the card number."""
    asking = Transition(step=ivr.CARD_NUMBER, retries=0, actions=(ask_card_number(state, settings),))
    return recording.pause_for_sensitive_input(state, asking)


def retry(state: CallState, settings: Settings, *, preface: str | None = None) -> Transition:
    """Ask again, or say goodbye after IVR_MAX_RETRIES failures, resuming the recording once the step is left."""
    transition = ivr.retry_or_goodbye(state, settings, ask_card_number, preface=preface)
    if transition.step == ivr.CARD_NUMBER:
        return transition
    return recording.resume_after_sensitive_input(state, transition)


@router.register("RecognizeCompleted", operation_context=ivr.CARD_NUMBER)
async def on_card_number(event: RecognizeCompleted, ctx: Context) -> None:
    """Accept a valid card number: resume recording, read back its last four digits, return to the menu."""
    settings = ctx.settings
    digits = event.keys.rstrip("#")
    valid = is_card_number(digits)
    call_logger(logger, event).info("Card number %s: %s", masked(digits), "accepted" if valid else "invalid")

    def accept(state: CallState) -> Transition:
        if not valid:
            return retry(state, settings, preface=settings.ivr_card_invalid_prompt)
        accepted = settings.ivr_card_accepted_prompt.format(last4=spoken_digits(digits[-4:]))
        back_to_menu = Transition(
            step=ivr.MAIN_MENU,
            retries=0,
            actions=(
                Play(prompts=(ivr.say(accepted, settings),), operation_context=ivr.CARD_ACCEPTED),
                ivr.ask_menu(state, settings),
            ),
            data={"payment": {"card_last4": digits[-4:]}},
        )
        return recording.resume_after_sensitive_input(state, back_to_menu)

    await advance(event, ctx, decide=accept, from_steps={ivr.CARD_NUMBER})


@router.register("RecognizeFailed", operation_context=ivr.CARD_NUMBER)
async def on_card_number_failed(event: CallEvent, ctx: Context) -> None:
    """No digits keyed in time: ask again, up to IVR_MAX_RETRIES failures."""
    await advance(event, ctx, decide=lambda state: retry(state, ctx.settings), from_steps={ivr.CARD_NUMBER})
