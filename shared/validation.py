"""The HTTP API's field types: each a check and what the field must be, for request models (handlers/api/).

A Rule is pydantic metadata (`Annotated[str, Rule(...)]`) whose check returns the value to keep or raises
ValueError with the rest of the message ("must be ..."); shared/api_runtime.py puts the field's path in front
("targets[2] must be ..."). Its expectation is also the message for a missing field, and its schema goes into the
OpenAPI document. Nothing here imports pydantic until a model is built, so flows can use the checks for free.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import unquote

from shared.identifiers import (
    CALL_CONNECTION_ID,
    E164,
    GROUP_CALL_ID,
    OPAQUE_ID,
    ROOM_ID,
    SERVER_CALL_ID,
    is_e164,
    is_target,
    matches,
)

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import CoreSchema

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
_TARGET = 'must be an E.164 phone number such as +14255550101 or an ACS user id ("8:acs:...")'
_PHONE_NUMBER = "must be an E.164 phone number such as +14255550101"


@dataclass(frozen=True, eq=False)  # hashed by identity: its schema is a dict
class Rule:
    """A field's check, what it must be (the message for a bad or missing value) and its JSON schema."""

    check: Callable[[Any], Any]
    expectation: str
    schema: Mapping[str, Any] = field(default_factory=dict)

    def validate(self, value: Any) -> Any:
        """The value to keep; ValueError("must be ...") otherwise (the check's own message, or the expectation)."""
        try:
            return self.check(value)
        except ValueError as exc:
            raise ValueError(str(exc) or self.expectation) from None

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        from pydantic_core import core_schema

        return core_schema.no_info_plain_validator_function(self.validate)

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {**self.schema, "description": f"Must be {self.expectation.removeprefix('must be ')}"}


@dataclass(frozen=True)
class Items:
    """A list of 1 to max_items items; each item is checked by its own type."""

    max_items: int

    @property
    def expectation(self) -> str:
        return f"must be a list of 1 to {self.max_items} items"

    def check(self, value: Any) -> Any:
        if not isinstance(value, list) or not value or len(value) > self.max_items:
            raise ValueError(self.expectation)
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        from pydantic_core import core_schema

        return core_schema.no_info_before_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {**handler(schema), "minItems": 1, "maxItems": self.max_items}


def text_rule(max_length: int = 4096) -> Rule:
    """Non-empty text without control characters, at most max_length characters."""

    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.strip() or len(value) > max_length:
            raise ValueError
        if _CONTROL.search(value):
            raise ValueError("must not contain control characters")
        return value

    expectation = f"must be a non-empty string of at most {max_length} characters"
    return Rule(check, expectation, {"type": "string", "minLength": 1, "maxLength": max_length})


def choice_rule(options: tuple[str, ...]) -> Rule:
    def check(value: Any) -> str:
        text = str(text_rule(20).check(value))
        if text not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return text

    return Rule(check, f"must be one of {', '.join(options)}", {"type": "string", "enum": list(options)})


def integer_rule(minimum: int, maximum: int) -> Rule:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise ValueError
        return value

    schema = {"type": "integer", "minimum": minimum, "maximum": maximum}
    return Rule(check, f"must be an integer from {minimum} to {maximum}", schema)


def pattern_rule(pattern: re.Pattern[str], what: str, schema: Mapping[str, Any] | None = None) -> Rule:
    """A string matching pattern (shared/identifiers.py)."""

    def check(value: Any) -> str:
        if not matches(pattern, value):
            raise ValueError
        return str(value)

    return Rule(check, f"must be {what}", schema or {"type": "string"})


def target(value: Any) -> str:
    """An E.164 number ("+14255550101") or an ACS user's raw id ("8:acs:..."); "4:+1..." is read as the number."""
    if isinstance(value, str) and value.startswith("4:"):
        value = value[2:]
    if not is_target(value):
        raise ValueError(_TARGET)
    return str(value)


def phone_number(value: Any) -> str:
    if not is_e164(value):
        raise ValueError(_PHONE_NUMBER)
    return str(value)


