"""Azure Functions entry points: a thin adapter that parses, verifies, dispatches and responds."""

import json
import logging
from collections.abc import Awaitable

import azure.functions as func

from handlers import FLOWS, engine
from handlers.api import API
from handlers.incoming_call import on_incoming_call
from handlers.recording_files import on_recording_file_status
from shared import api, clients, tracing
from shared.errors import BadRequest, error_document, error_reply, is_permanent
from shared.events import IncomingCall, event_grid_envelope, parse_callback_body, parse_event_grid_event
from shared.logging import install_log_hygiene
from shared.recordings import parse_recording_file_status

install_log_hygiene()
logger = logging.getLogger(__name__)

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
# The HTTP API (docs/api.md): one trigger per route of handlers/api, GET /api/openapi.json, JSON 404s.
app.register_functions(api.blueprint(API))


# Both Event Grid functions take either schema: the worker hands a func.CloudEvent to them for CloudEvent-schema
# deliveries whatever the annotation says (the annotation must be a single class for the worker to index it).
@app.event_grid_trigger(arg_name="event")
async def incoming_call(event: func.EventGridEvent) -> None:
    """Event Grid: answer, redirect or reject an IncomingCall. Raising makes Event Grid redeliver."""
    try:
        envelope = event_grid_envelope(event)
        parsed = parse_event_grid_event(
            event_id=envelope.id, event_type=envelope.type, data=envelope.data, time=envelope.time
        )
    except BadRequest as exc:
        error_reply(exc)  # a malformed event will not improve with retries: log it and let it go
        return
    if isinstance(parsed, IncomingCall):
        await _unless_permanent(parsed.id, parsed.type, on_incoming_call(parsed, await clients.context(), FLOWS))


@app.event_grid_trigger(arg_name="event")
async def recording_file_status(event: func.EventGridEvent) -> None:
    """Event Grid: index a finished recording (RecordingFileStatusUpdated). Raising makes Event Grid redeliver."""
    try:
        envelope = event_grid_envelope(event)
        parsed = parse_recording_file_status(event_id=envelope.id, subject=envelope.subject, data=envelope.data)
    except BadRequest as exc:
        error_reply(exc)  # a malformed event will not improve with retries: log it and let it go
        return
    await _unless_permanent(parsed.id, parsed.type, on_recording_file_status(parsed, await clients.context()))


async def _unless_permanent(event_id: str, event_type: str, handling: Awaitable[None]) -> None:
    """Handle an Event Grid event; a failure a redelivery cannot cure (shared.errors.is_permanent) is logged and
    acknowledged, anything else raises so Event Grid redelivers."""
    try:
        await handling
    except Exception as exc:
        if not is_permanent(exc):
            raise
        logger.error("Event %s (%s) acknowledged without effect: %s", event_id, event_type, exc)


# ACS cannot send a function key, so this route is anonymous to the host; the ACS-signed JWT is its lock.
@app.route(route="callbacks", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
async def callbacks(req: func.HttpRequest) -> func.HttpResponse:
    """ACS mid-call events: verify the JWT, then hand each CloudEvent of the batch, in order, to the engine."""
    try:
        body = req.get_body()
        await clients.verify_callback(req.headers.get("Authorization"), body)
        events = parse_callback_body(body)
        ctx = await clients.context()
        for event in events:
            await engine.handle(event, ctx)
    except Exception as exc:
        status, document = error_document(exc)
        return func.HttpResponse(json.dumps(document), status_code=status, mimetype="application/json")
    return func.HttpResponse(status_code=200)


# The schedule is an app setting (NCRONTAB with seconds), so a test stack can run it every second.
@app.timer_trigger(schedule="%WATCHDOG_SCHEDULE%", arg_name="timer", run_on_startup=False, use_monitor=True)
async def watchdog(timer: func.TimerRequest) -> None:
    """Recover calls whose step waited past its deadline, and delete calls ended longer ago than the retention."""
    await engine.sweep(await clients.context())


# One trace per invocation of every function above, blueprints included (shared/tracing.py).
tracing.trace_functions(app)
