"""Builders for the payloads ACS sends: CloudEvents callbacks (contract §3) and Event Grid events (contract §4)."""

from __future__ import annotations

import uuid
from typing import Any

from emulator.clock import Clock

EVENT_PREFIX = "Microsoft.Communication."
DEFAULT_TOPIC = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/emulator"
    "/providers/Microsoft.Communication/communicationServices/acs-emulator"
)

# Contract §3.4 (DOCS play-action.md, recognize-ai-action.md "Event codes") verbatim: (event, code, subCode, message).
RESULT_TABLE: tuple[tuple[str, int, int, str], ...] = (
    ("RecognizeCompleted", 200, 8531, "Action completed, max digits received."),
    ("RecognizeCompleted", 200, 8533, "Action completed, DTMF option matched."),
    ("RecognizeCompleted", 200, 8545, "Action completed, speech option matched."),
    ("RecognizeCompleted", 200, 8514, "Action completed as stop tone was detected."),
    ("RecognizeCompleted", 200, 8569, "Action completed, speech was recognized."),
    ("RecognizeCompleted", 400, 8532, "Action failed, inter-digit silence time out reached."),
    ("RecognizeFailed", 400, 8563, "Action failed, speech could not be recognized."),
    ("RecognizeFailed", 408, 8570, "Action failed, speech recognition timed out."),
    ("RecognizeFailed", 400, 8510, "Action failed, initial silence time out reached."),
    ("RecognizeFailed", 500, 8511, "Action failed, encountered failure while trying to play the prompt."),
    ("RecognizeFailed", 400, 8547, "Action failed, recognized phrase does not match a valid option."),
    ("RecognizeFailed", 500, 8534, "Action failed, incorrect tone entered."),
    ("RecognizeFailed", 500, 9999, "Unspecified error."),
    ("RecognizeCanceled", 400, 8508, "Action failed, the operation was canceled."),
    ("PlayCompleted", 200, 0, "Action completed successfully."),
    ("PlayCanceled", 400, 8508, "Action failed, the operation was canceled."),
    ("PlayFailed", 400, 8535, "Action failed, file format is invalid."),
    ("PlayFailed", 400, 8536, "Action failed, file could not be downloaded."),
    ("PlayFailed", 400, 8565, "Action failed, bad request to Azure AI services. Check input parameters."),
    ("PlayFailed", 401, 8565, "Action failed, Azure AI services authentication error."),
    (
        "PlayFailed",
        403,
        8565,
        "Action failed, forbidden request to Azure AI services, free subscription used by the request ran out of "
        "quota.",
    ),
    (
        "PlayFailed",
        429,
        8565,
        "Action failed, requests exceeded the number of allowed concurrent requests for the Azure AI services "
        "subscription.",
    ),
    ("PlayFailed", 408, 8565, "Action failed, request to Azure AI services timed out."),
    ("PlayFailed", 500, 9999, "Unknown internal server error"),
    ("PlayFailed", 500, 8572, "Action failed due to play service shutdown."),
)

# Real CallDisconnected messages (contract §3.3): the first after a remote hang-up, the second after hang_up/terminate.
CALL_ENDED_MESSAGE = "The conversation has ended. DiagCode: 0#7000.@"
CALL_ENDED_BY_APP_MESSAGE = (
    "Call was ended by Azure Communication Service Call Automation API or a server bot. DiagCode: 0#7000.@"
)


def short_name(event_type: str) -> str:
    """'Microsoft.Communication.CallConnected' or 'CallConnected' -> 'CallConnected'."""
    name = event_type.removeprefix(EVENT_PREFIX)
    if not name or "." in name:
        raise ValueError(f"not a Call Automation event type: {event_type!r}")
    return name


def full_type(event_type: str) -> str:
    """'CallConnected' or 'Microsoft.Communication.CallConnected' -> 'Microsoft.Communication.CallConnected'."""
    return EVENT_PREFIX + short_name(event_type)


