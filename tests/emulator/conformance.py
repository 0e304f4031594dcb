"""Checks that emulator payloads have the shape of real ACS callbacks (SDK models) and Event Grid events (§4)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from azure.communication.callautomation._generated import models as sdk_models

EVENT_PREFIX = "Microsoft.Communication."
ENVELOPE_KEYS = frozenset({"id", "source", "subject", "type", "data", "time", "specversion", "datacontenttype"})
# Real ACS adds these to every callback's data although the SDK models don't declare them (contract §3.1).
DATA_EXTRAS = frozenset({"version", "publicEventType", "eventSource"})
ALWAYS_REQUIRED = ("callConnectionId", "serverCallId", "correlationId")
# Real captures of these lacked resultInformation although their models declare it (contract §3.3).
RESULT_INFORMATION_OPTIONAL = frozenset({"CancelAddParticipantSucceeded", "ContinuousDtmfRecognitionStopped"})
# Generated models that carry callConnectionId but are REST bodies, not events.
_NOT_EVENTS = frozenset({"CallConnectionProperties", "StartCallRecordingRequest"})
# The service trims trailing zeros of the seven fractional digits (`...16.384762+00:00` in a live capture).
_CLOUD_EVENT_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,7}\+00:00$")
_EVENT_GRID_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")


def _model(name: str) -> type | None:
    cls = getattr(sdk_models, name, None)
    return cls if isinstance(cls, type) and hasattr(cls, "_attribute_map") else None


def _wire_fields(cls: type) -> dict[str, str]:
    """Wire key -> attribute type, e.g. {"callConnectionId": "str", "resultInformation": "ResultInformation"}."""
    return {entry["key"]: entry["type"] for entry in cls._attribute_map.values()}  # type: ignore[attr-defined]


# Events the live service sends that the SDK declares no model for yet; each has the fields of the named model.
MODEL_LESS_EVENTS = {
    "HoldAudioStarted": "HoldFailed",
    "HoldAudioPaused": "HoldFailed",
    "HoldAudioResumed": "HoldFailed",
    "HoldAudioCompleted": "HoldFailed",
}


def event_model(name: str) -> type:
    """The generated SDK model class for a callback event name such as "CallConnected"."""
    cls = _model(MODEL_LESS_EVENTS.get(name, name))
    if cls is None or name in _NOT_EVENTS or "callConnectionId" not in _wire_fields(cls):
        raise AssertionError(f"{name}: no Call Automation event model of that name in the SDK")
    return cls


def _fail(where: str, message: str) -> None:
    raise AssertionError(f"{where}: {message}")


def _check_value(value: Any, type_name: str, where: str) -> None:
    if value is None:
        return
    if type_name.startswith("[") and type_name.endswith("]"):
        if not isinstance(value, list):
            _fail(where, f"expected a list, got {type(value).__name__}")
        for index, item in enumerate(value):
            _check_value(item, type_name[1:-1], f"{where}[{index}]")
    elif type_name.startswith("{") and type_name.endswith("}"):
        if not isinstance(value, dict):
            _fail(where, f"expected an object, got {type(value).__name__}")
        for key, item in value.items():
            _check_value(item, type_name[1:-1], f"{where}.{key}")
    elif type_name == "str":
        if not isinstance(value, str):
            _fail(where, f"expected a string, got {value!r}")
    elif type_name == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            _fail(where, f"expected an integer, got {value!r}")
    elif type_name == "float":
        if not isinstance(value, int | float) or isinstance(value, bool):
            _fail(where, f"expected a number, got {value!r}")
    elif type_name == "bool":
        if not isinstance(value, bool):
            _fail(where, f"expected a boolean, got {value!r}")
    elif type_name == "iso-8601":
        if not isinstance(value, str):
            _fail(where, f"expected an ISO-8601 string, got {value!r}")
        try:
            datetime.fromisoformat(value)
        except ValueError:
            _fail(where, f"not an ISO-8601 date-time: {value!r}")
    else:
        cls = _model(type_name)
        if cls is None:
            _fail(where, f"unknown SDK type {type_name}")
        _check_object(value, _wire_fields(cls), where, extras=frozenset())


def _check_object(value: Any, fields: dict[str, str], where: str, extras: frozenset[str]) -> None:
    if not isinstance(value, dict):
        _fail(where, f"expected an object, got {type(value).__name__}")
    for key, item in value.items():
        if key in fields:
            _check_value(item, fields[key], f"{where}.{key}")
        elif key not in extras:
            _fail(where, f"unexpected key {key!r} (allowed: {sorted(fields)})")


def assert_callback_matches_sdk_model(event: dict[str, Any], *, require_envelope_extras: bool = True) -> None:
    """AssertionError unless `event` is a CloudEvent callback whose data fits the SDK model of its type.

    require_envelope_extras=False accepts older real payloads (before 2024) that lacked version/publicEventType.
    """
    if not isinstance(event, dict):
        _fail("event", f"expected an object, got {type(event).__name__}")
    type_ = event.get("type")
    where = str(type_)
    missing = sorted(ENVELOPE_KEYS - event.keys())
    if missing:
        _fail(where, f"envelope lacks {missing}")
    unknown = sorted(event.keys() - ENVELOPE_KEYS)
    if unknown:
        _fail(where, f"envelope has unexpected keys {unknown}")
    if not isinstance(type_, str) or not type_.startswith(EVENT_PREFIX):
        _fail(where, f"type must be {EVENT_PREFIX}<Name>")
    name = type_.removeprefix(EVENT_PREFIX)
    cls = event_model(name)
    if event["specversion"] != "1.0":
        _fail(where, f"specversion {event['specversion']!r} != '1.0'")
    if event["datacontenttype"] != "application/json":
        _fail(where, f"datacontenttype {event['datacontenttype']!r} != 'application/json'")
    if not isinstance(event["id"], str) or not event["id"]:
        _fail(where, "id must be a non-empty string")
    if not isinstance(event["time"], str) or not _CLOUD_EVENT_TIME.match(event["time"]):
        _fail(where, f"time {event['time']!r} is not ISO-8601 with 1-7 fractional digits and +00:00")

    data = event["data"]
    fields = _wire_fields(cls)
    _check_object(data, fields, f"{where} data", extras=DATA_EXTRAS)
    for key in ALWAYS_REQUIRED:
        if not data.get(key):
            _fail(where, f"data lacks {key}")
    if "resultInformation" in fields and name not in RESULT_INFORMATION_OPTIONAL and "resultInformation" not in data:
        _fail(where, "data lacks resultInformation")
    if require_envelope_extras:
        for key in ("version", "publicEventType"):
            if key not in data:
                _fail(where, f"data lacks {key}")
    if "publicEventType" in data and data["publicEventType"] != type_:
        _fail(where, f"publicEventType {data['publicEventType']!r} != type")
    if "version" in data and not isinstance(data["version"], str):
        _fail(where, "version must be a string")

    if event["source"] != event["subject"]:
        _fail(where, f"source {event['source']!r} != subject {event['subject']!r}")
    if name == "RecordingStateChanged":
        expected = f"calling/recordings/{data['serverCallId']}/{data.get('recordingId')}/RecordingStateChanged"
    else:
        expected = f"calling/callConnections/{data['callConnectionId']}"
    if event["source"] != expected:
        _fail(where, f"source {event['source']!r} != {expected!r}")
    if "eventSource" in data and data["eventSource"] != event["source"]:
        _fail(where, f"eventSource {data['eventSource']!r} != source")


# --- Event Grid (contract §4) ---------------------------------------------------------------------------------
# A field spec is a primitive name, "identifier" (CommunicationIdentifierModel), ("map", spec), ("list", spec), or
# a nested object spec {"fields": {...}, "required": {...}}.

_IDENTIFIER = "identifier"
_OBJECT_ID = {"fields": {"id": "str"}, "required": set()}
_PARTICIPANT = {
    "fields": {"communicationIdentifier": _IDENTIFIER, "role": "str"},
    "required": {"communicationIdentifier"},
}
_REASON = {"fields": {"code": "int", "subCode": "int", "phrase": "str"}, "required": set()}
_CALLING_FIELDS: dict[str, Any] = {
    "startedBy": _PARTICIPANT,
    "serverCallId": "str",
    "group": _OBJECT_ID,
    "room": _OBJECT_ID,
    "isTwoParty": "bool",
    "correlationId": "str",
    "isRoomsCall": "bool",
}
_CALLING_REQUIRED = {"startedBy", "serverCallId", "correlationId"}
_PARTICIPANT_EVENT_FIELDS = {
    **_CALLING_FIELDS,
    "user": _PARTICIPANT,
    "displayName": "str",
    "participantId": "str",
    "userAgent": "str",
}
_CHUNK = {
    "fields": {
        "documentId": "str",
        "index": "int",
        "endReason": "str",
        "contentLocation": "str",
        "metadataLocation": "str",
        "deleteLocation": "str",
    },
    "required": {"documentId", "index", "endReason", "contentLocation", "metadataLocation", "deleteLocation"},
}

EVENT_GRID_DATA: dict[str, dict[str, Any]] = {
    "IncomingCall": {
        "fields": {
            "to": _IDENTIFIER,
            "from": _IDENTIFIER,
            "serverCallId": "str",
            "callerDisplayName": "str",
            "customContext": {
                "fields": {"sipHeaders": ("map", "str"), "voipHeaders": ("map", "str")},
                "required": set(),
            },
            "incomingCallContext": "str",
            "onBehalfOfCallee": _IDENTIFIER,
            "correlationId": "str",
        },
        "required": {"to", "from", "serverCallId", "callerDisplayName", "incomingCallContext", "correlationId"},
    },
    "CallStarted": {"fields": _CALLING_FIELDS, "required": _CALLING_REQUIRED},
    "CallEnded": {
        "fields": {
            **_CALLING_FIELDS,
            "endedBy": {
                "fields": {"communicationIdentifier": _IDENTIFIER, "type": "str", "name": "str"},
                "required": set(),
            },
            "reason": _REASON,
            "callDurationInSeconds": "float",
        },
        "required": _CALLING_REQUIRED | {"reason", "callDurationInSeconds"},
    },
    "CallParticipantAdded": {
        "fields": _PARTICIPANT_EVENT_FIELDS,
        "required": _CALLING_REQUIRED | {"user", "participantId"},
    },
    "CallParticipantRemoved": {
        "fields": {**_PARTICIPANT_EVENT_FIELDS, "reason": _REASON},
        "required": _CALLING_REQUIRED | {"user", "participantId"},
    },
    "RecordingFileStatusUpdated": {
        "fields": {
            "recordingStorageInfo": {"fields": {"recordingChunks": ("list", _CHUNK)}, "required": {"recordingChunks"}},
            "recordingStartTime": "iso-8601",
            "recordingDurationMs": "int",
            "recordingContentType": "str",
            "recordingChannelType": "str",
            "recordingFormatType": "str",
            "sessionEndReason": "str",
        },
        "required": {"recordingStorageInfo", "recordingStartTime", "recordingDurationMs", "sessionEndReason"},
    },
}
EVENT_GRID_KEYS = frozenset(
    {"id", "topic", "subject", "data", "eventType", "dataVersion", "metadataVersion", "eventTime"}
)


def _check_spec(value: Any, spec: Any, where: str) -> None:
    if value is None:
        return
    if spec == _IDENTIFIER:
        _check_value(value, "CommunicationIdentifierModel", where)
    elif isinstance(spec, str):
        _check_value(value, spec, where)
    elif isinstance(spec, tuple):
        kind, inner = spec
        container = list if kind == "list" else dict
        if not isinstance(value, container):
            _fail(where, f"expected a {'list' if kind == 'list' else 'map'}, got {type(value).__name__}")
        items = enumerate(value) if kind == "list" else value.items()
        for key, item in items:
            _check_spec(item, inner, f"{where}[{key!r}]")
    else:
        if not isinstance(value, dict):
            _fail(where, f"expected an object, got {type(value).__name__}")
        for key in sorted(spec["required"] - value.keys()):
            _fail(where, f"lacks required key {key!r}")
        for key, item in value.items():
            if key not in spec["fields"]:
                _fail(where, f"unexpected key {key!r} (allowed: {sorted(spec['fields'])})")
            _check_spec(item, spec["fields"][key], f"{where}.{key}")


def assert_event_grid_event_shape(event: dict[str, Any]) -> None:
    """AssertionError unless `event` is an Event Grid schema event whose data matches contract §4 for its type."""
    if not isinstance(event, dict):
        _fail("event", f"expected an object, got {type(event).__name__}")
    where = str(event.get("eventType"))
    missing = sorted(EVENT_GRID_KEYS - event.keys())
    if missing:
        _fail(where, f"Event Grid event lacks {missing}")
    unknown = sorted(event.keys() - EVENT_GRID_KEYS)
    if unknown:
        _fail(where, f"Event Grid event has unexpected keys {unknown}")
    for key in ("id", "topic", "subject", "eventType"):
        if not isinstance(event[key], str) or not event[key]:
            _fail(where, f"{key} must be a non-empty string")
    if event["dataVersion"] != "1.0" or event["metadataVersion"] != "1":
        _fail(where, f"dataVersion/metadataVersion {event['dataVersion']!r}/{event['metadataVersion']!r} != 1.0/1")
    if not isinstance(event["eventTime"], str) or not _EVENT_GRID_TIME.match(event["eventTime"]):
        _fail(where, f"eventTime {event['eventTime']!r} is not ISO-8601 with 7 fractional digits and Z")
    name = event["eventType"].removeprefix(EVENT_PREFIX)
    if name not in EVENT_GRID_DATA or not event["eventType"].startswith(EVENT_PREFIX):
        _fail(where, f"unknown ACS Event Grid event type (known: {sorted(EVENT_GRID_DATA)})")
    _check_spec(event["data"], EVENT_GRID_DATA[name], f"{where} data")
