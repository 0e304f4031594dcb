"""Azure Functions entry points: a thin adapter that parses, verifies, dispatches and responds."""

import azure.functions as func

from handlers import router
from shared import clients
from shared.errors import BadRequest, error_reply
from shared.events import parse_callback_body, parse_event_grid_event
from shared.logging import install_phone_number_masking

install_phone_number_masking()

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


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
    await router.dispatch(parsed, await clients.context())


@app.route(route="callbacks", methods=["POST"])
async def callbacks(req: func.HttpRequest) -> func.HttpResponse:
    """ACS mid-call events: verify the JWT, then dispatch each CloudEvent of the batch in order."""
    try:
        await clients.verify_callback(req.headers.get("Authorization"))
        events = parse_callback_body(req.get_body())
        ctx = await clients.context()
        for event in events:
            await router.dispatch(event, ctx)
    except Exception as exc:
        status, message = error_reply(exc)
        return func.HttpResponse(message, status_code=status, mimetype="text/plain")
    return func.HttpResponse(status_code=200)
