"""Azure Functions entry points: a thin adapter that parses, verifies, dispatches and responds."""

import logging
from typing import Any

import azure.functions as func

from handlers import router
from handlers.api_recording_routes import blueprint as recording_api_blueprint
from handlers.api_routes import blueprint as api_blueprint
from shared import clients
from shared.errors import BadRequest, error_reply, is_permanent
from shared.events import event_grid_envelope, parse_callback_body, parse_event_grid_event
from shared.logging import install_log_hygiene
from shared.recordings import parse_recording_file_status

install_log_hygiene()
logger = logging.getLogger(__name__)

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(api_blueprint)  # the HTTP API under /api/calls and /api/reminders (docs/api.md)
app.register_functions(recording_api_blueprint)  # recording, streaming, transcription (docs/recording.md)


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
    await _dispatch_event_grid(parsed)


@app.event_grid_trigger(arg_name="event")
async def recording_file_status(event: func.EventGridEvent) -> None:
    """Event Grid: index a finished recording (RecordingFileStatusUpdated). Raising makes Event Grid redeliver."""
    try:
        envelope = event_grid_envelope(event)
        parsed = parse_recording_file_status(event_id=envelope.id, subject=envelope.subject, data=envelope.data)
    except BadRequest as exc:
        error_reply(exc)  # a malformed event will not improve with retries: log it and let it go
        return
    await _dispatch_event_grid(parsed)


async def _dispatch_event_grid(parsed: Any) -> None:
    """Dispatch; a failure that a redelivery cannot cure (shared.errors.is_permanent) is logged and acknowledged."""
    try:
        await router.dispatch(parsed, await clients.context())
    except Exception as exc:
        if not is_permanent(exc):
            raise
        logger.error("Event %s (%s) acknowledged without effect: %s", parsed.id, parsed.type, exc)


# ACS cannot send a function key, so this route is anonymous to the host; the ACS-signed JWT is its lock.
@app.route(route="callbacks", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
async def callbacks(req: func.HttpRequest) -> func.HttpResponse:
    """ACS mid-call events: verify the JWT, then dispatch each CloudEvent of the batch in order."""
    try:
        body = req.get_body()
        await clients.verify_callback(req.headers.get("Authorization"), body)
        events = parse_callback_body(body)
        ctx = await clients.context()
        for event in events:
            await router.dispatch(event, ctx)
    except Exception as exc:
        status, message = error_reply(exc)
        return func.HttpResponse(message, status_code=status, mimetype="text/plain")
    return func.HttpResponse(status_code=200)
