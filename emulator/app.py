"""aiohttp application: signed REST under /calling, OpenID/JWKS for callback tokens, control API under /emulator."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

from . import (
    call_control,
    control,
    identity,
    incoming,
    live,
    media,
    participants,
    recording,
    sample_media,
    streaming,
)
from .clock import Clock
from .config import SUPPORTED_API_VERSIONS, EmulatorConfig
from .delivery import CallbackSender, Delivery, EventGridPublisher, parse_subscription
from .errors import AcsError, bad_request
from .faults import control as fault_control
from .handshake import validate_later
from .hmac_auth import verify
from .models import BACKEND, Backend, CallListener, ServerCall, backend_of
from .operations import CALL_OF_REQUEST, ApiRequest, Operation, parse_body
from .tls import client_ssl_context
from .tokens import JWKS_PATH, OPENID_PATH, TokenIssuer

logger = logging.getLogger(__name__)

OPERATIONS = web.AppKey("operations", list[Operation])


def all_operations() -> list[Operation]:
    return [
        *call_control.OPERATIONS,
        *participants.OPERATIONS,
        *media.OPERATIONS,
        *streaming.OPERATIONS,
        *recording.OPERATIONS,
    ]


def all_listeners(backend: Backend) -> list[CallListener]:
    return [media.listener(backend), streaming.listener(backend), recording.listener(backend)]


def create_app(config: EmulatorConfig, clock: Clock | None = None) -> web.Application:
    """Build the emulator application; the backend and its HTTP client session live with the app.

    Emulated time runs on `clock`: by default wall-clock time at the config's time scale.
    """
    config.validate()
    app = web.Application(client_max_size=8 * 1024 * 1024)
    app[OPERATIONS] = all_operations()
    app.router.add_get(OPENID_PATH, openid_configuration)
    app.router.add_get(JWKS_PATH, jwks)
    app.router.add_route("*", "/calling/{tail:.*}", dispatch)
    app.router.add_route("*", "/calling{tail:[:].*}", dispatch)
    app.add_routes(control.routes)
    app.add_routes(fault_control.routes)
    app.add_routes(identity.routes)
    app.add_routes(recording.routes)
    app.add_routes(sample_media.routes)
    app.cleanup_ctx.append(lambda app: _backend_context(app, config, clock or Clock(config.time_scale)))
    live.install(app)
    return app


async def _backend_context(app: web.Application, config: EmulatorConfig, clock: Clock) -> AsyncIterator[None]:
    tokens = TokenIssuer(audience=config.jwt_audience, issuer=config.jwt_issuer)
    # No cap on connections (aiohttp's default is 100): ACS and Event Grid deliver each event on its own, and a cap
    # would queue deliveries behind a slow app, so a load test would report the emulator's queue as the app's latency.
    connector = aiohttp.TCPConnector(limit=0, ssl=client_ssl_context(config.trust_ca))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30), connector=connector) as session:
        holder: dict[str, Backend] = {}

        def record(delivery: Delivery) -> None:
            backend = holder["backend"]
            log = backend.store("deliveries", list)
            log.append(delivery)
            backend.notify("on_delivery", delivery, len(log) - 1)
            if delivery.error or (delivery.status is not None and delivery.status >= 300):
                logger.warning(
                    "%s delivery of %s to %s failed after %d attempt(s): %s",
                    delivery.kind,
                    ", ".join(_event_types(delivery)),
                    delivery.url,
                    delivery.attempts,
                    delivery.error or f"HTTP {delivery.status}",
                )

        callbacks = CallbackSender(session, tokens, on_delivery=record)
        eventgrid = EventGridPublisher(
            session, clock, [parse_subscription(s) for s in config.eventgrid_subscriptions], on_delivery=record
        )
        backend = Backend(config, tokens, callbacks, eventgrid, clock)
        holder["backend"] = backend
        backend.listeners.extend(all_listeners(backend))
        app[BACKEND] = backend
        for subscription in eventgrid.subscriptions:
            validate_later(backend, subscription)
        yield
        await backend.reset()


def _event_types(delivery: Delivery) -> list[str]:
    return [str(event.get("type") or event.get("eventType", "?")).rsplit(".", 1)[-1] for event in delivery.events]


async def openid_configuration(request: web.Request) -> web.Response:
    backend = backend_of(request)
    base = backend.config.public_url or f"{request.scheme}://{request.host}"
    return web.json_response(backend.tokens.openid_configuration(base))


async def jwks(request: web.Request) -> web.Response:
    return web.json_response(backend_of(request).tokens.jwks())


async def dispatch(request: web.Request) -> web.Response:
    try:
        return await _dispatch(request)
    except AcsError as error:
        return error.to_response()


async def _dispatch(request: web.Request) -> web.Response:
    backend = backend_of(request)
    body = await request.read()
    verify(request, body, backend.config.key_bytes)
    operation, params = _match(request.app[OPERATIONS], request.method, request.path)
    api_version = request.query.get("api-version")
    if not api_version:
        raise bad_request("The api-version query parameter is required.", "api-version")
    if api_version not in SUPPORTED_API_VERSIONS:
        raise bad_request(
            f"The api-version '{api_version}' is not supported. Supported versions: "
            + ", ".join(SUPPORTED_API_VERSIONS),
            "api-version",
        )
    repeat_id = request.headers.get("Repeatability-Request-ID") if operation.repeatable else None
    failure = backend.faults.rest_failure()
    if failure is not None:
        request_body = _json_object(body)
        call = _call_of(backend, params, request_body)
        return backend.faults.fail_request(failure, operation.name, request, request_body, call)
    if repeat_id and repeat_id in backend.repeatability:
        status, payload, headers = backend.repeatability[repeat_id]
        _record_replay(backend, operation.name, params, request, body, status, payload)
        headers = {**headers, "Repeatability-Result": "accepted"}
        return web.Response(status=status, body=payload or None, headers=headers)
    api_request = ApiRequest(backend, operation.name, params, parse_body(body), request, api_version)
    try:
        response = await operation.handler(api_request)
    except AcsError as error:
        response = error.to_response()
    _record_request(backend, api_request, response)
    if repeat_id:
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        # Every operation answers through respond(), whose bodies are bytes (never a streamed Payload).
        body = bytes(response.body) if isinstance(response.body, bytes | bytearray) else b""
        backend.repeatability[repeat_id] = (response.status, body, headers)
        response.headers["Repeatability-Result"] = "accepted"
    return response


def _match(operations: list[Operation], method: str, path: str) -> tuple[Operation, dict[str, str]]:
    path_matched = False
    for operation in operations:
        found = operation.regex.match(path)
        if found:
            path_matched = True
            if operation.method == method:
                return operation, found.groupdict()
    if path_matched:
        raise AcsError(405, 8520, f"Method {method} is not allowed on {path}.")
    raise AcsError(404, 8522, f"No Call Automation operation at {path}.")


def _record_request(backend: Backend, request: ApiRequest, response: web.StreamResponse) -> None:
    call = _call_of(backend, request.params) or request.raw.get(CALL_OF_REQUEST)
    if call is not None:
        _add_request(call, request.operation, request.raw, response.status, request.body)


def _record_replay(
    backend: Backend, operation: str, params: dict[str, str], raw: web.Request, body: bytes, status: int, payload: bytes
) -> None:
    """A Repeatability-Request-ID replay goes on the timeline too, marked, so an audit tells it from a new request."""
    request_body = _json_object(body)
    call = _call_of(backend, params, request_body, _json_object(payload))
    if call is not None:
        _add_request(call, operation, raw, status, request_body, replayed=True)


def _add_request(call: ServerCall, operation: str, raw: web.Request, status: int, body: dict, **detail: Any) -> None:
    call.timeline.add("request", operation, method=raw.method, path=raw.path, status=status, body=body, **detail)


def _call_of(backend: Backend, params: dict[str, str], *bodies: dict[str, Any]) -> ServerCall | None:
    """The call a request concerns: the callConnectionId in its path or in a body, or the incoming call it takes."""
    ids = (params.get("call_connection_id"), *(body.get("callConnectionId") for body in bodies))
    for call_connection_id in ids:
        connection = backend.connections.get(call_connection_id) if isinstance(call_connection_id, str) else None
        if connection is not None:
            return connection.call
    contexts = [body["incomingCallContext"] for body in bodies if isinstance(body.get("incomingCallContext"), str)]
    return incoming.call_of_context(backend, contexts[0]) if contexts else None


def _json_object(raw: bytes) -> dict[str, Any]:
    """A body as a JSON object for the timeline, or {} when it is none (the handler reports bad bodies itself)."""
    try:
        return parse_body(raw)
    except AcsError:
        return {}
