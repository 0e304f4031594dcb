"""OpenTelemetry traces: one trace per invocation (callback, Event Grid event, API request, timer), its root span
carrying the call's connection id, correlation id, flow, step and event type, with the Azure SDK's own spans for
every Table and ACS request under it (azure-core's native tracing).

TRACES_EXPORTER says where they go: `none` (default), `console` (stdout), `file:PATH` (OTLP JSON lines, one
export batch a line) or `azure-monitor` (Application Insights, from APPLICATIONINSIGHTS_CONNECTION_STRING, sent with
the app's managed identity); phone numbers in attributes are masked on the way out, as in the logs. Nothing here
imports OpenTelemetry unless traces are exported: with `none` an invocation costs an attribute check, and
importing function_app stays as cheap as it was.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from shared.logging import mask

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span

# Attribute names: one vocabulary for the app's spans and the KQL in docs/deploy.md.
ATTRIBUTES = {
    "connection_id": "call.connection_id",
    "correlation_id": "call.correlation_id",
    "server_call_id": "call.server_call_id",
    "flow": "call.flow",
    "step": "call.step",
    "event_type": "call.event_type",
    "event_id": "call.event_id",
    "ignored": "call.ignored",
}
TRIGGER = "faas.trigger"  # OpenTelemetry's FaaS conventions: http, pubsub (Event Grid), timer
# The Functions binding type of each trigger, as the host names it.
TRIGGERS = {"httpTrigger": "http", "eventGridTrigger": "pubsub", "timerTrigger": "timer"}
INSTRUMENTATION = "acs-call-workflows"

P = ParamSpec("P")
T = TypeVar("T")


class _Tracing:
    """This process's tracing: configured once, by the first invocation's settings (or by a test)."""

    configured = False
    tracer: Any = None


_state = _Tracing()
_root: ContextVar[Span | None] = ContextVar("invocation_span", default=None)


def configure(exporter: str, *, credential: Callable[[], Any] | None = None) -> None:
    """Export this process's traces as exporter says (see the module docstring); only the first call counts."""
    if _state.configured:
        return
    _state.configured = True
    if exporter == "none":
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": INSTRUMENTATION}))
    provider.add_span_processor(BatchSpanProcessor(masking_exporter(_exporter(exporter, credential))))
    install(provider)


def _exporter(exporter: str, credential: Callable[[], Any] | None) -> SpanExporter:
    if exporter == "azure-monitor":
        from azure.monitor.opentelemetry.exporter import AzureMonitorTraceExporter

        # The connection string comes from APPLICATIONINSIGHTS_CONNECTION_STRING; local authentication is off on
        # the Application Insights resource, so the exporter authenticates with the app's identity.
        return AzureMonitorTraceExporter(credential=credential() if credential else None)
    if exporter == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.json.file import FileSpanExporter

    return FileSpanExporter(exporter.removeprefix("file:"))


def install(provider: TracerProvider) -> None:
    """Make provider this process's (global) tracer provider, which azure-core's spans use too, and trace."""
    from opentelemetry import trace

    trace.set_tracer_provider(provider)
    _state.configured = True
    _enable()


def _enable() -> None:
    from azure.core.settings import settings
    from opentelemetry import trace

    settings.tracing_enabled = True  # azure-core's native OpenTelemetry spans for every SDK operation and request
    _state.tracer = trace.get_tracer(INSTRUMENTATION)


def disable() -> None:
    """Stop tracing in this process (tests): no more spans from the app or the SDKs."""
    if _state.tracer is not None:
        from azure.core.settings import settings

        settings.tracing_enabled = False
    _state.tracer = None
    _state.configured = False


def trace_functions(app: Any) -> None:
    """Run every function registered on app (a func.FunctionApp, blueprints included) inside its invocation's span.

    azure.functions has no public way to wrap a registered function, so this replaces each builder's function;
    the wrapper keeps its signature (functools.wraps), which is what the worker and the dev host bind by.
    """
    for builder in app._function_builders:
        function = builder._function
        trigger = function.get_trigger()
        kind = TRIGGERS.get(trigger.type if trigger is not None else "", "other")
        function._func = traced(kind)(function._func)


