"""Typed, sans-I/O parsing of ACS payloads: callback CloudEvent arrays and the Event Grid IncomingCall.

The Call Automation SDK ships no event models, so the field names below are the contract
(../shared/reference/acs-contract.md §3 and §4.1). Unknown callback types parse to the generic CallEvent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from shared import guarded_json
from shared.errors import BadRequest
from shared.identifiers import (
    CALL_CONNECTION_ID,
    E164,
    EVENT_ID,
    PHONE_RAW_ID,
    RAW_ID,
    SERVER_CALL_ID,
    matches,
)

EVENT_TYPE_PREFIX = "Microsoft.Communication."
# The phone number of a caller who withholds it (raw id "4:anonymous").
ANONYMOUS = "anonymous"
CALL_CONNECTION_SHAPE = "a call connection id (ASCII letters, digits, '-', '.', '_')"

# DTMF tone names as ACS sends them, and the key each one stands for.
TONE_KEYS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "a": "A", "b": "B", "c": "C", "d": "D", "pound": "#", "asterisk": "*",
}  # fmt: skip


@dataclass(frozen=True)
class Identifier:
    """A communication identifier: an ACS user, a phone number, a Teams user..."""

    raw_id: str
    kind: str = "unknown"
    phone_number: str | None = None

    @property
    def is_phone_number(self) -> bool:
        return self.phone_number is not None


@dataclass(frozen=True)
class ResultInformation:
    code: int = 0
    sub_code: int = 0
    message: str = ""


@dataclass(frozen=True)
class Participant:
    identifier: Identifier
    is_muted: bool = False
    is_on_hold: bool = False


@dataclass(frozen=True, kw_only=True)
class CallEvent:
    """A mid-call callback event; `type` is the short name, e.g. "RecognizeCompleted"."""

    id: str
    type: str
    call_connection_id: str
    server_call_id: str = ""
    correlation_id: str = ""
    operation_context: str | None = None
    result: ResultInformation = field(default_factory=ResultInformation)
    time: str = ""
    data: Mapping[str, Any] = field(default_factory=dict, repr=False)

    extra_fields: ClassVar[tuple[str, ...]] = ()


@dataclass(frozen=True, kw_only=True)
class RecognizeCompleted(CallEvent):
    recognition_type: str = ""
    tones: tuple[str, ...] = ()
    choice_label: str | None = None
    recognized_phrase: str | None = None
    speech_text: str | None = None
    confidence: float | None = None

    @property
    def keys(self) -> str:
        """The keys pressed, e.g. "12345#"."""
        return "".join(TONE_KEYS.get(tone, "?") for tone in self.tones)


@dataclass(frozen=True, kw_only=True)
class MediaFailed(CallEvent):
    """PlayFailed and RecognizeFailed: which play source (if any) could not be played."""

    failed_play_source_index: int | None = None


@dataclass(frozen=True, kw_only=True)
class ParticipantEvent(CallEvent):
    """Add/Remove participant outcomes, which name the participant concerned."""

    participant: Identifier | None = None


@dataclass(frozen=True, kw_only=True)
class MoveParticipantEvent(ParticipantEvent):
    from_call: str | None = None


@dataclass(frozen=True, kw_only=True)
class CancelAddParticipantEvent(CallEvent):
    invitation_id: str = ""


@dataclass(frozen=True, kw_only=True)
class ParticipantsUpdated(CallEvent):
    participants: tuple[Participant, ...] = ()
    sequence_number: int = 0


@dataclass(frozen=True, kw_only=True)
class CallTransferAccepted(CallEvent):
    transfer_target: Identifier | None = None
    transferee: Identifier | None = None


@dataclass(frozen=True, kw_only=True)
class ContinuousDtmfToneReceived(CallEvent):
    tone: str = ""
    sequence_id: int = 0


@dataclass(frozen=True, kw_only=True)
class RecordingEvent(CallEvent):
    """RecordingStateChanged and StartRecordingFailed."""

    recording_id: str = ""
    state: str | None = None
    start_date_time: str | None = None
    recording_kind: str | None = None


@dataclass(frozen=True, kw_only=True)
class MediaStreamingEvent(CallEvent):
    content_type: str | None = None
    status: str | None = None
    status_details: str | None = None


@dataclass(frozen=True, kw_only=True)
class TranscriptionEvent(CallEvent):
    status: str | None = None
    status_details: str | None = None


@dataclass(frozen=True, kw_only=True)
class IncomingCall:
    """An Event Grid IncomingCall: who calls whom, and the context needed to answer, redirect or reject."""

    id: str
    caller: Identifier
    callee: Identifier
    server_call_id: str
    incoming_call_context: str
    correlation_id: str = ""
    caller_display_name: str = ""
    on_behalf_of_callee: Identifier | None = None
    sip_headers: Mapping[str, str] = field(default_factory=dict)
    voip_headers: Mapping[str, str] = field(default_factory=dict)
    time: str = ""

    type: ClassVar[str] = "IncomingCall"
    operation_context: ClassVar[str | None] = None
    call_connection_id: ClassVar[str] = ""


@dataclass(frozen=True, kw_only=True)
class EventGridNotification:
    """Any other Event Grid event delivered to the app; acknowledged, not acted upon."""

    id: str
    type: str
    data: Mapping[str, Any] = field(default_factory=dict, repr=False)

    operation_context: ClassVar[str | None] = None
    call_connection_id: ClassVar[str] = ""


class _Fields:
    """Typed reads from one event's data object; errors name the element and the field."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self.data = data
        self.where = where

    def fail(self, name: str, expectation: str) -> BadRequest:
        return BadRequest(f"{self.where}.{name} must be {expectation}")

    def text(self, name: str, *, source: Mapping[str, Any] | None = None) -> str | None:
        value = (self.data if source is None else source).get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(name, "a string")
        return value

    def required_text(self, name: str) -> str:
        value = self.data.get(name)
        if not isinstance(value, str) or not value:
            raise self.fail(name, "a non-empty string")
        return value

    def shaped(self, name: str, pattern: re.Pattern[str], shape: str) -> str | None:
        """A text field that must match one of the identifier shapes of shared/identifiers.py."""
        value = self.text(name)
        if value and not matches(pattern, value):
            raise self.fail(name, shape)
        return value

    def required_shaped(self, name: str, pattern: re.Pattern[str], shape: str) -> str:
        value = self.required_text(name)
        if not matches(pattern, value):
            raise self.fail(name, shape)
        return value

    def integer(self, name: str, source: Mapping[str, Any] | None = None) -> int | None:
        value = (self.data if source is None else source).get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, "an integer")
        return value

    def obj(self, name: str, *, required: bool = False) -> Mapping[str, Any]:
        value = self.data.get(name)
        if value is None and not required:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(name, "an object")
        return value

    def identifier(self, name: str) -> Identifier | None:
        value = self.data.get(name)
        return None if value is None else parse_identifier(value, f"{self.where}.{name}")

    def required_identifier(self, name: str) -> Identifier:
        return parse_identifier(self.data.get(name), f"{self.where}.{name}")


