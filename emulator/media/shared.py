"""Request pieces every media operation shares: the connected leg, a participant in the call, context, callback."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from ..errors import AcsError
from ..identifiers import parse_identifier
from ..models import CallConnection, Participant, ServerCall
from ..operations import ApiRequest, respond
from ..validation import check_url, optional

# The real message for text-to-speech or speech recognition on a call set up without a Cognitive Services endpoint
# (Azure/azure-sdk-for-js#27966); its status and subcode were not reported, 400/8567 is the closest documented code.
NO_SPEECH_SERVICE = "Request not allowed when Cognitive Service Configuration not set during call setup."
# Real "...Started" events (MediaStreamingStarted, TranscriptionStarted) carry this; PlayStarted is assumed alike.
PLAY_STARTED = (200, 0, "Action completed successfully.")


def connected_leg(request: ApiRequest) -> CallConnection:
    """The leg named in the path; media needs it connected (400/8501 while it is still connecting)."""
    connection = request.backend.connection(request.params["call_connection_id"])
    if connection.state != "connected":
        raise AcsError(400, 8501, "Action is not supported, call is not established.")
    return connection


def participant_in_call(call: ServerCall, value: Any, path: str) -> Participant:
    """The connected person the identifier at `path` names; 404/8522 when they are not (or no longer) in the call."""
    identifier = parse_identifier(value, path)
    participant = call.participant(identifier.raw_id)
    if participant is None or participant.state != "connected" or participant.is_app:
        raise AcsError(404, 8522, f"Participant {identifier.raw_id} is not in the call.", path)
    return participant


def operation_context(body: dict) -> str | None:
    return optional(body, "operationContext", str)


def operation_callback_uri(body: dict) -> str | None:
    uri = optional(body, "operationCallbackUri", str)
    return check_url(uri, "operationCallbackUri") if uri else None


def require_speech_service(connection: CallConnection, needed: bool) -> None:
    """Text-to-speech and speech recognition need the Cognitive Services endpoint given when the call was set up."""
    if needed and not connection.cognitive_services_endpoint:
        raise AcsError(400, 8567, NO_SPEECH_SERVICE)


def is_group_call(call: ServerCall) -> bool:
    return call.is_group or len(call.people()) > 1


def accepted(connection: CallConnection, status: int = 202, *, empty_json: bool = False) -> web.Response:
    return respond(status, call_correlation_id=connection.call.correlation_id, empty_json=empty_json)


async def until_canceled() -> None:
    """Wait for the cancellation that ends looping audio (cancel-all, barge-in, hang-up, unhold)."""
    await asyncio.get_running_loop().create_future()
