"""The one guarded path for JSON from outside: size, depth and number limits, strict UTF-8, no lone surrogates.

Python's json module alone turns hostile input into 5xx: nesting 100,000 deep raises RecursionError, an integer
of more than 4,300 digits raises ValueError, and a "\\ud800" escape yields a lone surrogate that fails later, far
from the parser, when the text is encoded (table keys, logs, HTTP requests). Every body the app reads from an
HTTP request or an event goes through `loads` (raw bytes) or `check` (a document another layer already decoded,
such as an Event Grid event's data), so each of those is a BadRequest (400) or PayloadTooLarge (413) instead.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from shared.errors import BadRequest, PayloadTooLarge

# Real payloads nest 6 levels at most (ParticipantsUpdated: data.participants[].identifier.phoneNumber.value).
MAX_DEPTH = 32
# Event Grid refuses events over 1 MB; ACS callback batches are a few KB.
MAX_EVENT_BYTES = 1024 * 1024
# The HTTP API's largest legitimate body (10 SSML prompts of a few KB) is far below this.
MAX_API_BYTES = 256 * 1024
# Integers in the contract are int32 or small; 40 digits leaves room and stays far from Python's 4,300 limit.
MAX_NUMBER_CHARS = 40
MAX_STRING_CHARS = 256 * 1024

_SURROGATE = re.compile("[\ud800-\udfff]")


def loads(body: bytes, *, max_bytes: int, what: str = "body") -> Any:
    """Decode body as one JSON document within the limits; BadRequest/PayloadTooLarge name what is wrong."""
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"{what} is larger than {max_bytes} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{what} is not valid UTF-8 (byte {exc.start})") from None
    try:
        document = json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    except _Refused as exc:
        raise BadRequest(f"{what} {exc}") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"{what} is not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise BadRequest(f"{what} is nested more than {MAX_DEPTH} levels deep") from None
    check(document, what)
    return document


def check(document: Any, what: str = "body") -> Any:
    """Walk an already decoded document (iteratively) and refuse what `loads` would refuse; returns it unchanged."""
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            check_text(value, what)
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if abs(value) >= 10**MAX_NUMBER_CHARS:
                raise BadRequest(f"{what} holds a number longer than {MAX_NUMBER_CHARS} digits")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise BadRequest(f"{what} holds a number that is not finite")
        elif isinstance(value, Mapping | list | tuple):
            if depth > MAX_DEPTH:
                raise BadRequest(f"{what} is nested more than {MAX_DEPTH} levels deep")
            items = value.items() if isinstance(value, Mapping) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    check_text(key, what)
                pending.append((item, depth + 1))
        else:
            raise BadRequest(f"{what} holds a {type(value).__name__}, which JSON cannot carry")
    return document


def check_text(value: str, what: str = "body") -> str:
    """value, unless it holds a lone surrogate (not encodable as UTF-8) or is longer than MAX_STRING_CHARS."""
    if len(value) > MAX_STRING_CHARS:
        raise BadRequest(f"{what} holds a string longer than {MAX_STRING_CHARS} characters")
    if not value.isascii() and _SURROGATE.search(value):
        raise BadRequest(f"{what} holds a lone surrogate (\\ud800-\\udfff), which is not text")
    return value


def _integer(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"holds a number longer than {MAX_NUMBER_CHARS} characters")
    return int(text)


def _float(text: str) -> float:
    value = float(text) if len(text) <= MAX_NUMBER_CHARS else math.inf
    if not math.isfinite(value):
        raise _Refused(f"holds a number longer than {MAX_NUMBER_CHARS} characters or out of range")
    return value


def _constant(name: str) -> Any:
    # NaN, Infinity and -Infinity are not JSON; the json module accepts them unless told otherwise.
    raise _Refused(f"holds {name}, which is not JSON")


class _Refused(Exception):
    """Raised by the decoder's hooks from inside the scanner; the message completes "<what> ..."."""
