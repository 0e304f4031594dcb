"""Tracing: TRACES_EXPORTER is checked like every setting, `none` never loads OpenTelemetry, and `file:PATH` writes
OTLP JSON lines whose spans carry the call's attributes with phone numbers masked.

Each scenario that installs a tracer provider runs in its own interpreter: OpenTelemetry allows one per process.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.errors import SettingsError
from shared.settings import Settings

SETTINGS = {
    "CALLBACK_BASE_URL": "https://app.example",
    "CALLBACK_AUTH_ENABLED": "false",
    "STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true",
    "ACS_ENDPOINT": "https://acs.example",
}

INVOCATION = """
import asyncio, sys
from shared import tracing

@tracing.traced("http")
async def callbacks(req):
    with tracing.span("CallConnected", connection_id="call-1", correlation_id="corr-1", event_type="CallConnected"):
        tracing.annotate(flow="ivr", step="answering", **{"url.full": "http://t/rules(PartitionKey='%2B14255550123')"})
    return "ok"

class Request:
    route_params = {}

print(asyncio.run(callbacks(Request())))
print(any(name.startswith("opentelemetry") for name in sys.modules))
"""


def run_invocation(exporter: str, **variables: str) -> list[str]:
    environment = {**os.environ, **SETTINGS, "TRACES_EXPORTER": exporter, **variables}
    script = INVOCATION + "\nfrom opentelemetry import trace\ntrace.get_tracer_provider().shutdown()\n"
    if exporter == "none":
        script = INVOCATION
    done = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.split()


@pytest.mark.parametrize("value", ["jaeger", "file:", "Console"])
def test_an_unknown_exporter_is_named_with_what_is_accepted(value: str) -> None:
    with pytest.raises(SettingsError, match=r"TRACES_EXPORTER.*none, console, azure-monitor or file:PATH"):
        Settings.from_env({**SETTINGS, "TRACES_EXPORTER": value})


def test_exporters_are_read_from_settings() -> None:
    assert Settings.from_env(SETTINGS).traces_exporter == "none"
    to_file = Settings.from_env({**SETTINGS, "TRACES_EXPORTER": "file:traces.jsonl"})
    assert to_file.traces_exporter == "file:traces.jsonl"


def test_without_an_exporter_an_invocation_never_loads_opentelemetry() -> None:
    assert run_invocation("none") == ["ok", "False"]


def test_a_file_exporter_writes_otlp_json_lines_with_the_call_attributes_masked(tmp_path: Path) -> None:
    path = tmp_path / "traces.jsonl"

    assert run_invocation(f"file:{path}")[0] == "ok"

    spans = [
        span
        for line in path.read_text().splitlines()
        for resource in json.loads(line)["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    ]
    by_name = {span["name"]: span for span in spans}
    root, event = by_name["callbacks"], by_name["CallConnected"]
    assert event["parentSpanId"] == root["spanId"] and event["traceId"] == root["traceId"]
    attributes = {item["key"]: item["value"].get("stringValue") for item in event["attributes"]}
    assert attributes["call.connection_id"] == "call-1" and attributes["call.step"] == "answering"
    assert "14255550123" not in attributes["url.full"] and "%2B1425***0123" in attributes["url.full"]
    root_attributes = {item["key"]: item["value"].get("stringValue") for item in root["attributes"]}
    assert root_attributes["call.connection_id"] == "call-1" and root_attributes["faas.trigger"] == "http"


@pytest.mark.parametrize(("ratio", "exported"), [("0", False), ("1", True)])
def test_the_standard_opentelemetry_sampler_variables_choose_which_invocations_are_traced(
    tmp_path: Path, ratio: str, exported: bool
) -> None:
    path = tmp_path / "traces.jsonl"
    sampler = {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": ratio}

    assert run_invocation(f"file:{path}", **sampler)[0] == "ok"

    assert (path.exists() and "CallConnected" in path.read_text()) is exported


def test_azure_monitor_exports_with_the_apps_identity_from_its_own_thread() -> None:
    from azure.identity import ManagedIdentityCredential

    from shared import tracing

    credential = tracing._exporter_credential("00000000-0000-0000-0000-0000000000c1")
    # The exporter calls get_token from its export thread: a synchronous credential, never an aio one.
    assert isinstance(credential, ManagedIdentityCredential) and not hasattr(credential, "__aenter__")


APPLICATION_INSIGHTS = """
import asyncio, gzip, json, os, threading
from http.server import BaseHTTPRequestHandler, HTTPServer

received = []


class Ingestion(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        received.append(gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body)
        answer = json.dumps({"itemsReceived": 1, "itemsAccepted": 1, "errors": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Ingestion)
threading.Thread(target=server.serve_forever, daemon=True).start()
os.environ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = (
    "InstrumentationKey=00000000-0000-4000-8000-000000000001;"
    f"IngestionEndpoint=http://127.0.0.1:{server.server_port}/"
)
from shared import tracing

tracing.configure("azure-monitor")


@tracing.traced("http")
async def callbacks():
    with tracing.span("CallConnected", connection_id="call-1", event_type="CallConnected"):
        tracing.annotate(flow="ivr", step="answering", note="caller +14255550123")


asyncio.run(callbacks())
from opentelemetry import trace

trace.get_tracer_provider().shutdown()
print(json.dumps([item for body in received for item in json.loads(body)]))
"""


def test_azure_monitor_sends_the_invocation_as_a_request_and_its_spans_as_dependencies() -> None:
    done = subprocess.run(
        [sys.executable, "-c", APPLICATION_INSIGHTS],
        env={**os.environ, **SETTINGS},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    items = json.loads(done.stdout.splitlines()[-1])
    by_type = {
        item["data"]["baseType"]: item["data"]["baseData"] for item in items if "name" in item["data"]["baseData"]
    }
    request, dependency = by_type["RequestData"], by_type["RemoteDependencyData"]
    assert request["name"] == "callbacks" and request["properties"]["call.connection_id"] == "call-1"
    assert dependency["name"] == "CallConnected" and dependency["properties"]["call.step"] == "answering"
    assert "14255550123" not in done.stdout and dependency["properties"]["note"] == "caller +1425***0123"
