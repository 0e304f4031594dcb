"""Route template matching (ASP.NET-style templates as Functions uses them)."""

import pytest

from devhost.discovery import compile_route
from devhost.settings import DevHostError

CALL_ID = "0b004880-e406-40bf-8384-a4042a72fecd"


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        ("calls/{callId}", "calls/abc", {"callId": "abc"}),
        ("calls/{callId}", "CALLS/abc/", {"callId": "abc"}),
        ("calls/{callId}", "calls", None),
        ("calls/{callId}", "calls/a/b", None),
        ("items/{id}", f"items/{CALL_ID}", {"id": CALL_ID}),
        ("items/{kind?}", "items", {}),
        ("items/{kind=all}", "items", {"kind": "all"}),
        ("items/{kind=all}", "items/some", {"kind": "some"}),
        ("files/{*rest}", "files", {}),
        ("files/{*rest}", "files/a/b", {"rest": "a/b"}),
        ("v{version}/status", "v2/status", {"version": "2"}),
        ("", "", {}),
    ],
)
def test_route_matching(template: str, path: str, expected: dict[str, str] | None) -> None:
    assert compile_route(template).match(path) == expected


def test_literal_segments_take_precedence_over_parameters() -> None:
    templates = ["hello/{*rest}", "hello/{name?}", "hello/{name}", "hello/world"]
    ordered = sorted(templates, key=lambda template: compile_route(template).precedence)
    assert ordered == ["hello/world", "hello/{name}", "hello/{name?}", "hello/{*rest}"]


@pytest.mark.parametrize(
    ("template", "constrained"),
    [
        ("items/{id:int}", "{id:int}"),
        ("items/{id:guid}/x", "{id:guid}"),
        ("v{version:int}/status", "{version:int}"),
        ("files/{name:length(3)?}", "{name:length(3)?}"),
    ],
)
def test_route_constraints_are_refused_naming_the_parameter(template: str, constrained: str) -> None:
    with pytest.raises(DevHostError, match="does not support route constraints") as refused:
        compile_route(template)
    assert constrained in str(refused.value)
