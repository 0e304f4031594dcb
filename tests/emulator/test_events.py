"""Callback and Event Grid envelope builders."""

import re
import uuid

import pytest
from azure.core.messaging import CloudEvent

from emulator.events import (
    CALL_ENDED_BY_APP_MESSAGE,
    event_grid_event,
    recording_source,
    result_for,
    result_message,
)
from emulator.events import callback_event as build

IDS = {
    "call_connection_id": "0b004880-e406-40bf-8384-a4042a72fecd",
    "server_call_id": "aHR0cHM6Ly9leGFtcGxl",
    "correlation_id": "1b541d21-bd0e-4695-a9ce-bf3290a807bd",
    "api_version": "2026-03-12",
}


def test_call_connected_matches_the_real_capture_layout() -> None:
    event = build("CallConnected", **IDS)
    assert list(event) == ["id", "source", "type", "data", "time", "specversion", "datacontenttype", "subject"]
    uuid.UUID(event["id"])
    assert event["source"] == event["subject"] == "calling/callConnections/0b004880-e406-40bf-8384-a4042a72fecd"
    assert event["type"] == "Microsoft.Communication.CallConnected"
    assert event["specversion"] == "1.0"
    assert event["datacontenttype"] == "application/json"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.(\d{0,6}[1-9]|0)\+00:00", event["time"])
    assert event["data"] == {
        "resultInformation": {"code": 200, "subCode": 0, "message": ""},
        "version": "2026-03-12",
        "callConnectionId": IDS["call_connection_id"],
        "serverCallId": IDS["server_call_id"],
        "correlationId": IDS["correlation_id"],
        "publicEventType": "Microsoft.Communication.CallConnected",
    }


def test_full_type_name_extra_data_and_operation_context() -> None:
    event = build(
        "Microsoft.Communication.PlayFailed",
        **IDS,
        data={"failedPlaySourceIndex": 0},
        operation_context="greeting",
        result=result_for("PlayFailed", 8535),
    )
    assert event["type"] == "Microsoft.Communication.PlayFailed"
    assert event["data"]["failedPlaySourceIndex"] == 0
    assert event["data"]["operationContext"] == "greeting"
    assert event["data"]["resultInformation"] == {
        "code": 400,
        "subCode": 8535,
        "message": "Action failed, file format is invalid.",
    }


def test_no_result_and_no_operation_context_are_omitted() -> None:
    data = build("CancelAddParticipantSucceeded", **IDS, data={"invitationId": "i-1"}, result=None)["data"]
    assert "resultInformation" not in data
    assert "operationContext" not in data


def test_recording_source_override() -> None:
    source = recording_source("c2VydmVy", "rec-1")
    event = build("RecordingStateChanged", **IDS, data={"recordingId": "rec-1", "state": "active"}, source=source)
    assert event["source"] == event["subject"] == "calling/recordings/c2VydmVy/rec-1/RecordingStateChanged"


def test_events_have_unique_ids_and_parse_as_sdk_cloud_events() -> None:
    first, second = build("CallConnected", **IDS), build("CallConnected", **IDS)
    assert first["id"] != second["id"]
    parsed = CloudEvent.from_dict(first)
    assert parsed.type == "Microsoft.Communication.CallConnected"
    assert parsed.data["callConnectionId"] == IDS["call_connection_id"]


def test_bad_event_type_is_rejected() -> None:
    with pytest.raises(ValueError, match="not a Call Automation event type"):
        build("Microsoft.EventGrid.SubscriptionValidationEvent", **IDS)


def test_event_grid_event_shape() -> None:
    event = event_grid_event("IncomingCall", subject="/caller/a/recipient/b", data={"x": 1}, topic="/subscriptions/s")
    assert set(event) == {"id", "topic", "subject", "data", "eventType", "dataVersion", "metadataVersion", "eventTime"}
    assert event["eventType"] == "Microsoft.Communication.IncomingCall"
    assert (event["dataVersion"], event["metadataVersion"]) == ("1.0", "1")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", event["eventTime"])
    assert event["data"] == {"x": 1}
    full = event_grid_event("Microsoft.Communication.CallEnded", subject="call/x", data={}, topic="t")
    assert full["eventType"] == "Microsoft.Communication.CallEnded"


def test_result_messages_from_the_documented_tables() -> None:
    assert result_message(8531) == "Action completed, max digits received."
    assert result_message(8514) == "Action completed as stop tone was detected."
    assert result_message(8510) == "Action failed, initial silence time out reached."
    assert result_message(8565, code=401) == "Action failed, Azure AI services authentication error."
    assert result_message(9999, event_type="PlayFailed") == "Unknown internal server error"
    assert result_message(9999, event_type="RecognizeFailed") == "Unspecified error."
    assert result_for("RecognizeFailed", 8570) == (408, 8570, "Action failed, speech recognition timed out.")
    assert result_for("PlayCompleted", 0) == (200, 0, "Action completed successfully.")
    # 8532 is filed under RecognizeCompleted in the docs; asking for it as a failure still gets its message.
    assert result_for("RecognizeFailed", 8532) == (400, 8532, "Action failed, inter-digit silence time out reached.")
    assert "DiagCode: 0#7000" in CALL_ENDED_BY_APP_MESSAGE


def test_ambiguous_or_unknown_subcodes_raise() -> None:
    with pytest.raises(ValueError, match="several"):
        result_message(9999)
    with pytest.raises(ValueError, match="pass code"):
        result_for("PlayFailed", 8565)
    with pytest.raises(KeyError):
        result_message(1234)
