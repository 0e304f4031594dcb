"""Scripted callers: a person on a call, driven step by step from pytest or a script through the control API.

caller = ScriptedCaller(control, "+14255550123").dial("+18005550100")
caller.wait_for_prompt("press 1")
caller.press("1")            # waits until a recognize is listening to this caller, then presses
caller.wait_for_prompt("out for delivery")
caller.hang_up()
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Self

from .control_client import EmulatorControl
from .narration import PROMPT_OPERATIONS, listeners_of, prompt_texts

__all__ = ["ScriptedCaller", "prompt_texts"]


class ScriptedCaller:
    """One simulated person. Waits look only at what happened after the caller's previous step."""

    def __init__(self, control: EmulatorControl, number: str, *, timeout: float = 10.0) -> None:
        self.control = control
        self.number = number
        self.raw_id = number if number.startswith(("8:", "4:", "28:")) else f"4:{number}"
        self.timeout = timeout
        self.call_id: str | None = None
        self._cursor = 0

    def dial(self, to: str, *, custom_context: dict | None = None, display_name: str | None = None) -> Self:
        placed = self.control.place_call(self.number, to, custom_context=custom_context, display_name=display_name)
        self.call_id = placed.server_call_id
        return self

    def join(self, call_id: str) -> Self:
        """Script a person who is already on a call (e.g. an agent the app added)."""
        self.call_id = call_id
        return self

    @property
    def timeline(self) -> list[dict[str, Any]]:
        return self.control.timeline(self._call())

    def heard(self) -> list[str]:
        """Every prompt played to this caller so far, in order."""
        prompts = [entry for entry in self.timeline if self._is_prompt_for_me(entry)]
        return [text for entry in prompts for text in prompt_texts(entry["detail"]["body"])]

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], description: str, timeout: float | None = None
    ) -> dict[str, Any]:
        """Poll the call's timeline, past the cursor, until an entry matches; move the cursor past it."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            entries = self.timeline
            for index in range(self._cursor, len(entries)):
                if predicate(entries[index]):
                    self._cursor = index + 1
                    return entries[index]
            if time.monotonic() >= deadline:
                recent = [f"{e['kind']}:{e['summary']}" for e in entries[self._cursor :]][-12:]
                raise TimeoutError(
                    f"{self.number}: no {description} within {timeout or self.timeout}s; since the last step: {recent}"
                )
            time.sleep(0.02)

    def wait_for_prompt(self, containing: str, timeout: float | None = None) -> str:
        """Wait until a prompt whose text (or file URL) contains `containing` is played to this caller."""
        needle = containing.lower()

        def matches(entry: dict[str, Any]) -> bool:
            return self._is_prompt_for_me(entry) and any(
                needle in text.lower() for text in prompt_texts(entry["detail"]["body"])
            )

        entry = self.wait_for(matches, f"prompt containing {containing!r}", timeout)
        return next(text for text in prompt_texts(entry["detail"]["body"]) if needle in text.lower())

    def wait_until_listening(self, timeout: float | None = None) -> None:
        """Wait until a recognize operation listens to this caller (its prompt has finished or was interrupted)."""
        prefix = f"recognize listening to {self.raw_id}"
        self.wait_for(
            lambda e: e["kind"] == "emulator" and e["summary"].startswith(prefix),
            "recognize listening to the caller",
            timeout,
        )

    def wait_for_event(self, event_type: str, timeout: float | None = None) -> dict[str, Any]:
        """Wait until the emulator sends the app a callback of this type (e.g. CallDisconnected)."""
        return self.wait_for(lambda e: e["kind"] == "callback" and e["summary"] == event_type, event_type, timeout)

    def press(self, tones: str, *, when_listening: bool = True) -> Self:
        if when_listening:
            self.wait_until_listening()
        self.control.press(self._call(), self.number, tones)
        return self

    def say(self, text: str, *, when_listening: bool = True) -> Self:
        if when_listening:
            self.wait_until_listening()
        self.control.say(self._call(), self.number, text)
        return self

    def hang_up(self) -> Self:
        self.control.hang_up(self._call(), self.number)
        return self

    def wait_until_ended(self, timeout: float | None = None) -> dict[str, Any]:
        return self.control.wait_for_call(self._call(), "ended", timeout=timeout or self.timeout)

    def _is_prompt_for_me(self, entry: dict[str, Any]) -> bool:
        if entry["kind"] != "request" or entry["summary"] not in PROMPT_OPERATIONS:
            return False
        if entry["detail"].get("status", 0) >= 300:
            return False
        targets = listeners_of(entry["detail"]["body"])
        return not targets or self.raw_id in targets

    def _call(self) -> str:
        if self.call_id is None:
            raise RuntimeError("the caller has not dialled yet: call dial() first")
        return self.call_id