def _matching_rows(sub_code: int, code: int | None, event_type: str | None) -> list[tuple[str, int, int, str]]:
    rows = [r for r in RESULT_TABLE if r[2] == sub_code and (code is None or r[1] == code)]
    if event_type is not None:
        named = [r for r in rows if r[0] == short_name(event_type)]
        # The docs file 8532 under RecognizeCompleted in one table and RecognizeFailed in another (contract §3.4),
        # so an event type with no row of its own falls back to the message for that code.
        rows = named or rows
    return rows


def result_message(sub_code: int, code: int | None = None, event_type: str | None = None) -> str:
    """The documented message for a play/recognize subcode; give code/event_type where the subcode is ambiguous."""
    messages = {r[3] for r in _matching_rows(sub_code, code, event_type)}
    if not messages:
        raise KeyError(f"no documented message for subCode {sub_code} (code={code}, event_type={event_type})")
    if len(messages) > 1:
        raise ValueError(f"subCode {sub_code} has several documented messages; give code and/or event_type")
    return messages.pop()


def result_for(event_type: str, sub_code: int, code: int | None = None) -> tuple[int, int, str]:
    """(code, subCode, message) for callback_event(result=...), e.g. result_for("RecognizeCompleted", 8531)."""
    rows = _matching_rows(sub_code, code, event_type)
    codes = {r[1] for r in rows}
    if not rows:
        raise KeyError(f"no documented result for {event_type} subCode {sub_code} (code={code})")
    if len(codes) > 1:
        raise ValueError(f"{event_type} subCode {sub_code} is documented with codes {sorted(codes)}; pass code")
    return rows[0][1], sub_code, result_message(sub_code, rows[0][1], event_type)


def callback_event(
    event_type: str,
    *,
    call_connection_id: str,
    server_call_id: str,
    correlation_id: str,
    api_version: str,
    data: dict[str, Any] | None = None,
    operation_context: str | None = None,
    result: tuple[int, int, str] | None = (200, 0, ""),
    source: str | None = None,
) -> dict[str, Any]:
    """One CloudEvents 1.0 callback event shaped like real ACS captures (contract §3.1); POST it inside a list."""
    type_ = full_type(event_type)
    payload: dict[str, Any] = dict(data or {})
    if operation_context is not None:
        payload["operationContext"] = operation_context
    if result is not None:
        code, sub_code, message = result
        payload["resultInformation"] = {"code": code, "subCode": sub_code, "message": message}
    payload["version"] = api_version
    payload["callConnectionId"] = call_connection_id
    payload["serverCallId"] = server_call_id
    payload["correlationId"] = correlation_id
    payload["publicEventType"] = type_
    origin = source if source is not None else f"calling/callConnections/{call_connection_id}"
    return {
        "id": str(uuid.uuid4()),
        "source": origin,
        "type": type_,
        "data": payload,
        "time": Clock.timestamp(),
        "specversion": "1.0",
        "datacontenttype": "application/json",
        "subject": origin,
    }


def recording_source(server_call_id: str, recording_id: str) -> str:
    """source/subject of RecordingStateChanged events (contract §3.1)."""
    return f"calling/recordings/{server_call_id}/{recording_id}/RecordingStateChanged"


def event_grid_time() -> str:
    """Event Grid eventTime: seven fractional digits and a Z (as in every Event Grid example)."""
    now = Clock.utcnow()
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}0Z"


def event_grid_event(event_type: str, *, subject: str, data: dict[str, Any], topic: str) -> dict[str, Any]:
    """One Event Grid schema event (contract §4), delivered inside a list; short type names get the ACS prefix."""
    return {
        "id": str(uuid.uuid4()),
        "topic": topic,
        "subject": subject,
        "data": data,
        "eventType": event_type if "." in event_type else full_type(event_type),
        "dataVersion": "1.0",
        "metadataVersion": "1",
        "eventTime": event_grid_time(),
    }
