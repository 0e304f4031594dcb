"""How long a step may wait for ACS before the watchdog looks at the call: the longest its actions can take, plus
grace. A deadline is an upper bound, never a timer the flow relies on: it only matters when an event is lost."""

from __future__ import annotations

import re
from collections.abc import Iterable

from shared.actions import Action, AddParticipant, Play, Prompt, Recognize, SendDtmf
from shared.settings import Settings

# Text-to-speech pace and ACS's defaults where an action leaves them out (contract §7.3).
WORDS_PER_SECOND = 150 / 60
DEFAULT_INITIAL_SILENCE_SECONDS = 5
DEFAULT_INTER_TONE_SECONDS = 5
DEFAULT_INVITATION_SECONDS = 30
SECONDS_PER_DTMF_TONE = 0.5
_TAG = re.compile(r"<[^>]+>")


def prompt_seconds(prompt: Prompt, settings: Settings) -> float:
    """How long a prompt plays: text at TTS pace, SSML without its markup, audio files WATCHDOG_AUDIO_SECONDS."""
    if prompt.audio_url:
        return settings.watchdog_audio_seconds
    words = _TAG.sub(" ", prompt.ssml or prompt.text or "").split()
    return len(words) / WORDS_PER_SECOND


def action_seconds(action: Action, settings: Settings) -> float:
    """The longest an action keeps the call busy before ACS reports on it."""
    match action:
        case Play(loop=True):
            return 0.0  # music that plays until something else happens: the step waits for that, not for this
        case Play():
            return sum(prompt_seconds(prompt, settings) for prompt in action.prompts)
        case Recognize():
            prompts = sum(prompt_seconds(prompt, settings) for prompt in action.prompts)
            silence = action.initial_silence_timeout or DEFAULT_INITIAL_SILENCE_SECONDS
            keys = (action.inter_tone_timeout or DEFAULT_INTER_TONE_SECONDS) * (action.max_tones or 1)
            return prompts + silence + (keys if action.input_type == "dtmf" else 0)
        case AddParticipant():
            return float(action.invitation_timeout or DEFAULT_INVITATION_SECONDS)
        case SendDtmf():
            return SECONDS_PER_DTMF_TONE * len(action.tones)
        case _:
            return 0.0


def step_wait(actions: Iterable[Action], settings: Settings) -> float:
    """Seconds (real time) a step that issued actions may wait for their outcome before it counts as overdue."""
    acs_seconds = sum(action_seconds(action, settings) for action in actions)
    return acs_seconds * settings.watchdog_time_scale + settings.watchdog_grace_seconds
