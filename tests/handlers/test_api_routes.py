"""The HTTP API's routes: one table, each behind a function key, in the served OpenAPI document and in docs/api.md;
any other path or method under /api answers in the same JSON error shape."""

import json
from pathlib import Path

import azure.functions as func
import pytest

from handlers.api import API
from shared import api_runtime
from tests.test_function_app import DEFINED  # app.get_functions() may run only once per process

DOCS = Path(__file__).parents[2] / "docs"
FUNCTIONS = {function.get_function_name(): function for function in DEFINED}


def http_triggers() -> dict[str, tuple[str, frozenset[str], func.AuthLevel | None]]:
    found = {}
    for name, function in FUNCTIONS.items():
        trigger = function.get_trigger()
        if trigger.type == "httpTrigger":
            methods = frozenset(method.value for method in trigger.methods or ())
            found[name] = (trigger.route, methods, trigger.auth_level)
    return found


def test_every_route_of_the_table_is_a_function_behind_a_function_key():
    triggers = http_triggers()
    for route in API.routes:
        path, methods, auth_level = triggers[route.function_name]
        assert (path, methods) == (route.path, {route.method})
        # None: the blueprint's and the app's default, AuthLevel.FUNCTION.
        assert auth_level in (None, func.AuthLevel.FUNCTION)


def test_every_operation_resolves_and_asks_only_for_what_its_route_gives():
    for route in API.routes:
        operation = api_runtime.operation(API, route)
        assert operation.summary, route
        assert {python for _, python in operation.path} <= set(operation.function.__code__.co_varnames)


async def test_the_openapi_document_is_served_and_lists_every_route_and_no_other():
    response = await FUNCTIONS["api_openapi"].get_user_function()(
        func.HttpRequest(method="GET", url="http://app/api/openapi.json", body=b"")
    )
    document = json.loads(response.get_body())

    documented = {(path, method) for path, operations in document["paths"].items() for method in operations}
    assert response.status_code == 200 and document["openapi"].startswith("3.")
    assert documented == {(f"/{route.path}", route.method.lower()) for route in API.routes}
    transfer = document["paths"]["/calls/{callId}/transfer"]["post"]
    assert transfer["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TransferRequest"
    }
    assert "target" in document["components"]["schemas"]["TransferRequest"]["required"]
    assert [p["name"] for p in transfer["parameters"]] == ["callId", "Idempotency-Key"]


def test_every_route_is_in_the_api_guide():
    guide = (DOCS / "api.md").read_text() + (DOCS / "recording.md").read_text()
    for route in API.routes:
        assert f"| {route.method} | `/api/{route.path}` |" in guide, route


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("GET", "nowhere", 404, None),
        ("GET", "calls/call-1/dance", 404, None),
        ("PUT", "calls/call-1", 405, "DELETE, GET"),
        ("GET", "calls", 405, "POST"),
    ],
)
async def test_other_paths_and_methods_answer_in_the_error_shape(method, path, status, allow):
    request = func.HttpRequest(method=method, url=f"http://app/api/{path}", body=b"", route_params={"path": path})

    response = await FUNCTIONS["api_not_found"].get_user_function()(request)

    body = json.loads(response.get_body())
    assert response.status_code == status and set(body["error"]) == {"code", "message"}
    assert response.headers.get("Allow") == allow
