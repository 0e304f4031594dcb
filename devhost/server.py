"""The devhost aiohttp server: HTTP triggers on /api/..., the Event Grid webhook, admin endpoints, and DevHost."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import azure.functions as func
from aiohttp import web
from azure.functions import meta
from azure.functions.eventgrid import EventGridEventInConverter

from devhost.discovery import (
    EVENT_GRID_TRIGGER,
    HTTP_TRIGGER,
    TIMER_TRIGGER,
    FunctionSpec,
    describe_functions,
    find_function_app,
    load_module,
)
from devhost.settings import (
    LocalSettings,
    apply_local_settings,
    read_local_settings,
    read_route_prefix,
)
from devhost.timers import TimerRunner
from shared import guarded_json
from shared.errors import BadRequest

T = TypeVar("T")

log = logging.getLogger("devhost")
# "Executing/Executed 'Functions.x'" lines, one pair per invocation: the local stack keeps them at DEBUG unless asked.
INVOCATION_LOGGER = "devhost.invocations"
invocations = logging.getLogger(INVOCATION_LOGGER)

EVENT_GRID_WEBHOOK = "/runtime/webhooks/eventgrid"
# The origins the Event Grid extension echoes in the CloudEvents abuse-protection handshake; others get the first.
EVENT_GRID_ORIGINS = ("eventgrid.azure.net", "eventgrid.azure.us", "eventgrid.azure.cn")
EVENT_GRID_SCHEMA_FIELDS = ("id", "eventType", "data")
CLOUD_EVENT_FIELDS = ("id", "type", "source", "specversion")


@dataclass
class HostState:
    """What the request handlers need: the app's functions and where HTTP routes live."""

    app_dir: Path
    route_prefix: str
    settings: LocalSettings
    functions: list[FunctionSpec]

    @functools.cached_property
    def http_functions(self) -> list[FunctionSpec]:
        """HTTP functions, most specific route first (literal segments before parameters), as ASP.NET orders them."""
        http = [spec for spec in self.functions if spec.trigger_type == HTTP_TRIGGER and spec.route]
        return sorted(http, key=lambda spec: spec.route.precedence if spec.route else ())

    def event_grid_function(self, name: str) -> FunctionSpec | None:
        wanted = name.lower()
        for spec in self.functions:
            if spec.trigger_type == EVENT_GRID_TRIGGER and spec.name.lower() == wanted:
                return spec
        return None


STOP_GRACE_SECONDS = 5.0
STATE = web.AppKey("devhost_state", HostState)
TIMERS = web.AppKey("devhost_timers", TimerRunner)


def create_app(app_dir: Path, settings_file: Path | None = None) -> web.Application:
    """Load local.settings.json into the environment, import the app's function_app.py and serve its functions."""
    app_dir = Path(app_dir).resolve()
    route_prefix = read_route_prefix(app_dir)
    settings = read_local_settings(Path(settings_file) if settings_file else app_dir / "local.settings.json")
    apply_local_settings(settings)
    functions = describe_functions(find_function_app(load_module(app_dir)))
    for spec in functions:
        if not spec.supported:
            log.warning(
                "function %r: devhost does not run %s functions; it is listed but never invoked",
                spec.name,
                spec.trigger_type,
            )
        elif reason := spec.unsupported_reason():
            log.warning("%s; invoking it will return 500", reason)
    state = HostState(app_dir=app_dir, route_prefix=route_prefix, settings=settings, functions=functions)

    app = web.Application()
    app[STATE] = state
    app[TIMERS] = TimerRunner(functions, _invoke)
    app.on_startup.append(_start_timers)
    app.on_cleanup.append(_stop_timers)
    app.router.add_get("/admin/host/status", _host_status)
    app.router.add_get("/admin/functions", _list_functions)
    app.router.add_post("/admin/functions/{name}", _run_function)
    app.router.add_route("*", EVENT_GRID_WEBHOOK, _event_grid_webhook)
    if route_prefix:
        app.router.add_route("*", f"/{route_prefix}", _http_trigger)
        app.router.add_route("*", f"/{route_prefix}/{{tail:.*}}", _http_trigger)
    else:
        app.router.add_route("*", "/{tail:.*}", _http_trigger)
    return app


