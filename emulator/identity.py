"""The Identity and Rooms REST operations an app uses before it calls: create a user (and token), create a room
and add participants; HMAC-signed like Call Automation (azure-communication-identity / -rooms SDKs)."""

from __future__ import annotations

import base64
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from .errors import AcsError
from .hmac_auth import verify
from .identifiers import Identifier
from .models import Backend, backend_of
from .people import APP_ROUTED_USERS

routes = web.RouteTableDef()
Handler = Callable[[web.Request, dict[str, Any]], Awaitable[web.Response]]

ROOMS = "rooms"
DEFAULT_TOKEN_MINUTES = 24 * 60  # the SDKs' documented default validity
ROOM_LIFETIME = timedelta(days=180)  # a room without validUntil is open for 180 days (Rooms concept docs)
ROLES = ("Presenter", "Attendee", "Consumer", "Collaborator")


def signed(method: str, path: str) -> Callable[[Handler], Handler]:
    """Register a handler behind the HMAC check and api-version requirement; errors answer as ACS does."""

    def register(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.Response:
            try:
                raw = await request.read()
                verify(request, raw, backend_of(request).config.key_bytes)
                if not request.query.get("api-version"):
                    raise AcsError(400, "BadRequest", "The api-version query parameter is required.", "api-version")
                return await handler(request, _body(raw))
            except AcsError as error:
                return error.to_response()

        routes.route(method, path)(guarded)
        return handler

    return register


def _body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise AcsError(400, "BadRequest", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise AcsError(400, "BadRequest", "The request body must be a JSON object.")
    return body


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- Identity -----------------------------------------------------------------------------------------------------


def _users(backend: Backend) -> set[str]:
    return backend.store(APP_ROUTED_USERS, set)


def _new_user_id(backend: Backend) -> str:
    """`8:acs:<resource id>_<id>` with the id shape real users have (`00000026-426d-b739-dadd-363a0d00d3f3`)."""
    random_part = uuid.uuid4().hex
    return f"8:acs:{backend.config.resource_id}_0000002{random_part[:1]}-{random_part[1:5]}-{random_part[5:9]}-" + (
        f"{random_part[9:13]}-{random_part[13:25]}"
    )


def _token(user_id: str, scopes: list[str], minutes: int) -> dict[str, str]:
    """An access token shaped like a JWT (not signed: nothing in the emulator checks it) and its expiry."""
    expires = datetime.now(UTC) + timedelta(minutes=minutes)
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    claims = {
        "skypeid": user_id.removeprefix("8:"),
        "scp": scopes,
        "exp": int(expires.timestamp()),
        "iat": int(time.time()),
    }
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return {"token": f"{header}.{payload}.", "expiresOn": _iso(expires)}


def _scopes(body: dict, name: str) -> list[str]:
    scopes = body.get(name)
    if (
        not isinstance(scopes, list)
        or not scopes
        or not all(s in ("chat", "voip", "chat.join", "voip.join", "chat.join.limited") for s in scopes)
    ):
        raise AcsError(400, "BadRequest", f"{name} must list scopes such as voip or chat.", name)  # fmt: skip
    return scopes


def _minutes(body: dict) -> int:
    minutes = body.get("expiresInMinutes")
    if minutes is None:
        return DEFAULT_TOKEN_MINUTES
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 60 <= minutes <= DEFAULT_TOKEN_MINUTES:
        raise AcsError(400, "BadRequest", "expiresInMinutes must be between 60 and 1440.", "expiresInMinutes")
    return minutes


def _known_user(request: web.Request) -> str:
    user_id = request.match_info["id"]
    if user_id not in _users(backend_of(request)):
        raise AcsError(404, "IdentityNotFound", f"Identity {user_id} was not found.")
    return user_id


@signed("POST", "/identities")
async def create_identity(request: web.Request, body: dict[str, Any]) -> web.Response:
    """201 with the new user, and a token when createTokenWithScopes is given (create_user_and_token)."""
    backend = backend_of(request)
    user_id = _new_user_id(backend)
    answer: dict[str, Any] = {"identity": {"id": user_id}}
    if body.get("createTokenWithScopes") is not None:
        answer["accessToken"] = _token(user_id, _scopes(body, "createTokenWithScopes"), _minutes(body))
    _users(backend).add(user_id)
    return web.json_response(answer, status=201)


@signed("POST", "/identities/{id}/:issueAccessToken")
async def issue_access_token(request: web.Request, body: dict[str, Any]) -> web.Response:
    return web.json_response(_token(_known_user(request), _scopes(body, "scopes"), _minutes(body)))


@signed("POST", "/identities/{id}/:revokeAccessTokens")
async def revoke_access_tokens(request: web.Request, body: dict[str, Any]) -> web.Response:
    _known_user(request)
    return web.Response(status=204)


@signed("DELETE", "/identities/{id}")
async def delete_identity(request: web.Request, body: dict[str, Any]) -> web.Response:
    _users(backend_of(request)).discard(_known_user(request))
    return web.Response(status=204)


# --- Rooms --------------------------------------------------------------------------------------------------------


def _rooms(backend: Backend) -> dict[str, dict[str, Any]]:
    return backend.store(ROOMS)


def _room(request: web.Request) -> dict[str, Any]:
    room = _rooms(backend_of(request)).get(request.match_info["room_id"])
    if room is None:
        raise AcsError(404, "NotFound", f"Room {request.match_info['room_id']} was not found.")
    return room


def _participants(value: Any) -> dict[str, str | None]:
    """The merge-patch participants map: raw id -> role, or None to remove."""
    if not isinstance(value, dict):
        raise AcsError(400, "BadRequest", "participants must map raw ids to {role}.", "participants")
    parsed: dict[str, str | None] = {}
    for raw_id, entry in value.items():
        try:
            Identifier.parse_raw_id(raw_id)
        except AcsError:
            raise AcsError(400, "BadRequest", f"{raw_id!r} is not a raw id.", "participants") from None
        role = None if entry is None else (entry.get("role") if isinstance(entry, dict) else "")
        if entry is not None and (role or "Attendee") not in ROLES:
            raise AcsError(400, "BadRequest", f"role of {raw_id} must be one of {', '.join(ROLES)}.", "participants")
        parsed[raw_id] = None if entry is None else (role or "Attendee")
    return parsed


def _parse_time(body: dict, name: str, default: datetime) -> datetime:
    value = body.get(name)
    if value is None:
        return default
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise AcsError(400, "BadRequest", f"{name} must be an ISO-8601 date-time.", name) from None


def _apply(room: dict[str, Any], body: dict[str, Any], now: datetime) -> None:
    valid_from = _parse_time(
        body, "validFrom", datetime.fromisoformat(room.get("validFrom", _iso(now)).replace("Z", "+00:00"))
    )
    until_default = room.get("validUntil")
    valid_until = _parse_time(
        body, "validUntil",
        datetime.fromisoformat(until_default.replace("Z", "+00:00")) if until_default else valid_from + ROOM_LIFETIME,
    )  # fmt: skip
    if valid_until <= valid_from:
        raise AcsError(400, "BadRequest", "validUntil must be after validFrom.", "validUntil")
    room["validFrom"], room["validUntil"] = _iso(valid_from), _iso(valid_until)
    if body.get("pstnDialOutEnabled") is not None:
        room["pstnDialOutEnabled"] = bool(body["pstnDialOutEnabled"])


def _view(room: dict[str, Any]) -> dict[str, Any]:
    return {key: room[key] for key in ("id", "createdAt", "validFrom", "validUntil", "pstnDialOutEnabled")}


@signed("POST", "/rooms")
async def create_room(request: web.Request, body: dict[str, Any]) -> web.Response:
    now = datetime.now(UTC)
    room: dict[str, Any] = {
        "id": str(random.randint(10**16, 10**17 - 1)),  # noqa: S311 - an id, not a secret; real ones are 17 digits
        "createdAt": _iso(now),
        "pstnDialOutEnabled": False,
        "participants": {},
    }
    _apply(room, body, now)
    if body.get("participants") is not None:
        room["participants"] = {k: v for k, v in _participants(body["participants"]).items() if v is not None}
    _rooms(backend_of(request))[room["id"]] = room
    return web.json_response(_view(room), status=201)


@signed("GET", "/rooms/{room_id}")
async def get_room(request: web.Request, body: dict[str, Any]) -> web.Response:
    return web.json_response(_view(_room(request)))


@signed("PATCH", "/rooms/{room_id}")
async def update_room(request: web.Request, body: dict[str, Any]) -> web.Response:
    room = _room(request)
    _apply(room, body, datetime.now(UTC))
    return web.json_response(_view(room))


@signed("DELETE", "/rooms/{room_id}")
async def delete_room(request: web.Request, body: dict[str, Any]) -> web.Response:
    _rooms(backend_of(request)).pop(_room(request)["id"])
    return web.Response(status=204)


@signed("GET", "/rooms/{room_id}/participants")
async def list_room_participants(request: web.Request, body: dict[str, Any]) -> web.Response:
    participants = _room(request)["participants"]
    return web.json_response({"value": [{"rawId": raw_id, "role": role} for raw_id, role in participants.items()]})


@signed("PATCH", "/rooms/{room_id}/participants")
async def update_room_participants(request: web.Request, body: dict[str, Any]) -> web.Response:
    """Add or update (role) participants, or remove those given as null (merge-patch)."""
    room = _room(request)
    for raw_id, role in _participants(body.get("participants")).items():
        if role is None:
            room["participants"].pop(raw_id, None)
        else:
            room["participants"][raw_id] = role
    return web.json_response({})
