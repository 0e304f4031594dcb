"""Traces of a whole call: every invocation is one trace whose root span names the call, with the Azure SDK's
Table and ACS spans inside it, and no phone number in any attribute."""

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from devhost.stack import LocalStack
from emulator.control_client import EmulatorControl
from emulator.scripting import ScriptedCaller
from shared import tracing
from tests.e2e.helpers import wait_until, wait_until_delivered

CALLER = "+14255550177"
CONNECTION_ID = "call.connection_id"


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(tracing.masking_exporter(exporter)))
    tracing.install(provider)
    yield exporter
    tracing.disable()


def by_trace(finished: tuple[ReadableSpan, ...]) -> dict[int, list[ReadableSpan]]:
    traces: dict[int, list[ReadableSpan]] = defaultdict(list)
    for span in finished:
        traces[span.context.trace_id].append(span)
    return traces


def root_of(trace: list[ReadableSpan]) -> ReadableSpan:
    [root] = [span for span in trace if span.parent is None]
    return root


def is_callback(trace: list[ReadableSpan]) -> bool:
    return root_of(trace).name == "callbacks"


def attribute_values(span: ReadableSpan) -> list[Any]:
    return list((span.attributes or {}).values())


def test_one_trace_per_invocation_each_naming_the_call(
    stack: LocalStack, control: EmulatorControl, spans: InMemorySpanExporter
) -> None:
    spans.clear()
    caller = ScriptedCaller(control, CALLER).dial("+18005550100")
    caller.wait_for_prompt("press 1")
    caller.press("1")
    caller.wait_for_prompt("order number")
    caller.press("12345#")
    caller.wait_for_prompt("out for delivery")
    caller.hang_up()
    caller.wait_until_ended()
    [call] = control.call(caller.call_id)["callConnectionIds"]
    deliveries = wait_until_delivered(control, caller.call_id, call)

    def callback_traces() -> list[list[ReadableSpan]] | None:
        traces = [
            trace for trace in by_trace(spans.get_finished_spans()).values() if root_of(trace).name == "callbacks"
        ]
        return traces if len(traces) >= len(deliveries) else None

    wait_until(callback_traces, "a finished trace for every callback")
    traces = by_trace(spans.get_finished_spans())

    # Every trace is one invocation: one root, every other span a descendant of it.
    for trace in traces.values():
        root = root_of(trace)
        ids = {span.context.span_id for span in trace}
        assert all(span.parent.span_id in ids for span in trace if span is not root)
    roots = {trace_id: root_of(trace) for trace_id, trace in traces.items()}
    for_call = {trace_id: root for trace_id, root in roots.items() if root.attributes.get(CONNECTION_ID) == call}
    names = sorted(root.name for root in for_call.values())
    # Each callback POST and the IncomingCall are their own traces, and all of them name the call.
    assert names.count("callbacks") == len(deliveries)
    assert "incoming_call" in names
    callbacks = [traces[trace_id] for trace_id, root in for_call.items() if root.name == "callbacks"]
    for trace in callbacks:
        root = root_of(trace)
        assert root.kind == SpanKind.SERVER and root.attributes["faas.trigger"] == "http"
        assert root.attributes["call.correlation_id"] and root.attributes["call.event_type"]
    # The engine's span for each event carries the flow and the step the event found the call at, or says why it
    # did not read the call's state (an event type no flow or policy acts on).
    events = [span for trace in callbacks for span in trace if span.attributes.get("call.event_id")]
    read = [span for span in events if "call.ignored" not in span.attributes]
    assert {span.attributes["call.flow"] for span in read} == {"ivr"}
    assert {"answering", "main-menu", "order-number"} <= {span.attributes["call.step"] for span in read}
    unread = {span.attributes["call.event_type"] for span in events if span.attributes.get("call.ignored")}
    assert unread and not unread & {"CallConnected", "RecognizeCompleted", "CallDisconnected"}
    # Azure SDK spans (azure-core's) sit inside the invocations: the state writes and the ACS requests.
    sdk_clients = [span for trace in callbacks for span in trace if span.kind == SpanKind.CLIENT]
    urls = [str(span.attributes.get("url.full", "")) for span in sdk_clients]
    assert any("/calling/callConnections/" in url for url in urls)
    assert any(re.search(r"RowKey=(%27|')state(%27|')", url) for url in urls)  # the state row's read and write
    # The routing rule is read by the called number: its URL carries that key, masked like every log line.
    everything = [value for trace in traces.values() for span in trace for value in attribute_values(span)]
    assert not any(
        isinstance(value, str) and ("18005550100" in value or "14255550177" in value) for value in everything
    )
