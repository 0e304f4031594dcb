"""What each Call Automation api-version answers: its success codes, and which events and fields it knows.

The tables come from the SDK's generated code at each SDK version's default api-version (1.1.0: 2023-10-15, 1.2.0:
2024-04-15, 1.3.0: 2024-09-15, 1.4.0: 2025-05-15, 1.5.0: 2025-06-15, 1.6.0: 2026-03-12) and from the REST spec's
examples: an event or field first appears at the api-version whose models first declare it. A request at an older
api-version gets the answer, the events and the fields of that version, as the live service gives older clients.
"""

from __future__ import annotations

from typing import Any

from .config import SUPPORTED_API_VERSIONS

STABLE_VERSIONS = tuple(v for v in SUPPORTED_API_VERSIONS if not v.endswith("-preview"))
NEWEST = STABLE_VERSIONS[-1]

# Callback event types newer than the oldest version, and the api-version that introduced each.
EVENT_SINCE: dict[str, str] = {
    "AnswerFailed": "2024-09-15",
    "ConnectFailed": "2024-09-15",
    "CreateCallFailed": "2024-09-15",
    "HoldFailed": "2024-09-15",
    "PlayStarted": "2024-09-15",
    "MediaStreamingStarted": "2025-05-15",
    "MediaStreamingStopped": "2025-05-15",
    "MediaStreamingFailed": "2025-05-15",
    "TranscriptionStarted": "2025-05-15",
    "TranscriptionStopped": "2025-05-15",
    "TranscriptionUpdated": "2025-05-15",
    "TranscriptionFailed": "2025-05-15",
    "StartRecordingFailed": "2025-06-15",
    "MoveParticipantSucceeded": "2026-03-12",
    "MoveParticipantFailed": "2026-03-12",
    # Sent by the live service, declared by no stable spec yet (the preview SDKs' models): newest versions only.
    "HoldAudioStarted": "2026-03-12",
    "HoldAudioPaused": "2026-03-12",
    "HoldAudioResumed": "2026-03-12",
    "HoldAudioCompleted": "2026-03-12",
}
# Before CreateCallFailed existed a call nobody answered ended its leg with CallDisconnected (the emulator's guess).
OLDER_EVENT = {"CreateCallFailed": "CallDisconnected"}

_RESULT_SINCE_2024_09 = {"resultInformation": "2024-09-15"}
# Model name -> {field: api-version that introduced it}; events are models named by their type.
FIELD_SINCE: dict[str, dict[str, str]] = {
    "CallConnected": _RESULT_SINCE_2024_09,
    "CallDisconnected": _RESULT_SINCE_2024_09,
    "CancelAddParticipantSucceeded": _RESULT_SINCE_2024_09,
    "ParticipantsUpdated": _RESULT_SINCE_2024_09,
    "PlayCanceled": _RESULT_SINCE_2024_09,
    "RecognizeCanceled": _RESULT_SINCE_2024_09,
    "PlayFailed": {"failedPlaySourceIndex": "2024-09-15"},
    "RecognizeFailed": {"failedPlaySourceIndex": "2024-09-15"},
    "RecordingStateChanged": {"recordingKind": "2024-04-15", "resultInformation": "2024-09-15"},
    "CallParticipant": {"isOnHold": "2024-09-15"},
    "ChoiceResult": {"confidence": "2025-05-15"},
    "SpeechResult": {"confidence": "2025-05-15"},
    "CallConnectionProperties": {
        "answeredFor": "2024-09-15",
        "mediaStreamingSubscription": "2025-05-15",
        "transcriptionSubscription": "2025-05-15",
    },
}
# Nested models inside a model: field -> (model name, is a list).
NESTED: dict[str, dict[str, tuple[str, bool]]] = {
    "ParticipantsUpdated": {"participants": ("CallParticipant", True)},
    "RecognizeCompleted": {"choiceResult": ("ChoiceResult", False), "speechResult": ("SpeechResult", False)},
    "GetParticipantsResponse": {"value": ("CallParticipant", True)},
    "AddParticipantResponse": {"participant": ("CallParticipant", False)},
}
# Operations whose success status changed: operation -> ((api-version from which, status), ...), newest first.
# StartRecording answers 200 up to 2025-05-15; the 2025-06-15 spec adds 202, which the live service sends (contract
# §1.6), and SDK 1.5.0 (2025-06-15) is the first to accept it.
STATUS_SINCE: dict[str, tuple[tuple[str, int], ...]] = {
    "CallRecording_StartRecording": (("2025-06-15", 202), (STABLE_VERSIONS[0], 200)),
}


def shape_of(api_version: str) -> str:
    """The stable version whose answers `api_version` gets: itself, or for a preview the stable release it led to."""
    if api_version in STABLE_VERSIONS:
        return api_version
    date = api_version.removesuffix("-preview")
    return next((stable for stable in STABLE_VERSIONS if stable >= date), NEWEST)


def at_least(api_version: str, since: str) -> bool:
    return shape_of(api_version) >= since


def event_type_for(event_type: str, api_version: str) -> str | None:
    """The event this api-version sends for `event_type`: itself, its older equivalent, or None (not sent)."""
    since = EVENT_SINCE.get(event_type)
    if since is None or at_least(api_version, since):
        return event_type
    return OLDER_EVENT.get(event_type)


def status_for(operation: str, api_version: str, default: int) -> int:
    for since, status in STATUS_SINCE.get(operation, ()):
        if at_least(api_version, since):
            return status
    return default


def shape(model: str, body: dict[str, Any], api_version: str) -> dict[str, Any]:
    """`body` of `model` without the fields `api_version` does not know (nested models included); a new dict."""
    if shape_of(api_version) == NEWEST:
        return body
    newer = {name for name, since in FIELD_SINCE.get(model, {}).items() if not at_least(api_version, since)}
    shaped = {key: value for key, value in body.items() if key not in newer}
    for name, (inner, is_list) in NESTED.get(model, {}).items():
        value = shaped.get(name)
        if is_list and isinstance(value, list):
            shaped[name] = [shape(inner, item, api_version) if isinstance(item, dict) else item for item in value]
        elif isinstance(value, dict):
            shaped[name] = shape(inner, value, api_version)
    return shaped