def parse_identifier(value: Any, where: str = "identifier") -> Identifier:
    """A CommunicationIdentifierModel ({"rawId", "kind", "phoneNumber": {"value"}...}) as an Identifier."""
    if not isinstance(value, Mapping):
        raise BadRequest(f"{where} must be an object")
    phone = value.get("phoneNumber")
    phone_number = phone.get("value") if isinstance(phone, Mapping) else None
    raw_id = value.get("rawId") or (f"4:{phone_number}" if phone_number else None)
    if raw_id is None and isinstance(value.get("communicationUser"), Mapping):
        raw_id = value["communicationUser"].get("id")
    if not isinstance(raw_id, str) or not matches(RAW_ID, raw_id):
        raise BadRequest(f"{where}.rawId must be a raw id such as 4:+14255550123 or 8:acs:... (printable ASCII)")
    if raw_id.startswith("4:"):
        if not matches(PHONE_RAW_ID, raw_id):
            raise BadRequest(f"{where}.rawId must be 4: and an E.164 number, or 4:anonymous")
        phone_number = phone_number or raw_id[2:].partition("_")[0]
    if phone_number is not None and not (matches(E164, phone_number) or phone_number == ANONYMOUS):
        raise BadRequest(f"{where}.phoneNumber.value must be an E.164 number such as +14255550123")
    kind = value.get("kind") or _kind_of(raw_id, phone_number)
    return Identifier(raw_id=raw_id, kind=str(kind), phone_number=phone_number)


