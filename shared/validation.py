"""Typed reads from an HTTP API request body: each failure is a BadRequest naming the field and what it must be."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shared.errors import BadRequest
from shared.identifiers import is_e164, is_target
from shared.media_urls import MediaUrlPolicy

# ACS sends at most 18 tones per SendDtmfTones request (contract §7.2).
MAX_DTMF_TONES = 18
# Keypad characters and the ACS Tone names they stand for.
TONE_NAMES = {
    "0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six", "7": "seven",
    "8": "eight", "9": "nine", "*": "asterisk", "#": "pound", "A": "a", "B": "b", "C": "c", "D": "d",
}  # fmt: skip
# Custom SIP headers ACS forwards: the UUI header and X-MS-Custom-* headers.
_SIP_HEADER = re.compile(r"\A(?:User-To-User|X-MS-Custom-[A-Za-z0-9-]{1,48})\Z", re.IGNORECASE)
# Control characters other than tab and line breaks have no place in names, prompts or header values.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def target(value: Any, where: str) -> str:
    """An E.164 number ("+14255550101") or an ACS user's raw id ("8:acs:..."); "4:+1..." is read as the number."""
    if isinstance(value, str) and value.startswith("4:"):
        value = value[2:]
    if not is_target(value):
        raise BadRequest(f'{where} must be an E.164 phone number such as +14255550101 or an ACS user id ("8:acs:...")')
    return value


def phone_number(value: Any, where: str) -> str:
    if not is_e164(value):
        raise BadRequest(f"{where} must be an E.164 phone number such as +14255550101")
    return value


def tones(value: Any, where: str) -> tuple[str, ...]:
    """Keys as a string ("12#") or a list of keys or Tone names; 1 to 18 of them, as ACS Tone names."""
    items = list(value.replace(" ", "")) if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(item, str) for item in items):
        raise BadRequest(f'{where} must be keys such as "12#" or a list such as ["one", "pound"]')
    names = set(TONE_NAMES.values())
    result = []
    for item in items:
        name = item.lower() if item.lower() in names else TONE_NAMES.get(item.upper())
        if name is None:
            raise BadRequest(f"{where} holds {item!r}, which is not a DTMF key (0-9, *, #, A-D)")
        result.append(name)
    if len(result) > MAX_DTMF_TONES:
        raise BadRequest(f"{where} has {len(result)} tones; at most {MAX_DTMF_TONES} can be sent at a time")
    return tuple(result)


class Body:
    """One JSON object of a request (or a nested object of it); `where` prefixes field names in messages."""

    def __init__(self, data: Any, where: str = "body") -> None:
        if not isinstance(data, Mapping):
            raise BadRequest(f"{where} must be a JSON object")
        self.data = data
        self.where = where

    def path(self, name: str) -> str:
        return name if self.where == "body" else f"{self.where}.{name}"

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def text(self, name: str, *, required: bool = False, max_length: int = 4096) -> str | None:
        value = self.data.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip() or len(value) > max_length:
            raise BadRequest(f"{self.path(name)} must be a non-empty string of at most {max_length} characters")
        if _CONTROL.search(value):
            raise BadRequest(f"{self.path(name)} must not contain control characters")
        return value

    def boolean(self, name: str, *, default: bool = False) -> bool:
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise BadRequest(f"{self.path(name)} must be true or false")
        return value

    def integer(self, name: str, *, minimum: int, maximum: int) -> int | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise BadRequest(f"{self.path(name)} must be an integer from {minimum} to {maximum}")
        return value

    def media_url(self, name: str, policy: MediaUrlPolicy) -> str:
        """A URL ACS will fetch audio from: refused unless the policy (MEDIA_URL_ALLOWLIST...) allows it."""
        value = self.text(name, required=True)
        assert value is not None
        if reason := policy.refusal(value):
            raise BadRequest(f"{self.path(name)} {reason}")
        return value

    def target(self, name: str, *, required: bool = True) -> str | None:
        if not self.has(name) and not required:
            return None
        return target(self.data.get(name), self.path(name))

    def phone_number(self, name: str) -> str | None:
        return phone_number(self.data[name], self.path(name)) if self.has(name) else None

    def tones(self, name: str) -> tuple[str, ...]:
        return tones(self.data.get(name), self.path(name))

    def date_time(self, name: str) -> datetime:
        value = self.text(name, required=True)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is None:
            raise BadRequest(f"{self.path(name)} must be an ISO 8601 date-time such as 2026-03-14T15:30:00+00:00")
        return parsed

    def obj(self, name: str, *, required: bool = False) -> Body | None:
        if not self.has(name):
            if required:
                raise BadRequest(f"{self.path(name)} is required")
            return None
        return Body(self.data[name], self.path(name))

    def items(self, name: str, *, required: bool = False, max_items: int = 100) -> list[Any]:
        value = self.data.get(name)
        if value is None and not required:
            return []
        if not isinstance(value, list) or not value or len(value) > max_items:
            raise BadRequest(f"{self.path(name)} must be a list of 1 to {max_items} items")
        return value

    def headers(self, name: str, *, sip: bool) -> dict[str, str]:
        """A map of header names to string values; SIP headers must be User-To-User or X-MS-Custom-*."""
        value = self.data.get(name)
        if value is None:
            return {}
        if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
            raise BadRequest(f"{self.path(name)} must map header names to strings")
        if len(value) > 20 or any(len(k) > 64 or len(v) > 1024 or _CONTROL.search(k + v) for k, v in value.items()):
            raise BadRequest(f"{self.path(name)} must hold at most 20 headers of printable text")
        for header in value:
            if sip and not _SIP_HEADER.match(header):
                raise BadRequest(f"{self.path(name)}.{header}: SIP headers must be User-To-User or X-MS-Custom-...")
        return dict(value)