def function_url(state: HostState, spec: FunctionSpec, base_url: str) -> str | None:
    """The URL that invokes spec (an HTTP route template or the Event Grid webhook), or None if devhost cannot."""
    if spec.trigger_type == HTTP_TRIGGER and spec.route:
        prefix = f"/{state.route_prefix}" if state.route_prefix else ""
        return f"{base_url}{prefix}/{spec.route.template.strip('/')}"
    if spec.trigger_type == EVENT_GRID_TRIGGER:
        return f"{base_url}{EVENT_GRID_WEBHOOK}?functionName={spec.name}"
    return None


def functions_table(state: HostState, base_url: str) -> str:
    """The start-up listing of functions, laid out like Core Tools prints it."""
    lines = ["Functions:", ""]
    for spec in state.functions:
        url = function_url(state, spec, base_url)
        if spec.trigger_type == HTTP_TRIGGER:
            where = f"[{','.join(sorted(spec.methods)) if spec.methods else 'ALL'}] {url}"
        elif url:
            where = f"{spec.trigger_type} {url}"
        elif spec.trigger_type == TIMER_TRIGGER:
            where = f"timerTrigger {spec.schedule}"
        else:
            where = f"{spec.trigger_type} (not run by devhost)"
        lines += [f"\t{spec.name}: {where}", ""]
    if not state.functions:
        lines += ["\t(no functions found)", ""]
    return "\n".join(lines)


async def _start_timers(app: web.Application) -> None:
    app[TIMERS].start()


async def _stop_timers(app: web.Application) -> None:
    await app[TIMERS].stop()


async def _run_function(request: web.Request) -> web.Response:
    """The host's admin API for non-HTTP functions: run a timer function now (202 once it has run)."""
    timers = request.app[TIMERS]
    name = request.match_info["name"].lower()
    spec = next((timer for timer in timers.timers if timer.name.lower() == name), None)
    if spec is None:
        return web.Response(status=404, text=f"No timer function named {request.match_info['name']!r}\n")
    try:
        await timers.fire(spec, reason="This function was programmatically called via the host APIs.")
    except Exception:
        log.exception("Function 'Functions.%s' failed", spec.name)
        return web.Response(status=500, text=f"Function {spec.name} failed; see the host's log\n")
    return web.Response(status=202)


async def _host_status(request: web.Request) -> web.Response:
    return web.json_response({"state": "Running"})


async def _list_functions(request: web.Request) -> web.Response:
    state = request.app[STATE]
    base_url = f"{request.scheme}://{request.host}"
    listing = [
        {
            "name": spec.name,
            "language": "python",
            "isDisabled": False,
            "servedByDevhost": spec.supported,
            "invoke_url_template": function_url(state, spec, base_url),
            "config": {"bindings": spec.bindings},
        }
        for spec in state.functions
    ]
    return web.json_response(listing)


async def _invoke(spec: FunctionSpec, argument: Any, reason: str) -> Any:
    """Call the user function like the Python worker: coroutines on the loop, plain functions in a worker thread."""
    invocation_id = uuid.uuid4()
    invocations.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", spec.name, reason, invocation_id)
    started = time.perf_counter()
    outcome = "Failed"
    try:
        if spec.is_async:
            result = await spec.user_function(**{spec.trigger_arg: argument})
        else:
            call = functools.partial(spec.user_function, **{spec.trigger_arg: argument})
            result = await asyncio.get_running_loop().run_in_executor(None, call)
        outcome = "Succeeded"
        return result
    finally:
        duration = (time.perf_counter() - started) * 1000
        invocations.info(
            "Executed 'Functions.%s' (%s, Id=%s, Duration=%.0fms)", spec.name, outcome, invocation_id, duration
        )


def _failure_text(spec: FunctionSpec) -> str:
    """What a failed invocation answers: the function's name only. Its exception goes to the log, never to the
    caller (Azure answers a bare 500 too), so a webhook body cannot leak internals to whoever sent the request."""
    return f"Function Functions.{spec.name} failed; the dev host's log has the details"


