"""Hypothesis strategies for hostile input: JSON with poisoned leaves, raw bodies no JSON library expects, and
realistic ACS payloads (the recorded fixtures) with one part replaced, removed or nested away."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "events"

# Leaves that broke the app before (finding 1, 6): lone surrogates, numbers past 4,300 digits, look-alike digits,
# trailing newlines, path tricks and control characters in identifiers.
POISON_TEXT = st.sampled_from(
    [
        "\ud800",
        "a\udfffb",
        "..",
        "../../x",
        "+14255550101\n",
        "+1425555010\uff11",
        "8:acs:../../x",
        "4:+1\x00",
        "\x1b[31m",
        "",
        " ",
        "x" * 5000,
        "http://169.254.169.254/latest/meta-data/",
        "http://user:pass@127.0.0.1:1/",
    ]
)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | POISON_TEXT
    | st.just(10**60)
)
JSON_VALUES = st.recursive(
    LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


def encode(document: Any) -> bytes:
    """JSON bytes of document; lone surrogates go out as the \\ud800 escapes an attacker would send."""
    return json.dumps(document).encode("utf-8", "surrogatepass")


RAW_BODIES = st.one_of(
    st.binary(max_size=200),
    st.integers(min_value=40, max_value=120_000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(min_value=40, max_value=120_000).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
    st.integers(min_value=41, max_value=6_000).map(lambda digits: b"[" + b"9" * digits + b"]"),
    st.sampled_from([b"", b"null", b"[]", b"{}", b"[1e999]", b"[NaN]", b'"\xed\xa0\x80"', b"\xef\xbb\xbf{}", b"[1,"]),
    JSON_VALUES.map(encode),
)


@cache
def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def callback_fixture_names() -> list[str]:
    return sorted(path.stem for path in FIXTURES.glob("*.json") if path.stem != "incoming_call")


def _paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into document (keys and indexes), the root included."""
    paths = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            paths += _paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            paths += _paths(value, (*prefix, index))
    return paths


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    """document with one to three parts replaced by hostile values, deleted, or wrapped in deep nesting."""
    result = copy.deepcopy(document)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(_paths(result)))
        if not path:
            return draw(JSON_VALUES)
        parent = result
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "delete", "nest"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "nest":
            parent[path[-1]] = _nest(parent[path[-1]], draw(st.integers(min_value=30, max_value=60)))
        else:
            parent[path[-1]] = draw(JSON_VALUES)
    return result


def _nest(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value


def callback_bodies() -> st.SearchStrategy[bytes]:
    """ACS callback bodies: recorded CloudEvent arrays, mutated, and raw hostile bodies."""
    recorded = st.sampled_from(callback_fixture_names()).map(fixture)
    return st.one_of(recorded.flatmap(mutated).map(encode), recorded.map(encode), RAW_BODIES)


def _cloud_event(grid_event: dict[str, Any]) -> dict[str, Any]:
    """The same event in the CloudEvents schema (what an Event Grid subscription set to CloudEvents delivers)."""
    return {
        "id": grid_event["id"],
        "source": grid_event.get("topic", "/acs"),
        "subject": grid_event.get("subject", ""),
        "type": grid_event["eventType"],
        "time": grid_event.get("eventTime", "2026-03-12T12:00:00Z"),
        "specversion": "1.0",
        "data": grid_event["data"],
    }


def event_grid_bodies() -> st.SearchStrategy[bytes]:
    """Event Grid webhook bodies in both schemas: recorded IncomingCall, mutated, and raw hostile bodies."""
    [incoming] = fixture("incoming_call")
    schemas = st.sampled_from([[incoming], _cloud_event(incoming)])
    return st.one_of(schemas.flatmap(mutated).map(encode), schemas.map(encode), RAW_BODIES)
