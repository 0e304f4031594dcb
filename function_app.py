"""Azure Functions entry points: a thin adapter that parses, verifies, dispatches and responds."""

import azure.functions as func

from handlers import FLOWS, engine
from handlers.api_recording_routes import blueprint as recording_api_blueprint
from handlers.api_routes import blueprint as api_blueprint
from handlers.incoming_call import on_incoming_call
from handlers.recording_files import on_recording_file_status
from shared import clients
from shared.errors import BadRequest, error_reply
from shared.events import IncomingCall, parse_callback_body, parse_event_grid_event
from shared.logging import install_phone_number_masking
from shared.recordings import parse_recording_file_status

install_phone_number_masking()

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(api_blueprint)  # the HTTP API under /api/calls and /api/reminders (docs/api.md)
app.register_functions(recording_api_blueprint)  # recording, streaming, transcription (docs/recording.md)


@app.event_grid_trigger(arg_name="event")
async def incoming_call(event: func.EventGridEvent) -> None:
    """Event Grid: answer, redirect or reject an IncomingCall. Raising makes Event Grid redeliver."""
    time = event.event_time.isoformat() if event.event_time else ""
    try:
        parsed = parse_event_grid_event(
            event_id=event.id, event_type=event.event_type, data=event.get_json(), time=time
        )
    except BadRequest as exc:
        error_reply(exc)  # a malformed event will not improve with retries: log it and let it go
        return
    if isinstance(parsed, IncomingCall):
        await on_incoming_call(parsed, await clients.context(), FLOWS)


@app.event_grid_trigger(arg_name="event")
async def recording_file_status(event: func.EventGridEvent) -> None:
    """Event Grid: index a finished recording (RecordingFileStatusUpdated). Raising makes Event Grid redeliver."""
    try:
        parsed = parse_recording_file_status(event_id=event.id, subject=event.subject, data=event.get_json())
    except BadRequest as exc:
        error_reply(exc)  # a malformed event will not improve with retries: log it and let it go
        return
    await on_recording_file_status(parsed, await clients.context())


# ACS cannot send a function key, so this route is anonymous to the host; the ACS-signed JWT is its lock.
@app.route(route="callbacks", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
async def callbacks(req: func.HttpRequest) -> func.HttpResponse:
    """ACS mid-call events: verify the JWT, then hand each CloudEvent of the batch, in order, to the engine."""
    try:
        await clients.verify_callback(req.headers.get("Authorization"))
        events = parse_callback_body(req.get_body())
        ctx = await clients.context()
        for event in events:
            await engine.handle(event, ctx)
    except Exception as exc:
        status, message = error_reply(exc)
        return func.HttpResponse(message, status_code=status, mimetype="text/plain")
    return func.HttpResponse(status_code=200)


# The schedule is an app setting (NCRONTAB with seconds), so a test stack can run it every second.
@app.timer_trigger(schedule="%WATCHDOG_SCHEDULE%", arg_name="timer", run_on_startup=False, use_monitor=True)
async def watchdog(timer: func.TimerRequest) -> None:
    """Recover calls whose step waited past its deadline, and delete calls ended longer ago than the retention."""
    await engine.sweep(await clients.context())
