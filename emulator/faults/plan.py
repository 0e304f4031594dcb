"""The fault plan: what the fault mode injects, declared once as knobs that make the flags, env and JSON forms."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

CALLBACK = "callback"
EVENTGRID = "eventgrid"
DELIVERY_KINDS = (CALLBACK, EVENTGRID)
# Transient failures a client is expected to retry; the SDK's policy for each is in the README's fault-mode table.
REST_FAILURE_STATUSES = (429, 500, 502, 503, 504)
ENV_PREFIX = "ACS_EMULATOR_"


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"must be a number, got {value!r}")
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"must be a number, got {value!r}") from None


def _fraction(value: object) -> float:
    number = _number(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"must be a fraction from 0 to 1, got {value!r}")
    return number


def _seconds(value: object) -> float:
    number = _number(value)
    if number < 0:
        raise ValueError(f"must be a number of seconds, not negative, got {value!r}")
    return number


def _whole_seconds(value: object) -> int:
    number = _seconds(value)
    if number != int(number):
        raise ValueError(f"must be whole seconds (HTTP Retry-After is an integer), got {value!r}")
    return int(number)


def _seconds_range(value: object) -> tuple[float, float]:
    parts = value.split(",") if isinstance(value, str) else value
    if not isinstance(parts, list | tuple) or len(parts) != 2:
        raise ValueError(f"must be MIN,MAX seconds (a string or a two-number list), got {value!r}")
    low, high = (_seconds(part) for part in parts)
    if low > high:
        raise ValueError(f"must not have MIN above MAX, got {value!r}")
    return (low, high)


def _integer(value: object) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"must be an integer, got {value!r}")


def _seed(value: object) -> int | None:
    return None if value is None else _integer(value)


def _optional_seconds(off_words: tuple[str, ...]) -> Callable[[object], float | None]:
    def convert(value: object) -> float | None:
        if value is None or (isinstance(value, str) and value.strip().lower() in off_words):
            return None
        return _seconds(value)

    return convert


def _period(value: object) -> float | None:
    seconds = _optional_seconds(("off", "none", ""))(value)
    if seconds == 0:
        raise ValueError("must be more than 0 seconds, or off")
    return seconds


def _status_mix(value: object) -> dict[int, float]:
    """ "429,503" or "503:3,429:1", a list of statuses, or {"503": 3}: statuses with relative weights."""
    if isinstance(value, str):
        items: list[tuple[object, object]] = []
        for part in (p.strip() for p in value.split(",")):
            status_text, _, weight_text = part.partition(":")
            items.append((status_text, weight_text or 1))
    elif isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, list | tuple):
        items = [(status, 1) for status in value]
    else:
        raise ValueError(f"must be statuses such as 429,500,503 (optionally STATUS:WEIGHT), got {value!r}")
    mix: dict[int, float] = {}
    for status, weight in items:
        code = _integer(status)
        if code not in REST_FAILURE_STATUSES:
            allowed = ", ".join(map(str, REST_FAILURE_STATUSES))
            raise ValueError(f"must list statuses among {allowed}, got {status!r}")
        share = _number(weight)
        if share <= 0:
            raise ValueError(f"must give each status a weight above 0, got {weight!r} for {code}")
        mix[code] = share
    if not mix:
        raise ValueError("must name at least one status")
    return mix


def _kinds(value: object) -> frozenset[str]:
    names = [n.strip() for n in value.split(",")] if isinstance(value, str) else value
    if not isinstance(names, list | tuple | set | frozenset):
        raise ValueError(f"must be a list of {', '.join(DELIVERY_KINDS)}, got {value!r}")
    kinds = frozenset(n for n in names if n and n != "none")
    unknown = sorted(str(k) for k in kinds - set(DELIVERY_KINDS))
    if unknown:
        raise ValueError(f"must name only {', '.join(DELIVERY_KINDS)} (or none), got {', '.join(unknown)}")
    return kinds


def _instances(value: object) -> tuple[str, ...]:
    urls = value.split() if isinstance(value, str) else value
    if not isinstance(urls, list | tuple):
        raise ValueError(f"must be a list of base URLs such as http://127.0.0.1:7071, got {value!r}")
    for url in urls:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
            example = "http://127.0.0.1:7071"
            raise ValueError(f"must be base URLs (scheme://host:port, no path) such as {example}, got {url!r}")
    return tuple(url.rstrip("/") for url in urls)


@dataclass(frozen=True)
class Knob:
    """One setting of the plan: its field, its flag (and so its ACS_EMULATOR_* variable), how to read it."""

    name: str
    flag: str
    convert: Callable[[object], Any]
    help: str
    metavar: str
    unset: str = ""  # what None means for this setting, for --help
    env: str = ""
    repeatable: bool = False

    @property
    def env_name(self) -> str:
        return self.env or ENV_PREFIX + self.flag.removeprefix("--").upper().replace("-", "_")

    @property
    def json_name(self) -> str:
        head, *rest = self.name.split("_")
        return head + "".join(word.title() for word in rest)

    def describe(self, value: object) -> str:
        """A value as it would be written on the command line."""
        if value is None:
            return self.unset
        if isinstance(value, Mapping):
            return ",".join(f"{k}" if w == 1 else f"{k}:{w:g}" for k, w in value.items())
        if isinstance(value, frozenset):
            return ",".join(sorted(value)) or "none"
        if isinstance(value, tuple):
            return ",".join(self.describe(v) for v in value) or "none"
        return f"{value:g}" if isinstance(value, float) else str(value)


KNOBS: tuple[Knob, ...] = (
    Knob("seed", "--fault-seed", _seed, "seed of the fault decisions: same seed, same traffic, same faults", "N",
         unset="random, shown by GET /emulator/faults"),
    Knob("duplicate", "--fault-duplicate", _fraction, "fraction of deliveries POSTed twice at the same instant "
         "(to another app instance when there are several)", "F"),
    Knob("late", "--fault-late", _fraction, "fraction of deliveries sent again after a random delay", "F"),
    Knob("late_delay_seconds", "--fault-late-delay", _seconds_range, "real seconds before a late copy", "MIN,MAX"),
    Knob("reorder", "--fault-reorder", _fraction, "fraction of a call leg's callbacks held back and sent after "
         "the leg's next one", "F"),
    Knob("reorder_flush_seconds", "--fault-reorder-flush", _seconds, "real seconds a held callback waits for a "
         "next one before it is sent anyway", "S"),
    Knob("drop", "--fault-drop", _fraction, "fraction of deliveries never sent, with no retry", "F"),
    Knob("rest_failure", "--fault-rest", _fraction, "fraction of the app's /calling requests answered with an "
         "error before they are processed (no effect)", "F"),
    Knob("rest_statuses", "--fault-rest-statuses", _status_mix, "statuses of those errors, optionally weighted",
         "S[:W],..."),
    Knob("retry_after_seconds", "--fault-retry-after", _whole_seconds, "Retry-After of an injected 429", "S"),
    Knob("scope", "--fault-scope", _kinds, "deliveries that duplicate, late and reorder apply to "
         "(reorder: callbacks only)", "KINDS"),
    Knob("drop_scope", "--fault-drop-scope", _kinds, "deliveries that may be dropped (Event Grid is "
         "at-least-once in Azure)", "KINDS"),
    Knob("key_rotation_seconds", "--rotate-key-every", _period, "rotate the callback signing key every S real "
         "seconds", "S", unset="off"),
    Knob("key_overlap_seconds", "--key-overlap", _optional_seconds(("keep", "")), "seconds a rotated-out key "
         "stays in the JWKS, or keep", "S", unset="keep"),
    Knob("app_instances", "--app-instance", _instances, "base URL of one app instance; every callback and Event "
         "Grid delivery goes to one of them, path and query kept; repeatable", "URL",
         env="ACS_EMULATOR_APP_INSTANCES", repeatable=True),
)  # fmt: skip
KNOB_OF_JSON = {knob.json_name: knob for knob in KNOBS}


class FaultPlanError(ValueError):
    """A setting of the plan is invalid; `knob` names it so the message can use the flag or the JSON name."""

    def __init__(self, knob: Knob, problem: str) -> None:
        super().__init__(f"{knob.json_name} {problem}")
        self.knob = knob
        self.problem = problem


@dataclass(frozen=True)
class FaultPlan:
    """What the fault mode does; all zero (the default) is the emulator's normal behaviour.

    Fractions are decided per delivery (or per REST request) with generators seeded from `seed`. Values are
    checked and normalised on construction, so `FaultPlan(scope=["callback"])` and JSON-ish values work.
    """

    seed: int | None = None
    duplicate: float = 0.0
    late: float = 0.0
    late_delay_seconds: tuple[float, float] = (0.2, 2.0)
    reorder: float = 0.0
    reorder_flush_seconds: float = 0.5
    drop: float = 0.0
    rest_failure: float = 0.0
    rest_statuses: Mapping[int, float] = field(default_factory=lambda: {429: 1.0, 500: 1.0, 503: 1.0})
    retry_after_seconds: int = 1
    scope: frozenset[str] = frozenset(DELIVERY_KINDS)
    drop_scope: frozenset[str] = frozenset({CALLBACK})
    key_rotation_seconds: float | None = None
    key_overlap_seconds: float | None = None  # None keeps rotated-out keys in the JWKS for good
    app_instances: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for knob in KNOBS:
            try:
                object.__setattr__(self, knob.name, knob.convert(getattr(self, knob.name)))
            except ValueError as error:
                raise FaultPlanError(knob, str(error)) from None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form GET /emulator/faults shows and PUT accepts."""
        body: dict[str, Any] = {}
        for knob in KNOBS:
            value = getattr(self, knob.name)
            if isinstance(value, frozenset):
                value = sorted(value)
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = {str(status): weight for status, weight in value.items()}
            body[knob.json_name] = value
        return body

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> FaultPlan:
        """A plan from its JSON form; absent or null fields take their defaults, unknown ones are an error."""
        unknown = sorted(set(body) - set(KNOB_OF_JSON))
        if unknown:
            raise ValueError(f"unknown fault plan fields {', '.join(unknown)}; known: {', '.join(KNOB_OF_JSON)}")
        return cls(**{KNOB_OF_JSON[name].name: value for name, value in body.items() if value is not None})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "fault mode", "a hostile network and a struggling service, seeded so a run is reproducible (README)"
    )
    defaults = FaultPlan()
    for knob in KNOBS:
        env = knob.env_name + (", space-separated" if knob.repeatable else "")
        group.add_argument(
            knob.flag,
            dest=f"fault_{knob.name}",
            action="append" if knob.repeatable else "store",
            default=None,
            metavar=knob.metavar,
            help=f"{knob.help} [{env}] (default {knob.describe(getattr(defaults, knob.name))})",
        )


def plan_from_args(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> FaultPlan:
    """The plan given by flags, else by ACS_EMULATOR_* variables, else the defaults; an error names its source."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for knob in KNOBS:
        value = getattr(args, f"fault_{knob.name}")
        sources[knob.name] = knob.flag
        if value is None:
            value = environ.get(knob.env_name, "").strip() or None
            sources[knob.name] = knob.env_name
        if value is not None:
            values[knob.name] = value
    try:
        return FaultPlan(**values)
    except FaultPlanError as error:
        raise ValueError(f"{sources[error.knob.name]} {error.problem}") from None
