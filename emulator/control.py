"""Control API under /emulator (no HMAC): reset, simulated people, placing calls, person actions, timelines."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from . import incoming, people
from .config import API_VERSION
from .delivery import Delivery, EventGridSubscription, parse_subscription
from .errors import AcsError
from .handshake import validate_later
from .identifiers import Identifier
from .models import CallConnection, Participant, ServerCall, backend_of

routes = web.RouteTableDef()
Handler = Callable[[web.Request], Awaitable[web.Response]]

# Keypad characters -> ACS Tone names (contract §1.4 Tone enum).
TONE_OF_KEY = {
    "0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six", "7": "seven",
    "8": "eight", "9": "nine", "#": "pound", "*": "asterisk", "a": "a", "b": "b", "c": "c", "d": "d",
}  # fmt: skip
TONES = frozenset(TONE_OF_KEY.values())
# A serverCallId is standard base64 and may contain "/", so call ids in paths match greedily.
CALL_PATH = "/emulator/calls/{call_id:.+}"


class ControlError(Exception):
    """A control API error, answered as `{"error": {"code": ..., "message": ...}}`."""

    CODES = {400: "BadRequest", 404: "NotFound", 409: "Conflict"}

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def to_response(self) -> web.Response:
        error = {"code": self.CODES.get(self.status, "Error"), "message": self.message}
        return web.json_response({"error": error}, status=self.status)


def guarded(handler: Handler) -> Handler:
    """The handler, with its ControlError (or request-validation AcsError) answered as a JSON error."""

    async def run(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except ControlError as error:
            return error.to_response()
        except AcsError as error:
            return ControlError(error.status, error.message).to_response()

    return run


def route(method: str, path: str) -> Callable[[Handler], Handler]:
    """Register a guarded control handler."""

    def register(handler: Handler) -> Handler:
        routes.route(method, path)(guarded(handler))
        return handler

    return register


async def json_body(request: web.Request) -> dict[str, Any]:
    if not (await request.read()).strip():
        return {}
    try:
        body = await request.json()
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ControlError(400, f"The request body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise ControlError(400, "The request body must be a JSON object.")
    return body


def field(body: dict, name: str, expected: type, default: Any = None, *, required: bool = False) -> Any:
    value = body.get(name)
    if value is None:
        if required:
            raise ControlError(400, f"The {name} field is required.")
        return default
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ControlError(400, f"The field {name} must be of type {expected.__name__}.")
    return value


def identity(value: str, name: str) -> Identifier:
    """An E.164 number (`+1555...`) or a raw id (`4:+1555...`, `8:acs:...`)."""
    try:
        return Identifier.parse_raw_id(value)
    except AcsError:
        raise ControlError(400, f"{name} {value!r} is neither an E.164 number nor a raw id such as 8:acs:...") from None


# --- lifecycle ------------------------------------------------------------------------------------------------


@route("POST", "/emulator/reset")
async def reset(request: web.Request) -> web.Response:
    """Forget every call, behaviour and delivery; Event Grid subscriptions return to those configured at start."""
    backend = backend_of(request)
    await backend.reset()
    backend.eventgrid.subscriptions[:] = [parse_subscription(s) for s in backend.config.eventgrid_subscriptions]
    return web.json_response({"status": "reset"})


@route("GET", "/emulator/health")
async def health(request: web.Request) -> web.Response:
    backend = backend_of(request)
    active = sum(1 for call in backend.calls.values() if not call.ended)
    return web.json_response(
        {"status": "ok", "apiVersion": API_VERSION, "activeCalls": active, "timeScale": backend.config.time_scale}
    )


# --- simulated people -----------------------------------------------------------------------------------------


@route("GET", "/emulator/people")
async def list_people(request: web.Request) -> web.Response:
    known = people.behaviours(backend_of(request))
    return web.json_response(
        {
            "default": people.Behaviour().to_dict(),
            "people": [{"rawId": raw_id, **b.to_dict()} for raw_id, b in known.items()],
        }
    )


@route("PUT", "/emulator/people/{identity}")
async def set_behaviour(request: web.Request) -> web.Response:
    """How a number or user behaves when dialled: {"answer": "answer|decline|busy|never", "answerAfterMs": N}."""
    who = identity(request.match_info["identity"], "identity")
    body = await json_body(request)
    answer = field(body, "answer", str, "answer")
    if answer not in people.ANSWERS:
        raise ControlError(400, f"The field answer must be one of {', '.join(people.ANSWERS)}.")
    after = field(body, "answerAfterMs", int, 0)
    if after < 0:
        raise ControlError(400, "The field answerAfterMs must not be negative.")
    behaviour = people.Behaviour(answer, after)
    people.behaviours(backend_of(request))[who.raw_id] = behaviour
    return web.json_response({"rawId": who.raw_id, **behaviour.to_dict()})


# --- calls ----------------------------------------------------------------------------------------------------


@route("POST", "/emulator/calls")
async def place_call(request: web.Request) -> web.Response:
    """A simulated person calls the app: IncomingCall goes to Event Grid subscribers."""
    body = await json_body(request)
    caller = identity(field(body, "from", str, required=True), "from")
    callee = identity(field(body, "to", str, required=True), "to")
    offered = people.place_call(
        backend_of(request),
        caller,
        callee,
        display_name=field(body, "displayName", str, ""),
        custom_context=custom_context(field(body, "customContext", dict, {})),
    )
    call = offered.call
    return web.json_response(
        {
            "serverCallId": call.server_call_id,
            "correlationId": call.correlation_id,
            "incomingCallContext": offered.incoming_call_context,
        },
        status=201,
    )


def custom_context(value: dict) -> dict[str, dict[str, str]]:
    unknown = sorted(set(value) - {"sipHeaders", "voipHeaders"})
    if unknown:
        raise ControlError(400, f"customContext takes sipHeaders and voipHeaders, not {', '.join(unknown)}.")
    for name, headers in value.items():
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise ControlError(400, f"customContext.{name} must map header names to strings.")
    return {name: dict(headers) for name, headers in value.items() if headers}


@route("GET", "/emulator/calls")
async def list_calls(request: web.Request) -> web.Response:
    calls = backend_of(request).calls.values()
    return web.json_response([call_summary(call) for call in calls])


@route("GET", CALL_PATH + "/timeline")
async def timeline(request: web.Request) -> web.Response:
    return web.json_response(find_call(request).timeline.to_list())


@route("POST", CALL_PATH + "/participants/{who}/{action}")
async def person_action(request: web.Request) -> web.Response:
    """A person on the call presses keys (`dtmf`), speaks (`speech`) or hangs up (`hangup`); one being rung with
    behaviour "manual" picks up (`answer`) or refuses (`decline`)."""
    action = request.match_info["action"]
    if action not in ("dtmf", "speech", "hangup", "answer", "decline"):
        raise ControlError(404, f"Unknown person action {action!r}; use dtmf, speech, hangup, answer or decline.")
    call = find_call(request)
    if action in ("answer", "decline"):
        raw_id = identity(request.match_info["who"], "participant").raw_id
        if not people.pick_up(call, raw_id, answer=action == "answer"):
            raise ControlError(409, f"{raw_id} is not ringing with behaviour manual on call {call.server_call_id}.")
        return web.json_response(call_view(call))
    participant = connected_person(call, request.match_info["who"])
    body = await json_body(request)
    if action == "dtmf":
        people.press(call, participant, parse_tones(body.get("tones")))
    elif action == "speech":
        people.say(call, participant, spoken_text(body))
    else:
        people.hang_up(call, participant)
    return web.json_response(call_view(call))


@route("GET", CALL_PATH)
async def get_call(request: web.Request) -> web.Response:
    return web.json_response(call_view(find_call(request)))


def find_call(request: web.Request) -> ServerCall:
    """A call by its serverCallId or by the callConnectionId of any of its app legs."""
    backend = backend_of(request)
    call_id = request.match_info["call_id"]
    call = backend.calls.get(call_id)
    connection = backend.connections.get(call_id)
    if call is None and connection is not None:
        call = connection.call
    if call is None:
        raise ControlError(404, f"No call with serverCallId or callConnectionId {call_id!r}.")
    return call


def connected_person(call: ServerCall, who: str) -> Participant:
    raw_id = identity(who, "participant").raw_id
    participant = call.participant(raw_id)
    if participant is None or participant.is_app:
        raise ControlError(404, f"{raw_id} is not a person on call {call.server_call_id}.")
    if participant.state != "connected":
        raise ControlError(409, f"{raw_id} is {participant.state}, not connected, on call {call.server_call_id}.")
    return participant


def parse_tones(value: object) -> list[str]:
    """ "12#" (keypad characters) or ["one", "two", "pound"] (ACS Tone names) -> Tone names."""
    if isinstance(value, str):
        keys = [key for key in value.lower() if not key.isspace()]
        bad = [key for key in keys if key not in TONE_OF_KEY]
        if bad or not keys:
            raise ControlError(400, f"tones must be keypad characters 0-9 * # A-D; got {value!r}.")
        return [TONE_OF_KEY[key] for key in keys]
    if isinstance(value, list) and value and all(isinstance(t, str) and t.lower() in TONES for t in value):
        return [t.lower() for t in value]
    names = ", ".join(sorted(TONES))
    raise ControlError(400, f'tones must be a string such as "12#" or a list of Tone names ({names}).')


def spoken_text(body: dict) -> str:
    text = field(body, "text", str, required=True).strip()
    if not text:
        raise ControlError(400, "The text field must say something.")
    return text


def call_state(call: ServerCall) -> str:
    if call.ended:
        return "ended"
    if len(call.present()) >= 2 or any(c.state == "connected" for c in call.connections):
        return "connected"
    return "ringing"


def call_summary(call: ServerCall) -> dict[str, Any]:
    return {
        "serverCallId": call.server_call_id,
        "correlationId": call.correlation_id,
        "state": call_state(call),
        "participants": [p.identifier.raw_id for p in call.present()],
        "callConnectionIds": [c.call_connection_id for c in call.connections],
    }


def call_view(call: ServerCall) -> dict[str, Any]:
    offers = [o.to_view() for o in incoming.offers(call.backend).values() if o.call is call]
    return {
        **call_summary(call),
        "isGroup": call.is_group,
        "groupCallId": call.group_call_id,
        "roomId": call.room_id,
        "participants": [participant_view(p) for p in call.participants.values()],
        "connections": [connection_view(c) for c in call.connections],
        "incomingCalls": offers,
    }


def participant_view(participant: Participant) -> dict[str, Any]:
    return {
        "rawId": participant.identifier.raw_id,
        "identifier": participant.identifier.to_model(),
        "state": participant.state,
        "isMuted": participant.is_muted,
        "isOnHold": participant.is_on_hold,
        "isApp": participant.is_app,
        "displayName": participant.display_name,
        "customContext": participant.custom_context,
    }


def connection_view(connection: CallConnection) -> dict[str, Any]:
    return {
        "callConnectionId": connection.call_connection_id,
        "state": connection.state,
        "callbackUri": connection.callback_uri,
        "mediaStreaming": connection.media_streaming,
        "transcription": connection.transcription,
        "features": {name: feature_view(value) for name, value in connection.extensions.items()},
    }


def feature_view(value: object) -> Any:
    """What a feature module keeps on a leg (media queue, recognizer...): its to_view(), or the value if JSON."""
    to_view = getattr(value, "to_view", None)
    if callable(to_view):
        return to_view()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


# --- Event Grid and deliveries --------------------------------------------------------------------------------


@route("GET", "/emulator/eventgrid/subscriptions")
async def list_subscriptions(request: web.Request) -> web.Response:
    return web.json_response([subscription_view(s) for s in backend_of(request).eventgrid.subscriptions])


@route("POST", "/emulator/eventgrid/subscriptions")
async def add_subscription(request: web.Request) -> web.Response:
    """Subscribe a webhook: {"url": ..., "eventTypes": ["IncomingCall", ...]} (all event types when absent)."""
    body = await json_body(request)
    url = field(body, "url", str, required=True)
    event_types = field(body, "eventTypes", list)
    try:
        subscription = parse_subscription(url)
        if event_types is not None:
            subscription = dataclasses.replace(subscription, event_types=frozenset(event_types))
    except (TypeError, ValueError) as error:
        raise ControlError(400, str(error)) from None
    backend = backend_of(request)
    backend.eventgrid.add(subscription)
    validate_later(backend, subscription)
    return web.json_response(subscription_view(subscription), status=201)


@route("DELETE", "/emulator/eventgrid/subscriptions")
async def remove_subscription(request: web.Request) -> web.Response:
    """Unsubscribe `?url=...`, or every subscription when no url is given."""
    eventgrid = backend_of(request).eventgrid
    url = request.query.get("url")
    if url is None:
        removed = len(eventgrid.subscriptions)
        eventgrid.clear()
    elif eventgrid.remove(url):
        removed = 1
    else:
        raise ControlError(404, f"No Event Grid subscription for {url}.")
    return web.json_response({"removed": removed})


def subscription_view(subscription: EventGridSubscription) -> dict[str, Any]:
    types = sorted(subscription.event_types) if subscription.event_types is not None else None
    return {"url": subscription.url, "eventTypes": types, "name": subscription.name}


@route("GET", "/emulator/deliveries")
async def deliveries(request: web.Request) -> web.Response:
    """Every callback and Event Grid POST with its outcome; `?kind=callback|eventgrid` filters."""
    kind = request.query.get("kind")
    log: list[Delivery] = backend_of(request).store("deliveries", list)
    return web.json_response([delivery_view(d) for d in log if kind is None or d.kind == kind])


def delivery_view(delivery: Delivery) -> dict[str, Any]:
    return {
        "kind": delivery.kind,
        "url": delivery.url,
        "ok": delivery.ok,
        "status": delivery.status,
        "error": delivery.error,
        "attempts": delivery.attempts,
        "events": delivery.events,
    }