def _kind_of(raw_id: str, phone_number: str | None) -> str:
    if phone_number:
        return "phoneNumber"
    return "communicationUser" if raw_id.startswith("8:acs:") else "unknown"


def _recognize_completed(f: _Fields) -> dict[str, Any]:
    dtmf = f.obj("dtmfResult")
    tones = dtmf.get("tones") or []
    if not isinstance(tones, list) or not all(isinstance(tone, str) for tone in tones):
        raise f.fail("dtmfResult.tones", "a list of tone names")
    choice = f.obj("choiceResult")
    speech = f.obj("speechResult")
    confidence = choice.get("confidence", speech.get("confidence"))
    return {
        "recognition_type": f.text("recognitionType") or "",
        "tones": tuple(tones),
        "choice_label": f.text("label", source=choice),
        "recognized_phrase": f.text("recognizedPhrase", source=choice),
        "speech_text": f.text("speech", source=speech),
        "confidence": float(confidence) if isinstance(confidence, int | float) else None,
    }


def _media_failed(f: _Fields) -> dict[str, Any]:
    return {"failed_play_source_index": f.integer("failedPlaySourceIndex")}


def _participant(f: _Fields) -> dict[str, Any]:
    return {"participant": f.identifier("participant")}


def _move_participant(f: _Fields) -> dict[str, Any]:
    return {**_participant(f), "from_call": f.text("fromCall")}


def _cancel_add_participant(f: _Fields) -> dict[str, Any]:
    return {"invitation_id": f.text("invitationId") or ""}


def _participants_updated(f: _Fields) -> dict[str, Any]:
    items = f.data.get("participants") or []
    if not isinstance(items, list):
        raise f.fail("participants", "a list")
    participants = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise f.fail(f"participants[{index}]", "an object")
        participants.append(
            Participant(
                identifier=parse_identifier(item.get("identifier"), f"{f.where}.participants[{index}].identifier"),
                is_muted=bool(item.get("isMuted", False)),
                is_on_hold=bool(item.get("isOnHold", False)),
            )
        )
    return {"participants": tuple(participants), "sequence_number": f.integer("sequenceNumber") or 0}


def _transfer_accepted(f: _Fields) -> dict[str, Any]:
    return {"transfer_target": f.identifier("transferTarget"), "transferee": f.identifier("transferee")}


def _tone_received(f: _Fields) -> dict[str, Any]:
    return {"tone": f.text("tone") or "", "sequence_id": f.integer("sequenceId") or 0}


def _recording(f: _Fields) -> dict[str, Any]:
    return {
        "recording_id": f.text("recordingId") or "",
        "state": f.text("state"),
        "start_date_time": f.text("startDateTime"),
        "recording_kind": f.text("recordingKind"),
    }


def _media_streaming(f: _Fields) -> dict[str, Any]:
    update = f.obj("mediaStreamingUpdate")
    return {
        "content_type": f.text("contentType", source=update),
        "status": f.text("mediaStreamingStatus", source=update),
        "status_details": f.text("mediaStreamingStatusDetails", source=update),
    }


def _transcription(f: _Fields) -> dict[str, Any]:
    update = f.obj("transcriptionUpdate")
    return {
        "status": f.text("transcriptionStatus", source=update),
        "status_details": f.text("transcriptionStatusDetails", source=update),
    }


