"""Event Grid calling events (contract §4.2): CallStarted, CallEnded, CallParticipantAdded, CallParticipantRemoved.

ACS publishes these only for ACS (VoIP) users, and so does the emulator: CallStarted/CallEnded only for calls with an
ACS user among their people when they start, CallParticipantAdded/Removed only for ACS users (never for app legs).
A call starts when it first has two parties.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from .identifiers import Identifier
from .models import Participant, ServerCall

ROLE = "Attendee"
USER_AGENT = "acs-emulator"
# Neither the reason nor endedBy of a real CallEnded is documented beyond the schema; these values are a guess.
ENDED_REASON = {"code": 0, "subCode": 0, "phrase": "Call ended successfully"}


@dataclass
class StartedCall:
    started_at: float  # emulated seconds, Clock.monotonic()
    started_by: Identifier
    voip: bool
    participant_ids: dict[str, str] = field(default_factory=dict)  # raw id -> participantId


def _started(call: ServerCall) -> dict[str, StartedCall]:
    return call.backend.store("started_calls")


def _is_person_on_voip(participant: Participant) -> bool:
    return participant.identifier.is_acs_user and not participant.is_app


def participant_joined(call: ServerCall, participant: Participant) -> None:
    record = _started(call).get(call.server_call_id)
    if record is None:
        if len(call.present()) >= 2:
            _start(call)
        return
    if record.voip and _is_person_on_voip(participant):
        _publish_participant(call, record, "CallParticipantAdded", participant)


def participant_left(call: ServerCall, participant: Participant) -> None:
    record = _started(call).get(call.server_call_id)
    if record is not None and record.voip and _is_person_on_voip(participant):
        _publish_participant(call, record, "CallParticipantRemoved", participant)


def call_ended(call: ServerCall, ended_by: Identifier | None) -> None:
    record = _started(call).get(call.server_call_id)
    if record is None or not record.voip:
        return
    data = _common(call, record)
    if ended_by is not None:
        data["endedBy"] = {"communicationIdentifier": ended_by.to_model(), "type": "Participant", "name": ""}
    data["reason"] = dict(ENDED_REASON)
    data["callDurationInSeconds"] = round(call.backend.clock.monotonic() - record.started_at, 3)
    call.backend.publish_event_grid("CallEnded", f"call/{call.server_call_id}", data, call)


def _start(call: ServerCall) -> None:
    present = call.present()
    # The first participant of a call is whoever placed it: the caller of an inbound call, the app of an outbound one.
    started_by = next(iter(call.participants.values())).identifier
    record = StartedCall(call.backend.clock.monotonic(), started_by, any(_is_person_on_voip(p) for p in present))
    _started(call)[call.server_call_id] = record
    if not record.voip:
        return
    call.backend.publish_event_grid(
        "CallStarted", f"call/{call.server_call_id}/startedBy/{started_by.raw_id}", _common(call, record), call
    )
    for participant in present:
        if _is_person_on_voip(participant):
            _publish_participant(call, record, "CallParticipantAdded", participant)


def _common(call: ServerCall, record: StartedCall) -> dict[str, Any]:
    data: dict[str, Any] = {
        "startedBy": {"communicationIdentifier": record.started_by.to_model(), "role": ROLE},
        "serverCallId": call.server_call_id,
        "isTwoParty": not call.is_group,
        "correlationId": call.correlation_id,
        "isRoomsCall": call.room_id is not None,
    }
    if call.group_call_id:
        data["group"] = {"id": call.group_call_id}
    if call.room_id:
        data["room"] = {"id": call.room_id}
    return data


def _publish_participant(call: ServerCall, record: StartedCall, event_type: str, participant: Participant) -> None:
    raw_id = participant.identifier.raw_id
    participant_id = record.participant_ids.setdefault(raw_id, str(uuid.uuid4()))
    data = {
        **_common(call, record),
        "user": {"communicationIdentifier": participant.identifier.to_model(), "role": ROLE},
        "displayName": participant.display_name,
        "participantId": participant_id,
        "userAgent": USER_AGENT,
    }
    call.backend.publish_event_grid(event_type, f"call/{call.server_call_id}/participant/{raw_id}", data, call)
