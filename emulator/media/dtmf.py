"""DTMF: continuous recognition with sequence ids, and sending tones to a phone participant (contract §1.3, §7.2)."""

from __future__ import annotations

from functools import partial
from typing import Any

from aiohttp import web

from ..errors import invalid_field
from ..models import ServerCall
from ..operations import ApiRequest
from ..validation import require
from .compatibility import Kind
from .engine import MediaOperation, MediaState, Subscription, heard_tones, media_state
from .shared import accepted, connected_leg, operation_callback_uri, operation_context, participant_in_call

# The Tone enum of contract §1.4.
TONES = frozenset(
    {
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "a",
        "b",
        "c",
        "d",
        "pound",
        "asterisk",
    }
)
MAX_TONES_SENT = 18  # DOCS control-mid-call-media-actions: "a maximum of 18 tones at a time"
SECONDS_PER_SENT_TONE = 0.25  # a 100 ms tone plus the gap before the next, as telephone keypads send them
COMPLETED = (200, 0, "Action completed successfully.")
TONE_RECEIVED = (200, 0, "")


def parse_tone(value: Any, path: str) -> str:
    if not isinstance(value, str) or value.lower() not in TONES:
        raise invalid_field(path, f"must be one of {', '.join(sorted(TONES))}")
    return value.lower()


async def start_continuous_dtmf_recognition(request: ApiRequest) -> web.Response:
    connection = connected_leg(request)
    body = request.body
    participant = participant_in_call(connection.call, body.get("targetParticipant"), "targetParticipant")
    state = media_state(connection)
    state.admit(Kind.CONTINUOUS_DTMF)
    state.continuous[participant.identifier.raw_id] = Subscription(
        operation_context(body), operation_callback_uri(body)
    )
    return accepted(connection, 200)


async def stop_continuous_dtmf_recognition(request: ApiRequest) -> web.Response:
    connection = connected_leg(request)
    body = request.body
    participant = participant_in_call(connection.call, body.get("targetParticipant"), "targetParticipant")
    if media_state(connection).continuous.pop(participant.identifier.raw_id, None) is not None:
        # The one real capture of this event (2023-10-03-preview) has no resultInformation.
        connection.emit(
            "ContinuousDtmfRecognitionStopped",
            operation_context=operation_context(body),
            callback_uri=operation_callback_uri(body),
            result=None,
        )
    return accepted(connection, 200)


def announce_tone(state: MediaState, raw_id: str, tone: str) -> None:
    """ContinuousDtmfRecognitionToneReceived for a subscribed participant; sequence ids rise per call leg."""
    subscription = state.continuous.get(raw_id)
    if subscription is None:
        return
    state.tone_sequence += 1
    state.connection.emit("ContinuousDtmfRecognitionToneReceived", data={"tone": tone,
                          "sequenceId": state.tone_sequence}, operation_context=subscription.operation_context,
                          callback_uri=subscription.callback_uri, result=TONE_RECEIVED)  # fmt: skip


async def send_dtmf_tones(request: ApiRequest) -> web.Response:
    connection = connected_leg(request)
    body = request.body
    values = require(body, "tones", list)
    if len(values) > MAX_TONES_SENT:
        raise invalid_field("tones", f"at most {MAX_TONES_SENT} tones can be sent at a time, got {len(values)}")
    tones = [parse_tone(value, f"tones[{index}]") for index, value in enumerate(values)]
    participant = participant_in_call(connection.call, body.get("targetParticipant"), "targetParticipant")
    if not participant.identifier.is_phone:
        raise invalid_field("targetParticipant", "DTMF tones can only be sent to a PSTN (phone number) participant")
    raw_id = participant.identifier.raw_id
    op = MediaOperation(
        kind=Kind.SEND_DTMF, connection=connection, body=partial(run_send, raw_id=raw_id, tones=tones),
        canceled_event=None, operation_context=operation_context(body), callback_uri=operation_callback_uri(body),
        targets=frozenset({raw_id}),
    )  # fmt: skip
    media_state(connection).submit(op)
    return accepted(connection, 202, empty_json=True)


async def run_send(op: MediaOperation, *, raw_id: str, tones: list[str]) -> None:
    op.phase = "sending"
    await op.connection.backend.clock.sleep(len(tones) * SECONDS_PER_SENT_TONE)
    record_heard(op.connection.call, raw_id, tones)
    op.emit("SendDtmfTonesCompleted", COMPLETED)


def record_heard(call: ServerCall, raw_id: str, tones: list[str]) -> None:
    """The far end heard the tones: kept for the control API/view and on the call's timeline."""
    heard_tones(call).setdefault(raw_id, []).extend(tones)
    call.timeline.add("emulator", f"{raw_id} heard DTMF tones", tones=tones)