async def _http_trigger(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    tail = request.match_info.get("tail", "")
    found = _route(state, tail, request.method)
    if isinstance(found, list):
        if not found:
            return web.Response(status=404, text=f"No function is registered for {request.path}\n")
        methods = sorted({method for spec in found for method in spec.methods or ()})
        return web.Response(
            status=405,
            headers={"Allow": ", ".join(methods)},
            text=f"{request.method} is not allowed for {request.path}; allowed: {', '.join(methods)}\n",
        )
    spec, route_params = found
    if reason := spec.unsupported_reason():
        return web.Response(status=500, text=reason + "\n")
    http_request = func.HttpRequest(
        method=request.method,
        url=str(request.url),
        headers={name: ", ".join(request.headers.getall(name)) for name in request.headers},
        params={name: ",".join(request.query.getall(name)) for name in request.query},
        route_params=route_params,
        body=await request.read(),
    )
    try:
        result = await _invoke(spec, http_request, "This function was programmatically called via the host APIs.")
    except Exception:
        log.exception("Function 'Functions.%s' failed", spec.name)
        return web.Response(status=500, text=_failure_text(spec) + "\n")
    return _to_aiohttp_response(spec, result)


def _route(state: HostState, tail: str, method: str) -> tuple[FunctionSpec, dict[str, str]] | list[FunctionSpec]:
    """The first function, most specific route first, whose route matches tail and which takes method, with its
    route parameters; otherwise every function whose route matches (none: 404, some: 405)."""
    matched = []
    for spec in state.http_functions:
        params = spec.route.match(tail) if spec.route else None
        if params is None:
            continue
        if spec.methods is None or method in spec.methods:
            return spec, params
        matched.append(spec)
    return matched


def _to_aiohttp_response(spec: FunctionSpec, result: Any) -> web.Response:
    if isinstance(result, str):
        return web.Response(status=200, text=result, content_type="text/plain", charset="utf-8")
    if result is None:
        return web.Response(status=204)
    if not isinstance(result, func.HttpResponse):
        message = f"function {spec.name!r} returned {type(result).__name__}; expected func.HttpResponse or str"
        log.error(message)
        return web.Response(status=500, text=message + "\n")
    response = web.Response(status=result.status_code, body=result.get_body() or b"")
    for name, value in result.headers.items():
        response.headers.add(name, value)
    if "content-type" not in result.headers:
        # Same default as azure.functions' HttpResponseConverter: charset only for text/* types.
        mimetype = result.mimetype
        response.headers["Content-Type"] = (
            f"{mimetype}; charset={result.charset}" if mimetype.startswith("text/") else mimetype
        )
    return response


async def _event_grid_webhook(request: web.Request) -> web.Response:
    state = request.app[STATE]
    name = request.query.get("functionName")
    if not name:
        return web.Response(status=404, text="The functionName query parameter is required\n")
    spec = state.event_grid_function(name)
    if spec is None:
        return web.Response(status=404, text=f"No Event Grid trigger function named {name!r}\n")
    if request.method == "OPTIONS":
        origin = request.headers.get("WebHook-Request-Origin", "").strip().lower()
        allowed = origin if origin in EVENT_GRID_ORIGINS else EVENT_GRID_ORIGINS[0]
        return web.Response(status=200, headers={"WebHook-Allowed-Origin": allowed})
    event_type = request.headers.get("aeg-event-type")
    if event_type == "Unsubscribe":
        return web.Response(status=202)
    if event_type not in ("SubscriptionValidation", "Notification"):
        shown = "missing" if event_type is None else f"{event_type!r}"
        return web.Response(
            status=400,
            text=f"The aeg-event-type header is {shown}; "
            "expected Notification, SubscriptionValidation or Unsubscribe\n",
        )
    try:
        body = guarded_json.loads(await request.read(), max_bytes=guarded_json.MAX_EVENT_BYTES, what="The request body")
    except BadRequest as exc:
        return web.Response(status=exc.status, text=f"{exc}\n")
    try:
        if event_type == "SubscriptionValidation":
            return web.json_response({"validationResponse": _validation_code(body)})
        events = _decode_events(body)
    except ValueError as exc:
        return web.Response(status=400, text=f"{exc}\n")
    if reason := spec.unsupported_reason():
        return web.Response(status=500, text=reason + "\n")
    failed = False
    # The extension invokes every element even when one fails, then answers 500 so Event Grid retries.
    for event in events:
        try:
            await _invoke(spec, event, f"EventGrid trigger fired at {datetime.now(UTC).isoformat()}")
        except Exception:
            log.exception("Function 'Functions.%s' failed on event %s", spec.name, event.id)
            failed = True
    if failed:
        return web.Response(status=500, text=_failure_text(spec) + "\n")
    return web.Response(status=202)


def _validation_code(body: Any) -> str:
    """validationCode from a SubscriptionValidation body: an Event Grid array, or a CloudEvent with JSON-text data."""
    event = body[0] if isinstance(body, list) and body else body
    data = event.get("data") if isinstance(event, dict) else None
    if isinstance(data, str):
        try:
            data = guarded_json.loads(data.encode("utf-8", "surrogatepass"), max_bytes=guarded_json.MAX_EVENT_BYTES)
        except BadRequest:
            data = None
    code = data.get("validationCode") if isinstance(data, dict) else None
    if not isinstance(code, str):
        raise ValueError("The SubscriptionValidation body has no data.validationCode")
    return code


def _decode_events(body: Any) -> list[func.EventGridEvent | func.CloudEvent]:
    """Validate every element first, then convert with azure.functions' own converter, as the Python worker does."""
    elements = body if isinstance(body, list) else [body]
    if not elements:
        raise ValueError("The request body is an empty array; expected at least one event")
    for index, element in enumerate(elements):
        if not isinstance(element, dict):
            raise ValueError(f"Event {index} is a JSON {type(element).__name__}, not an object")
        required = CLOUD_EVENT_FIELDS if "specversion" in element else EVENT_GRID_SCHEMA_FIELDS
        missing = [name for name in required if name not in element]
        if missing:
            raise ValueError(f"Event {index} is missing {', '.join(missing)}")
    events = []
    for index, element in enumerate(elements):
        datum = meta.Datum(json.dumps(element), "json")
        try:
            events.append(EventGridEventInConverter.decode(datum, trigger_metadata={}))
        except (ValueError, TypeError, OverflowError):
            raise ValueError(f"Event {index} has an invalid time") from None
    return events


class DevHost:
    """Runs the devhost server for one app directory on a background thread with its own event loop."""

    def __init__(
        self, app_dir: Path, port: int = 0, host: str = "127.0.0.1", settings_file: Path | None = None
    ) -> None:
        self.app_dir = Path(app_dir)
        self.host = host
        self.port = port
        self.settings_file = settings_file
        self.app: web.Application | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._startup_error: Exception | None = None
        # Run on the host's loop once stop() has drained in-flight invocations, before the loop closes (the app's
        # async clients are closed here: closing them earlier would fail the requests still being handled).
        self.on_stopped: list[Callable[[], Coroutine[Any, Any, None]]] = []

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def state(self) -> HostState:
        if self.app is None:
            raise RuntimeError("DevHost is not started")
        return self.app[STATE]

    def start(self, timeout: float = 30.0) -> DevHost:
        """Import the app, bind the port and serve; returns once requests are accepted."""
        self.app = create_app(self.app_dir, self.settings_file)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # A port a previous run closed moments ago (TIME_WAIT) is free to bind again, as `python -m devhost` does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        ready = threading.Event()
        self._startup_error = None
        self._thread = threading.Thread(target=self._serve, args=(sock, ready), name="devhost", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError(f"devhost did not start within {timeout:.0f}s")
        if self._startup_error is not None:
            raise self._startup_error
        log.info("devhost serving %s on %s", self.app_dir, self.url)
        log.debug("%s", functions_table(self.state, self.url))
        return self

    def _serve(self, sock: socket.socket, ready: threading.Event) -> None:
        # Everything asyncio happens on this thread, so start() and stop() also work from inside a running loop.
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        assert self.app is not None, "start() creates the app before serving it"
        # In-flight invocations get a few seconds to finish on stop (Core Tools' own grace period is longer).
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=STOP_GRACE_SECONDS)
        try:
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.SockSite(runner, sock).start())
        except Exception as exc:
            self._startup_error = exc
            sock.close()
            loop.run_until_complete(runner.cleanup())
            loop.close()
            ready.set()
            return
        self._loop = loop
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            for hook in self.on_stopped:
                loop.run_until_complete(hook())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the host's loop, where the app's async clients live (e.g. to close them)."""
        if self._loop is None:
            raise RuntimeError("DevHost is not started")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Close the server, letting in-flight requests finish, and end the loop thread (waits up to timeout)."""
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout)

    def __enter__(self) -> DevHost:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
