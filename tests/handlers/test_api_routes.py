"""The HTTP API's routes: each one documented in docs/openapi.json and docs/api.md, each behind a function key."""

import json
from pathlib import Path

import azure.functions as func

from handlers.api_recording_routes import blueprint as recording_blueprint
from handlers.api_routes import blueprint

DOCS = Path(__file__).parents[2] / "docs"


def collect_routes() -> set[tuple[str, str]]:
    """(route, method) of every function of the API blueprints, read from their function builders.

    The blueprint rather than the app: FunctionApp.get_functions() may run only once per process.
    """
    routes = set()
    for builder in [*blueprint._function_builders, *recording_blueprint._function_builders]:
        [trigger] = [b for b in builder._function.get_bindings() if b.type == "httpTrigger"]
        # None: the blueprint's and the app's default, AuthLevel.FUNCTION.
        assert trigger.auth_level in (None, func.AuthLevel.FUNCTION)
        routes |= {(f"/{trigger.route}", method.value.lower()) for method in trigger.methods}
    return routes


ROUTES = collect_routes()


def test_every_route_is_in_the_openapi_document_and_no_other():
    spec = json.loads((DOCS / "openapi.json").read_text())
    documented = {(path, method) for path, operations in spec["paths"].items() for method in operations}

    assert documented == ROUTES


def test_every_route_is_in_the_api_guide():
    guide = (DOCS / "api.md").read_text()
    for route, method in ROUTES:
        assert f"| {method.upper()} | `/api{route}` |" in guide, (method, route)