def tones(value: Any) -> tuple[str, ...]:
    """Keys as a string ("12#") or a list of keys or Tone names; 1 to 18 of them, as ACS Tone names."""
    items = list(value.replace(" ", "")) if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(item, str) for item in items):
        raise ValueError('must be keys such as "12#" or a list such as ["one", "pound"]')
    names = set(TONE_NAMES.values())
    result = []
    for item in items:
        name = item.lower() if item.lower() in names else TONE_NAMES.get(item.upper())
        if name is None:
            raise ValueError(f"holds {item!r}, which is not a DTMF key (0-9, *, #, A-D)")
        result.append(name)
    if len(result) > MAX_DTMF_TONES:
        raise ValueError(f"has {len(result)} tones; at most {MAX_DTMF_TONES} can be sent at a time")
    return tuple(result)


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError
    return value


def date_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    text = text_rule().check(value)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time such as 2026-03-14T15:30:00+00:00") from None


def headers(*, sip: bool) -> Rule:
    """A map of header names to string values; SIP headers must be User-To-User or X-MS-Custom-*."""

    def check(value: Any) -> dict[str, str]:
        if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
            raise ValueError("must map header names to strings")
        if len(value) > 20 or any(len(k) > 64 or len(v) > 1024 or _CONTROL.search(k + v) for k, v in value.items()):
            raise ValueError("must hold at most 20 headers of printable text")
        for header in value:
            if sip and not _SIP_HEADER.match(header):
                # A sub-path: the message reads "customContext.sipHeaders.X-Other: SIP headers must be ...".
                raise ValueError(f".{header}: SIP headers must be User-To-User or X-MS-Custom-...")
        return dict(value)

    schema = {"type": "object", "additionalProperties": {"type": "string", "maxLength": 1024}, "maxProperties": 20}
    return Rule(check, "must map header names to strings", schema)


def participant_id(value: Any) -> str:
    """A participant in a path: E.164, "4:+1...", or an ACS user id, URL-encoded or not."""
    return target(unquote(value) if isinstance(value, str) else value)


TARGET_SCHEMA = {"type": "string", "pattern": r"^(4:)?\+[1-9][0-9]{6,14}$|^8:", "example": "+14255550101"}

Target = Annotated[str, Rule(target, _TARGET, TARGET_SCHEMA)]
PhoneNumber = Annotated[
    str, Rule(phone_number, _PHONE_NUMBER, {"type": "string", "pattern": f"^{E164.pattern[2:-2]}$"})
]
Text = Annotated[str, text_rule()]
Name = Annotated[str, text_rule(256)]
ShortText = Annotated[str, text_rule(100)]
Tones = Annotated[
    tuple[str, ...],
    Rule(
        tones,
        'must be keys such as "12#" or a list such as ["one", "pound"]',
        {"oneOf": [{"type": "string", "example": "12#"}, {"type": "array", "items": {"type": "string"}}]},
    ),
]
Flag = Annotated[bool, Rule(boolean, "must be true or false", {"type": "boolean"})]
DateTime = Annotated[datetime, Rule(date_time, "must be a non-empty string of at most 4096 characters",
                                    {"type": "string", "format": "date-time"})]  # fmt: skip
SipHeaders = Annotated[dict[str, str], headers(sip=True)]
VoipHeaders = Annotated[dict[str, str], headers(sip=False)]
Locale = Annotated[str, pattern_rule(re.compile(r"\A[a-z]{2,3}-[A-Z]{2}\Z"), 'a locale such as "en-US"')]
ServerCallId = Annotated[str, pattern_rule(SERVER_CALL_ID, "a serverCallId (base64)")]
GroupCallId = Annotated[
    str, pattern_rule(GROUP_CALL_ID, "a group call id (a GUID)", {"type": "string", "format": "uuid"})
]
RoomId = Annotated[str, pattern_rule(ROOM_ID, "a room id (digits, or a GUID)")]

# Route parameters, by name: every route that has one checks it the same way.
PATH_PARAMETERS: dict[str, Rule] = {
    "callId": pattern_rule(CALL_CONNECTION_ID, "a call connection id (letters, digits, '-', '.', '_')"),
    "participantId": Rule(participant_id, _TARGET, TARGET_SCHEMA),
    "invitationId": pattern_rule(OPAQUE_ID, "the invitationId returned when the participant was added"),
    "id": pattern_rule(re.compile(r"\A[A-Za-z0-9]{1,64}\Z"), "a reminder id as returned by POST /api/reminders"),
}
