"""The HTTP API at work: bind a request to its operation, validate it against the operation's pydantic models,
answer JSON (every failure in one shape), and describe every route as an OpenAPI document.

An operation is an async function in handlers/api/ whose parameters say what it needs: `ctx` (the Context),
`body` (a request model), `idempotency_key`, and its route's parameters by name (`call_id` for {callId}). Its
return annotation is its response model (None: no content). Loaded on the first API request (shared/api.py).

ACS errors keep their meaning: a 4xx from ACS (bad argument, call or participant not found, conflict, a media
operation that cannot run now) becomes the same 4xx with ACS's code and message; ACS 5xx becomes 502, ACS
unreachable 503, and a 429 stays 429 with its Retry-After.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import logging
import re
import types
import typing
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, Union, get_args, get_origin

import azure.functions as func
from azure.core.exceptions import HttpResponseError, ServiceRequestError
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from pydantic_core import ErrorDetails

from shared import clients, guarded_json
from shared.context import Context
from shared.errors import AppError, BadRequest, MethodNotAllowed, NotFound, error_document
from shared.validation import PATH_PARAMETERS

if TYPE_CHECKING:
    # Only for annotations: shared/api.py imports this module when a request comes.
    from shared.api import Api, Route

logger = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
# Namespace of the Repeatability-Request-IDs derived from Idempotency-Key headers.
IDEMPOTENCY_NAMESPACE = uuid.UUID("0c6b6c51-3f4e-4c1e-9a0e-7d1f4b2f5e21")
# ACS 4xx statuses that describe the client's request; others (401: our credentials) are the app's fault.
_CLIENT_STATUSES = {400, 403, 404, 405, 409, 412, 422}
# Idempotency keys become part of a Repeatability-Request-ID seed: visible ASCII only.
_IDEMPOTENCY_KEY = re.compile(r"\A[\x21-\x7e]{1,200}\Z")
_ROUTE_PARAMETER = re.compile(r"{(\w+)}")
_OBJECT_ERRORS = {"model_type", "model_attributes_type", "dict_type"}


class ApiModel(BaseModel):
    """A request or response body: camelCase on the wire, snake_case in Python, unknown request fields ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


M = TypeVar("M", bound=ApiModel)


def exactly_one(data: Any, names: tuple[str, ...], message: str) -> Any:
    """A request body (before validation) unless it has other than one of names (null counts as absent): then
    ValueError(message). Checked before the fields, as a client reads the rule; a non-object is left to validation."""
    if isinstance(data, dict) and sum(data.get(name) is not None for name in names) != 1:
        raise ValueError(message)
    return data