def traced(trigger: str) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """Run a Functions entry point inside its invocation's root span, named after the function."""

    def decorate(function: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(function)
        async def run(*args: P.args, **kwargs: P.kwargs) -> T:
            if not _state.configured:
                _configure_from_settings()
            async with invocation(function.__name__, trigger):
                # An API request names its call in the route (/api/calls/{callId}/...).
                request = next((arg for arg in (*args, *kwargs.values()) if hasattr(arg, "route_params")), None)
                if request is not None:
                    annotate(connection_id=request.route_params.get("callId"))
                return await function(*args, **kwargs)

        return run

    return decorate


def _configure_from_settings() -> None:
    from shared import clients
    from shared.errors import SettingsError

    try:
        settings = clients.load_settings()
    except SettingsError:
        return  # the invocation itself reports it; tracing waits for settings that load
    configure(settings.traces_exporter, credential=lambda: _exporter_credential(settings.azure_client_id))


def _exporter_credential(client_id: str | None) -> Any:
    """The app's identity for the exporter, which sends from its own thread and so takes a synchronous credential."""
    from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

    return ManagedIdentityCredential(client_id=client_id) if client_id else DefaultAzureCredential()


@contextlib.asynccontextmanager
async def invocation(name: str, trigger: str) -> AsyncIterator[None]:
    """The root span of one invocation; an exception is recorded on it and raised on."""
    if _state.tracer is None:
        yield
        return
    from opentelemetry.trace import SpanKind

    kind = {"http": SpanKind.SERVER, "pubsub": SpanKind.CONSUMER}.get(trigger, SpanKind.INTERNAL)
    with _state.tracer.start_as_current_span(name, kind=kind, attributes={TRIGGER: trigger}) as root:
        token = _root.set(root)
        try:
            yield
        finally:
            _root.reset(token)


@contextlib.contextmanager
def span(name: str, **attributes: Any) -> Iterator[None]:
    """A child span of the current one (one event of a callback batch, one call the watchdog recovers), with call
    attributes (names as in ATTRIBUTES), which the invocation's root span gets too."""
    if _state.tracer is None:
        yield
        return
    clean = _attributes(attributes)
    _set_on_root(clean)
    with _state.tracer.start_as_current_span(name, attributes=clean):
        yield


def annotate(**attributes: Any) -> None:
    """Add call attributes (names as in ATTRIBUTES) to the current span and to its invocation's root span."""
    if _state.tracer is None:
        return
    from opentelemetry import trace

    clean = _attributes(attributes)
    trace.get_current_span().set_attributes(clean)
    _set_on_root(clean)


def _set_on_root(attributes: Mapping[str, Any]) -> None:
    root = _root.get()
    if root is not None:
        root.set_attributes(attributes)


def _attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {ATTRIBUTES.get(key, key): value for key, value in attributes.items() if value not in (None, "")}


def masking_exporter(exporter: SpanExporter) -> SpanExporter:
    """exporter, sent copies of the spans with phone numbers masked in their string attributes: a Table request's
    URL holds the key it reads, and routing rules and pairings are keyed by phone numbers."""
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    def masked(span: ReadableSpan) -> ReadableSpan:
        attributes = dict(span.attributes or {})
        changed = {key: mask(value) for key, value in attributes.items() if isinstance(value, str)}
        if all(attributes[key] == value for key, value in changed.items()):
            return span
        return ReadableSpan(
            name=span.name,
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes={**attributes, **changed},
            events=span.events,
            links=span.links,
            kind=span.kind,
            status=span.status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )

    class MaskingSpanExporter(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return exporter.export([masked(span) for span in spans])

        def shutdown(self) -> None:
            exporter.shutdown()

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return exporter.force_flush(timeout_millis)

    return MaskingSpanExporter()
