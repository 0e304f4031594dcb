"""Fixture function app for the devhost tests: sync and async HTTP routes, an Event Grid trigger, failures."""

import json
import os
import threading

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

# Read at import time to prove local.settings.json is applied before function_app is imported.
IMPORT_TIME_SETTING = os.environ.get("FIXTURE_FROM_SETTINGS", "<unset>")
EVENTS: list[dict] = []
GATE = threading.Event()


@app.route(route="hello/{name}", methods=["GET"])
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"hello {req.route_params['name']}", headers={"X-Fixture": "sync"})


@app.route(route="calls/{callId}/items/{index}/{tag?}", methods=["GET", "POST"])
async def call_item(req: func.HttpRequest) -> func.HttpResponse:
    echo = {
        "method": req.method,
        "route": dict(req.route_params),
        "params": dict(req.params),
        "header": req.headers.get("x-test"),
        "body": req.get_body().decode(),
        "url": req.url,
    }
    return func.HttpResponse(json.dumps(echo), status_code=201, mimetype="application/json")


@app.route(route="files/{*path}")
def files(req: func.HttpRequest) -> str:
    return req.route_params.get("path", "")


@app.route()
def plain(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(status_code=204)


@app.route(route="boom")
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("kaboom")


@app.route(route="settings/{name}")
def setting(req: func.HttpRequest) -> str:
    name = req.route_params["name"]
    return IMPORT_TIME_SETTING if name == "import-time" else os.environ.get(name, "<unset>")


@app.route(route="block")
def block(req: func.HttpRequest) -> str:
    return "released" if GATE.wait(timeout=10) else "timed out"


@app.route(route="release")
async def release(req: func.HttpRequest) -> str:
    GATE.set()
    return "ok"


@app.queue_output(arg_name="msg", queue_name="outbox", connection="AzureWebJobsStorage")
@app.route(route="queue")
def with_queue(req: func.HttpRequest, msg: func.Out[str]) -> str:
    msg.set("never")
    return "never"


@app.event_grid_trigger(arg_name="event")
def on_event(event: func.EventGridEvent) -> None:
    data = event.get_json()
    if isinstance(data, dict) and data.get("fail"):
        raise ValueError(f"event {event.id} asked to fail")
    EVENTS.append(
        {
            "kind": type(event).__name__,
            "id": event.id,
            "type": event.type if isinstance(event, func.CloudEvent) else event.event_type,
            "subject": event.subject,
            "data": data,
            "time": (event.time if isinstance(event, func.CloudEvent) else event.event_time).isoformat(),
        }
    )


@app.route(route="events", methods=["GET"])
def recorded_events(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(EVENTS), mimetype="application/json")