def repeatable(idempotency_key: str | None, scope: str) -> dict[str, str] | None:
    """Headers that make a retried request with the same Idempotency-Key a repeat for ACS (None without a key).

    ACS recognises the repeat by its Repeatability-Request-ID; the SDK stamps Repeatability-First-Sent.
    """
    if not idempotency_key:
        return None
    return {"Repeatability-Request-ID": str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{scope}/{idempotency_key}"))}


@dataclass(frozen=True)
class Operation:
    """A route's operation and what its signature asks for."""

    route: Route
    function: Callable[..., Awaitable[ApiModel | None]]
    body: type[ApiModel] | None
    responses: tuple[type[ApiModel], ...]
    # (route parameter, function parameter), e.g. ("callId", "call_id").
    path: tuple[tuple[str, str], ...]
    takes_idempotency_key: bool

    @property
    def summary(self) -> str:
        return (inspect.getdoc(self.function) or "").split("\n")[0]


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@functools.cache
def operation(api: Api, route: Route) -> Operation:
    """Import a route's operation and read its signature; TypeError if the signature asks for anything unknown."""
    module, _, name = route.operation.partition(":")
    function = getattr(importlib.import_module(f"{api.package}.{module}"), name)
    hints = typing.get_type_hints(function)
    path = tuple((parameter, snake(parameter)) for parameter in _ROUTE_PARAMETER.findall(route.path))
    known = {"ctx", "body", "idempotency_key", *(python for _, python in path)}
    if unknown := set(inspect.signature(function).parameters) - known:
        raise TypeError(f"{route.operation} asks for {sorted(unknown)}, which its route {route.path} does not give")
    if missing := {python for _, python in path} - set(inspect.signature(function).parameters):
        raise TypeError(f"{route.operation} ignores its route parameters {sorted(missing)}")
    return Operation(
        route=route,
        function=function,
        body=hints.get("body"),
        responses=tuple(
            arg for arg in _members(hints["return"]) if isinstance(arg, type) and issubclass(arg, ApiModel)
        ),
        path=path,
        takes_idempotency_key="idempotency_key" in hints,
    )


def _members(annotation: Any) -> tuple[Any, ...]:
    """The members of a union (X | Y, Optional[X]), or the annotation itself."""
    if get_origin(annotation) in (Union, types.UnionType):
        return get_args(annotation)
    return (annotation,)


async def serve(api: Api, route: Route, req: func.HttpRequest) -> func.HttpResponse:
    """Run route's operation for req and answer JSON; no failure escapes as a traceback."""
    try:
        called = operation(api, route)
        ctx = await clients.context()
        result = await called.function(ctx, **arguments(called, req, ctx))
    except Exception as exc:
        return error_response(exc)
    if result is None:
        return func.HttpResponse(status_code=route.status)
    return _json(route.status, result.model_dump(mode="json", by_alias=True))


def arguments(called: Operation, req: func.HttpRequest, ctx: Context) -> dict[str, Any]:
    """The operation's keyword arguments from req, each checked; BadRequest names the first problem."""
    raw = req.get_body()
    data = guarded_json.loads(raw, max_bytes=guarded_json.MAX_API_BYTES) if raw.strip() else {}
    key = req.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not _IDEMPOTENCY_KEY.match(key):
        raise BadRequest(f"the {IDEMPOTENCY_HEADER} header must be 1 to 200 visible ASCII characters")
    found: dict[str, Any] = {}
    for parameter, python in called.path:
        try:
            found[python] = PATH_PARAMETERS[parameter].validate(req.route_params.get(parameter, ""))
        except ValueError as exc:
            raise BadRequest(f"{parameter} {exc}") from None
    if called.body is not None:
        found["body"] = validate(called.body, data, ctx)
    if called.takes_idempotency_key:
        found["idempotency_key"] = key
    return found


def validate(model: type[M], data: Any, ctx: Context | None = None) -> M:
    """data as model; BadRequest with the first problem, its field named as the client wrote it ("to[0]")."""
    try:
        return model.model_validate(data, context={"ctx": ctx})
    except ValidationError as exc:
        raise BadRequest(problem(model, exc.errors(include_url=False)[0])) from None


def problem(model: type[BaseModel], error: ErrorDetails) -> str:
    """One validation error as the API words it: "<field> must be ..."."""
    location = error["loc"]
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location).lstrip(".")
    if error["type"] == "missing":
        return f"{where} {_expectation(model, location)}"
    if error["type"] in _OBJECT_ERRORS:
        return f"{where or 'body'} must be a JSON object"
    if error["type"] == "value_error":
        text = str(error.get("ctx", {}).get("error", error["msg"]))
        if text.startswith((".", "[")):
            return where + text
        return f"{where} {text}" if where else text
    return f"{where or 'body'} is not valid: {error['msg']}"


def _expectation(model: type[BaseModel], location: tuple[int | str, ...]) -> str:
    """What a missing field must be, from its type's Rule (shared/validation.py)."""
    current: Any = model
    for part in location[:-1]:
        if isinstance(part, str):
            current = _field(current, part).annotation
        current = next(
            (arg for arg in _flatten(current) if isinstance(arg, type) and issubclass(arg, BaseModel)), current
        )
    for meta in _field(current, str(location[-1])).metadata:
        if hasattr(meta, "expectation"):
            return str(meta.expectation)
    return "is required"


def _field(model: type[BaseModel], alias: str) -> Any:
    return next(info for name, info in model.model_fields.items() if alias in (name, info.alias))


def _flatten(annotation: Any) -> list[Any]:
    """Every type inside an annotation: list[Prompt] | None -> [list, Prompt, NoneType]."""
    return [annotation, *(inner for arg in get_args(annotation) for inner in _flatten(arg))]


