"""The IVR's vocabulary, shared by its step modules: steps, operation contexts, the menu and the prompts."""

from __future__ import annotations

from collections.abc import Callable

from shared.actions import Choice, Play, Prompt, Recognize
from shared.engine import Transition
from shared.settings import Settings
from shared.state import ANSWERING, CallState

NAME = "ivr"

# Steps. A recognize is issued with its step's name as operation context, so its result finds the step.
MAIN_MENU = "main-menu"
ORDER_NUMBER = "order-number"
CONNECTING_AGENT = "connecting-agent"
WITH_AGENT = "with-agent"
GOODBYE = "goodbye"
HANGING_UP = "hanging-up"
CARD_NUMBER = "card-number"
STEPS = (ANSWERING, MAIN_MENU, ORDER_NUMBER, CARD_NUMBER, CONNECTING_AGENT, WITH_AGENT, GOODBYE, HANGING_UP)

# Operation contexts of actions whose results no step waits for, or that outlive their step.
GREETING = "greeting"
ORDER_STATUS = "order-status"
HOLD_MUSIC = "hold-music"
AGENT = "agent"
CARD_ACCEPTED = "card-accepted"

ORDER_STATUS_CHOICE = "order-status"
AGENT_CHOICE = "agent"
PAY_BILL_CHOICE = "pay-bill"
MENU = (
    Choice(label=ORDER_STATUS_CHOICE, phrases=("order status", "order", "status"), tone="one"),
    Choice(label=AGENT_CHOICE, phrases=("agent", "representative", "operator", "person"), tone="two"),
    Choice(label=PAY_BILL_CHOICE, phrases=("pay a bill", "pay", "payment", "bill"), tone="three"),
)
MENU_KEYS = {"1": ORDER_STATUS_CHOICE, "2": AGENT_CHOICE, "3": PAY_BILL_CHOICE}


def say(text: str, settings: Settings) -> Prompt:
    return Prompt(text=text, voice_name=settings.ivr_voice_name, locale=settings.ivr_locale)


def greeting(settings: Settings) -> Prompt:
    if settings.ivr_greeting_audio_url:
        return Prompt(audio_url=settings.ivr_greeting_audio_url)
    return say(settings.ivr_greeting_text, settings)


def caller(state: CallState) -> str:
    """The raw id of the person who called, recorded when the call was answered."""
    return str(state.data["caller"])


def ask_menu(state: CallState, settings: Settings, *, preface: str | None = None) -> Recognize:
    """Ask for a main-menu choice, by voice or keypad."""
    prompts = (*([say(preface, settings)] if preface else []), say(settings.ivr_menu_prompt, settings))
    return Recognize(
        input_type="choices",
        target=caller(state),
        prompts=prompts,
        choices=MENU,
        initial_silence_timeout=settings.ivr_input_timeout_seconds,
        operation_context=MAIN_MENU,
    )


def ask_order_number(state: CallState, settings: Settings, *, preface: str | None = None) -> Recognize:
    """Ask the caller to key in an order number ending with #."""
    prompts = (*([say(preface, settings)] if preface else []), say(settings.ivr_order_number_prompt, settings))
    return Recognize(
        input_type="dtmf",
        target=caller(state),
        prompts=prompts,
        max_tones=settings.ivr_order_number_max_digits + 1,  # room for the closing "#"
        stop_tones=("pound",),
        initial_silence_timeout=settings.ivr_input_timeout_seconds,
        inter_tone_timeout=settings.ivr_input_timeout_seconds,
        operation_context=ORDER_NUMBER,
    )


def goodbye(settings: Settings, text: str | None = None) -> Transition:
    """Say goodbye (or text); the call is hung up once the prompt has played."""
    return Transition(
        step=GOODBYE,
        actions=(Play(prompts=(say(text or settings.ivr_goodbye_prompt, settings),), operation_context=GOODBYE),),
    )


Ask = Callable[..., Recognize]


def retry_or_goodbye(state: CallState, settings: Settings, ask: Ask, *, preface: str | None = None) -> Transition:
    """Ask again after a failed input, or say goodbye once IVR_MAX_RETRIES inputs in a row have failed."""
    failures = state.retries + 1
    if failures >= settings.ivr_max_retries:
        return goodbye(settings)
    reprompt = ask(state, settings, preface=preface or settings.ivr_no_input_prompt)
    return Transition(step=state.step, retries=failures, actions=(reprompt,))
