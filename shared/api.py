"""The HTTP API's routes as Functions HTTP triggers, registered from one table (handlers/api/__init__.py).

Registration is cheap on purpose: a cold start that serves a callback imports this module, not the API. Each
route names its operation as "module:function" of the API's package (handlers/api/); the operation, its request
and response models (pydantic) and the OpenAPI document are loaded by shared/api_runtime.py on the first request
that needs them. GET /api/openapi.json serves the document, and every other path under /api answers in the API's
error shape.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import azure.functions as func

OPENAPI_ROUTE = "openapi.json"


@dataclass(frozen=True)
class Route:
    """One API route: method, Functions route template, its operation ("module:function") and success status."""

    method: str
    path: str
    operation: str
    status: int = 200

    @property
    def function_name(self) -> str:
        return "api_" + self.operation.partition(":")[2]


@dataclass(frozen=True)
class Api:
    """An HTTP API: its routes, and the package whose modules hold their operations."""

    package: str
    routes: tuple[Route, ...]


def blueprint(api: Api) -> func.Blueprint:
    """One HTTP trigger (function key) per route, the OpenAPI document, and a catch-all answering 404/405."""
    functions = func.Blueprint(http_auth_level=func.AuthLevel.FUNCTION)  # type: ignore[no-untyped-call]
    for route in api.routes:
        trigger = functions.route(route=route.path, methods=[route.method])(_trigger(api, route))
        functions.function_name(route.function_name)(trigger)

    @functions.function_name("api_openapi")
    @functions.route(route=OPENAPI_ROUTE, methods=["GET"])
    async def openapi(req: func.HttpRequest) -> func.HttpResponse:
        """The OpenAPI document, generated from the routes and their models."""
        from shared import api_runtime

        return api_runtime.openapi_response(api)

    # The most general route: the host tries it after every other one (ASP.NET route precedence).
    @functions.function_name("api_not_found")
    @functions.route(route="{*path}")
    async def not_found(req: func.HttpRequest) -> func.HttpResponse:
        """Any other path or method: 404 or 405 in the API's error shape, like every other failure."""
        from shared import api_runtime

        return api_runtime.no_route(req, api.routes)

    return functions


def _trigger(api: Api, route: Route) -> Callable[[func.HttpRequest], Awaitable[func.HttpResponse]]:
    async def serve(req: func.HttpRequest) -> func.HttpResponse:
        from shared import api_runtime

        return await api_runtime.serve(api, route, req)

    serve.__doc__ = f"{route.method} /api/{route.path}: {api.package}.{route.operation}."
    return serve
