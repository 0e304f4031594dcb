"""Request-body validation helpers: every error is a 400 naming the JSON path of the offending field."""

from __future__ import annotations

from typing import Any, overload
from urllib.parse import urlparse

from .errors import invalid_field, missing_field

_MISSING = object()


def require(body: dict, path: str, expected: type | tuple[type, ...] = str) -> Any:
    value = body.get(path.rsplit(".", 1)[-1], _MISSING)
    if value is _MISSING or value is None or (isinstance(value, str | list) and not value):
        raise missing_field(path)
    return check_type(value, path, expected)


def optional(body: dict, path: str, expected: type | tuple[type, ...], default: Any = None) -> Any:
    value = body.get(path.rsplit(".", 1)[-1])
    if value is None:
        return default
    return check_type(value, path, expected)


def check_type(value: Any, path: str, expected: type | tuple[type, ...]) -> Any:
    # bool is an int subclass; a JSON true must not pass as a number
    if expected in (int, float) and isinstance(value, bool):
        raise invalid_field(path, "must be a number")
    if not isinstance(value, expected):
        names = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
        raise invalid_field(path, f"must be of type {_json_name(names)}")
    return value


def _json_name(python_names: str) -> str:
    return (python_names.replace("str", "string").replace("dict", "object").replace("list", "array")
            .replace("bool", "boolean").replace("int", "integer").replace("float", "number"))  # fmt: skip


@overload
def optional_int(
    body: dict, path: str, default: int, minimum: int | None = None, maximum: int | None = None
) -> int: ...
@overload
def optional_int(
    body: dict, path: str, default: None, minimum: int | None = None, maximum: int | None = None
) -> int | None: ...
def optional_int(
    body: dict, path: str, default: int | None, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    value = optional(body, path, int, default)
    if value is None:
        return None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise invalid_field(path, f"must be between {minimum} and {maximum}")
    return value


def require_url(body: dict, path: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    return check_url(require(body, path, str), path, schemes)


def check_url(value: str, path: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not parsed.netloc:
        raise invalid_field(path, f"must be an absolute {'/'.join(schemes)} URL")
    return value


def require_enum(body: dict, path: str, allowed: tuple[str, ...], default: str | None = None) -> str:
    value = optional(body, path, str, default)
    if value is None:
        raise missing_field(path)
    if value not in allowed:
        raise invalid_field(path, f"must be one of {', '.join(allowed)}")
    return value