def error_body(exc: BaseException) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, {"error": {"code", "message"}}, headers) for any failure of an API operation."""
    if isinstance(exc, HttpResponseError) and exc.status_code is not None:
        return _acs_error(exc)
    if isinstance(exc, ServiceRequestError):
        logger.error("ACS unreachable: %s", exc)
        return 503, _error("AcsUnavailable", "Azure Communication Services could not be reached; retry later"), {}
    status, document = error_document(exc)
    return status, document, {}


def error_response(exc: BaseException) -> func.HttpResponse:
    status, body, headers = error_body(exc)
    return _json(status, body, headers)


def _acs_error(exc: HttpResponseError) -> tuple[int, dict[str, Any], dict[str, str]]:
    error = getattr(exc, "error", None)
    code = str(getattr(error, "code", "") or exc.status_code)
    message = getattr(error, "message", None) or exc.reason or "request failed"
    status = int(exc.status_code or 500)
    if status == 429:
        retry_after = getattr(exc.response, "headers", {}).get("Retry-After")
        return 429, _error(code, f"ACS is throttling requests: {message}"), {"Retry-After": retry_after or "1"}
    if status in _CLIENT_STATUSES:
        logger.warning("ACS rejected the request (%d, %s): %s", status, code, message)
        return status, _error(code, f"ACS rejected the request: {message}"), {}
    logger.error("ACS failed (%d, %s): %s", status, code, message)
    return 502, _error(code, f"ACS failed ({status}): {message}"), {}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/json", headers=headers)


def no_route(req: func.HttpRequest, routes: Sequence[Route]) -> func.HttpResponse:
    """404 for a path no route has; 405 (with Allow) for a path whose routes take other methods."""
    path = req.route_params.get("path", "").strip("/")
    allowed = sorted({route.method for route in routes if _template(route.path).fullmatch(path)})
    if allowed:
        message = f"{req.method} is not allowed for /api/{path}; allowed: {', '.join(allowed)}"
        return error_response_with(MethodNotAllowed(message), {"Allow": ", ".join(allowed)})
    return error_response(NotFound(f"no route /api/{path} (the routes are in GET /api/openapi.json)"))


def error_response_with(exc: AppError, headers: dict[str, str]) -> func.HttpResponse:
    status, body, _ = error_body(exc)
    return _json(status, body, headers)


@functools.cache
def _template(path: str) -> re.Pattern[str]:
    return re.compile(_ROUTE_PARAMETER.sub("[^/]+", re.escape(path).replace(r"\{", "{").replace(r"\}", "}")))


def openapi_response(api: Api) -> func.HttpResponse:
    try:
        return _json(200, openapi_document(api))
    except Exception as exc:
        return error_response(exc)


@functools.cache
def openapi_document(api: Api) -> dict[str, Any]:
    """The OpenAPI 3.1 document of an API: paths from its table, schemas from the operations' models."""
    operations = [operation(api, route) for route in api.routes]
    models: set[tuple[type[BaseModel], JsonSchemaMode]] = {(op.body, "validation") for op in operations if op.body}
    models |= {(model, "serialization") for op in operations for model in op.responses}
    ordered = sorted(models, key=lambda item: (item[0].__name__, item[1]))
    refs, definitions = models_json_schema(ordered, ref_template="#/components/schemas/{model}")
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(f"/{op.route.path}", {})[op.route.method.lower()] = _path_item(op, refs)
    error_schema = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Call workflows HTTP API",
            "version": "1.0.0",
            "description": "Calls, participants, media, recording and reminders on Azure Communication Services "
            "Call Automation; generated from the app's models (docs/api.md has the prose).",
        },
        "servers": [{"url": "/api"}],
        "security": [{"functionKey": []}],
        "paths": paths,
        "components": {
            "schemas": {**definitions.get("$defs", {}), "Error": error_schema},
            "securitySchemes": {"functionKey": {"type": "apiKey", "in": "header", "name": "x-functions-key"}},
            "responses": {
                "Error": {
                    "description": 'An error naming what is wrong: {"error": {"code", "message"}}',
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
            },
        },
    }


def _path_item(op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": dict(PATH_PARAMETERS[name].schema)}
        for name, _ in op.path
    ]
    if op.takes_idempotency_key:
        parameters.append(
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                "description": "Mapped to the ACS Repeatability-Request-ID: a retry with the same key is not repeated",
            }
        )
    schemas = [refs[(model, "serialization")] for model in op.responses]
    success: dict[str, Any] = {"description": "Done"}
    if schemas:
        schema = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
        success["content"] = {"application/json": {"schema": schema}}
    item: dict[str, Any] = {
        "operationId": to_camel(op.function.__name__),
        "summary": op.summary,
        "tags": [op.route.operation.partition(":")[0]],
        "parameters": parameters,
        "responses": {
            str(op.route.status): success,
            **{str(status): {"$ref": "#/components/responses/Error"} for status in (400, 404, 409, 502, 503)},
        },
    }
    if op.body is not None:
        body_schema = refs[(op.body, "validation")]
        required = any(field.is_required() for field in op.body.model_fields.values())
        item["requestBody"] = {"required": required, "content": {"application/json": {"schema": body_schema}}}
    return item