# Each typed event: its class, and the reader of the fields it adds to CallEvent's.
_PARSERS: dict[str, tuple[type[CallEvent], Callable[[_Fields], dict[str, Any]] | None]] = {
    "RecognizeCompleted": (RecognizeCompleted, _recognize_completed),
    "RecognizeFailed": (MediaFailed, _media_failed),
    "PlayFailed": (MediaFailed, _media_failed),
    "AddParticipantSucceeded": (ParticipantEvent, _participant),
    "AddParticipantFailed": (ParticipantEvent, _participant),
    "RemoveParticipantSucceeded": (ParticipantEvent, _participant),
    "RemoveParticipantFailed": (ParticipantEvent, _participant),
    "MoveParticipantSucceeded": (MoveParticipantEvent, _move_participant),
    "MoveParticipantFailed": (MoveParticipantEvent, _move_participant),
    "CancelAddParticipantSucceeded": (CancelAddParticipantEvent, _cancel_add_participant),
    "CancelAddParticipantFailed": (CancelAddParticipantEvent, _cancel_add_participant),
    "ParticipantsUpdated": (ParticipantsUpdated, _participants_updated),
    "CallTransferAccepted": (CallTransferAccepted, _transfer_accepted),
    "ContinuousDtmfRecognitionToneReceived": (ContinuousDtmfToneReceived, _tone_received),
    "RecordingStateChanged": (RecordingEvent, _recording),
    "StartRecordingFailed": (RecordingEvent, _recording),
    "MediaStreamingStarted": (MediaStreamingEvent, _media_streaming),
    "MediaStreamingStopped": (MediaStreamingEvent, _media_streaming),
    "MediaStreamingFailed": (MediaStreamingEvent, _media_streaming),
    "TranscriptionStarted": (TranscriptionEvent, _transcription),
    "TranscriptionStopped": (TranscriptionEvent, _transcription),
    "TranscriptionUpdated": (TranscriptionEvent, _transcription),
    "TranscriptionFailed": (TranscriptionEvent, _transcription),
}

# Types that need no extra fields, listed so the catalogue is complete in one place (contract §3.3).
COMMON_EVENT_TYPES = frozenset({
    "CallConnected", "CallDisconnected", "CreateCallFailed", "AnswerFailed", "ConnectFailed", "CallTransferFailed",
    "PlayStarted", "PlayCompleted", "PlayCanceled", "RecognizeCanceled", "ContinuousDtmfRecognitionToneFailed",
    "ContinuousDtmfRecognitionStopped", "SendDtmfTonesCompleted", "SendDtmfTonesFailed", "HoldFailed",
})  # fmt: skip
KNOWN_EVENT_TYPES = COMMON_EVENT_TYPES | frozenset(_PARSERS)


def event_types_of(*classes: type[CallEvent]) -> frozenset[str]:
    """The callback event types parsed into one of classes, e.g. RecordingStateChanged for RecordingEvent."""
    return frozenset(name for name, (event_class, _) in _PARSERS.items() if issubclass(event_class, classes))


def parse_callback_body(body: bytes) -> list[CallEvent]:
    """Parse an ACS callback POST body: a JSON array of CloudEvents, every element validated."""
    payload = guarded_json.loads(body, max_bytes=guarded_json.MAX_EVENT_BYTES)
    if isinstance(payload, Mapping):
        payload = [payload]  # tolerate a single structured-mode CloudEvent
    if not isinstance(payload, list) or not payload:
        raise BadRequest("body must be a non-empty JSON array of CloudEvents")
    return [parse_cloud_event(item, f"event[{index}]") for index, item in enumerate(payload)]


def parse_cloud_event(item: Any, where: str = "event") -> CallEvent:
    """Parse one callback CloudEvent into CallEvent or its typed subclass."""
    if not isinstance(item, Mapping):
        raise BadRequest(f"{where} must be an object")
    envelope = _Fields(item, where)
    event_id = envelope.required_shaped("id", EVENT_ID, "a non-empty string of printable ASCII")
    full_type = envelope.required_text("type")
    data = envelope.obj("data", required=True)
    fields_ = _Fields(data, f"{where}.data")
    short_type = full_type.removeprefix(EVENT_TYPE_PREFIX)
    event_class, parse_extra = _PARSERS.get(short_type, (CallEvent, None))
    result = fields_.obj("resultInformation")
    return event_class(
        id=event_id,
        type=short_type,
        call_connection_id=fields_.required_shaped("callConnectionId", CALL_CONNECTION_ID, CALL_CONNECTION_SHAPE),
        server_call_id=fields_.shaped("serverCallId", SERVER_CALL_ID, "a serverCallId (base64)") or "",
        correlation_id=fields_.text("correlationId") or "",
        operation_context=fields_.text("operationContext") or None,
        result=ResultInformation(
            code=fields_.integer("code", result) or 0,
            sub_code=fields_.integer("subCode", result) or 0,
            message=fields_.text("message", source=result) or "",
        ),
        time=envelope.text("time") or "",
        data=data,
        **(parse_extra(fields_) if parse_extra else {}),
    )


