"""Incoming calls: the IncomingCall Event Grid offer, its incomingCallContext token, and how long it rings."""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import AcsError, invalid_field
from .identifiers import Identifier
from .models import Backend, Participant, ServerCall

# Real contexts are unsigned JWTs (contract §1.6); the emulator keeps that shape and puts its own offer id in "cc".
_JWT_HEADER = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
NOT_ANSWERED_IN_TIME = 8587  # "Incoming Call Not Answered Within Time" (contract §3.4)
INVALID_STATE = 8585  # "Action not valid in current call state"


@dataclass
class Offer:
    """An incoming call ringing the app for `callee`: answered, rejected or redirected at most once, or it expires."""

    call: ServerCall
    caller: Identifier
    callee: Identifier
    # What a reject ("decline", "busy") or the ring timeout ("never") means: the end of the call a person placed to
    # the app, or one ringing's refusal when a dialling leg rings an identity routed to apps (people.ring).
    on_refuse: Callable[[str], None]
    display_name: str = ""
    custom_context: dict[str, Any] = field(default_factory=dict)
    offer_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    state: str = "ringing"  # ringing | answered | rejected | redirected | expired | canceled
    # Set by people.ring: the app that answers joins the dialling leg's call through it.
    on_answer: Callable[[Participant], None] | None = None

    @property
    def incoming_call_context(self) -> str:
        key = {"offerId": self.offer_id, "serverCallId": self.call.server_call_id}
        cc = base64.b64encode(gzip.compress(json.dumps(key).encode())).decode()
        payload = json.dumps({"cc": cc, "shrToken": ""}).encode()
        return f"{_JWT_HEADER}.{base64.urlsafe_b64encode(payload).rstrip(b'=').decode()}."

    def take(self, how: str) -> None:
        """The app answered, rejected or redirected it: it stops ringing for good."""
        self.state = how
        self.call.timeline.add("emulator", f"incoming call to {self.callee.raw_id} {how}")

    def to_view(self) -> dict[str, Any]:
        return {"callee": self.callee.raw_id, "state": self.state, "incomingCallContext": self.incoming_call_context}


def offers(backend: Backend) -> dict[str, Offer]:
    return backend.store("offers")


def offer(
    call: ServerCall,
    caller: Identifier,
    callee: Identifier,
    *,
    on_refuse: Callable[[str], None],
    display_name: str = "",
    custom_context: dict | None = None,
    ring_seconds: float | None = None,
    on_answer: Callable[[Participant], None] | None = None,
) -> Offer:
    """Publish IncomingCall for `callee`; the call stops ringing after the ring timeout unless someone takes it."""
    offered = Offer(call, caller, callee, on_refuse, display_name, dict(custom_context or {}), on_answer=on_answer)
    offers(call.backend)[offered.offer_id] = offered
    data: dict[str, Any] = {
        "to": callee.to_model(),
        "from": caller.to_model(),
        "serverCallId": call.server_call_id,
        "callerDisplayName": display_name,
        "incomingCallContext": offered.incoming_call_context,
        "correlationId": call.correlation_id,
    }
    if custom_context:
        data["customContext"] = custom_context
    call.backend.publish_event_grid("IncomingCall", f"/caller/{caller.raw_id}/recipient/{callee.raw_id}", data, call)
    seconds = call.backend.config.ring_timeout_seconds if ring_seconds is None else ring_seconds
    call.backend.later(seconds, lambda: _expire(offered))
    return offered


def _expire(offered: Offer) -> None:
    if offered.state != "ringing":
        return
    offered.state = "expired"
    offered.call.timeline.add("emulator", f"incoming call to {offered.callee.raw_id} stopped ringing (not answered)")
    offered.on_refuse("never")


def ringing_offer(backend: Backend, incoming_call_context: str) -> Offer:
    """The ringing offer a context names; a used or expired one is a 400 saying so (contract §7.1 leaves it open)."""
    offered = offers(backend).get(_offer_id(incoming_call_context))
    if offered is None:
        raise AcsError(404, 8522, "The incoming call was not found; the emulator may have been reset since.")
    if offered.state == "expired":
        raise AcsError(
            400,
            NOT_ANSWERED_IN_TIME,
            "The incoming call was not answered within the ring timeout "
            f"({backend.config.ring_timeout_seconds:g} s) and is no longer ringing.",
        )
    if offered.state != "ringing" or offered.call.ended:
        state = offered.state if offered.state != "ringing" else "ended by the caller"
        raise AcsError(400, INVALID_STATE, f"The incoming call was already {state}.")
    return offered


def call_of_context(backend: Backend, incoming_call_context: str) -> ServerCall | None:
    """The call an incomingCallContext names, whatever its offer's state; None when it names none."""
    try:
        offered = offers(backend).get(_offer_id(incoming_call_context))
    except AcsError:
        return None
    return offered.call if offered else None


def _offer_id(token: str) -> str:
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        key = json.loads(gzip.decompress(base64.b64decode(claims["cc"])))
        return str(key["offerId"])
    except (IndexError, KeyError, TypeError, ValueError, binascii.Error, OSError, EOFError):
        raise invalid_field("incomingCallContext", "not an incoming call context issued by this emulator") from None