def parse_incoming_call(data: Mapping[str, Any], *, event_id: str = "", time: str = "") -> IncomingCall:
    """Parse the data of a Microsoft.Communication.IncomingCall Event Grid event."""
    if not isinstance(data, Mapping):
        raise BadRequest("IncomingCall data must be an object")
    f = _Fields(data, "data")
    custom = f.obj("customContext")
    sip_headers = custom.get("sipHeaders") or {}
    voip_headers = custom.get("voipHeaders") or {}
    if not isinstance(sip_headers, Mapping) or not isinstance(voip_headers, Mapping):
        raise f.fail("customContext", "an object of sipHeaders/voipHeaders maps")
    return IncomingCall(
        id=event_id,
        caller=f.required_identifier("from"),
        callee=f.required_identifier("to"),
        server_call_id=f.required_shaped("serverCallId", SERVER_CALL_ID, "a serverCallId (base64)"),
        incoming_call_context=f.required_text("incomingCallContext"),
        correlation_id=f.text("correlationId") or "",
        caller_display_name=f.text("callerDisplayName") or "",
        on_behalf_of_callee=f.identifier("onBehalfOfCallee"),
        sip_headers={str(k): str(v) for k, v in sip_headers.items()},
        voip_headers={str(k): str(v) for k, v in voip_headers.items()},
        time=time,
    )


def parse_event_grid_event(
    *, event_id: str, event_type: str, data: Any, time: str = ""
) -> IncomingCall | EventGridNotification:
    """An Event Grid event as IncomingCall, or as a generic notification for any other type."""
    short_type = event_type.removeprefix(EVENT_TYPE_PREFIX)
    if short_type == IncomingCall.type:
        return parse_incoming_call(data, event_id=event_id, time=time)
    return EventGridNotification(id=event_id, type=short_type, data=data if isinstance(data, Mapping) else {})


@dataclass(frozen=True, kw_only=True)
class EventGridEnvelope:
    """The envelope fields of one Event Grid delivery, whichever schema carried it."""

    id: str
    type: str
    subject: str
    time: str
    data: Any


def event_grid_envelope(event: Any) -> EventGridEnvelope:
    """Read an Event Grid trigger's argument: func.EventGridEvent (Event Grid schema) or func.CloudEvent.

    The worker passes a CloudEvent whenever the delivered JSON has `specversion`, whatever the annotation says;
    the two name their fields differently (event_type/type, event_time/time). The data is checked like any body.
    """
    envelope = _Fields(
        {
            "id": getattr(event, "id", None),
            "type": getattr(event, "event_type", None) or getattr(event, "type", None),
            "subject": getattr(event, "subject", None),
        },
        "event",
    )
    event_id = envelope.required_shaped("id", EVENT_ID, "a non-empty string of printable ASCII")
    event_type = envelope.required_text("type")
    subject = envelope.text("subject") or ""
    when = getattr(event, "event_time", None) or getattr(event, "time", None)
    data = event.get_json()
    if isinstance(data, str | bytes):
        # A CloudEvent may carry its JSON data as text; it is parsed with the same limits as a body.
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        data = guarded_json.loads(raw, max_bytes=guarded_json.MAX_EVENT_BYTES, what="data")
    guarded_json.check(data, "data")
    guarded_json.check([event_type, subject], "event")
    return EventGridEnvelope(
        id=event_id, type=event_type, subject=subject, time=when.isoformat() if when else "", data=data
    )
