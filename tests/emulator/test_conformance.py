"""The conformance checkers accept real ACS payloads (contract §3, §4) and builder output, and catch stray keys."""

import copy

import pytest

from emulator.events import callback_event, event_grid_event, recording_source, result_for
from tests.emulator.conformance import assert_callback_matches_sdk_model, assert_event_grid_event_shape, event_model

CALL_ID = "0b004880-e406-40bf-8384-a4042a72fecd"
SERVER_CALL_ID = (
    "aHR0cHM6Ly9hcGkuZmxpZ2h0cHJveHkuc2t5cGUuY29tL2FwaS92Mi9jcC9jb252LW1hc28tMDMtcHJvZC1ha3MuY29udi5za3lwZS5jb20vY29u"
    "di9HX082RnM5N0RFV2NIbUY2RHA1TVNnP2k9MTAtMTI4LTEzNi0xOTAmZT02MzkyNDc3MjQzMjUwODQyNjg="
)
CORRELATION_ID = "1b541d21-bd0e-4695-a9ce-bf3290a807bd"
TOPIC = (
    "/subscriptions/{subscription-id}/resourceGroups/{group-name}/providers/Microsoft.Communication"
    "/communicationServices/{communication-services-resource-name}"
)
USER_1 = "8:acs:6d889a0b-0000-0000-0000-000000000000_00000031-44bb-d6e6-23e1-6f8ded7cfe23"
USER_2 = "8:acs:6d889a0b-0000-0000-0000-000000000000_00000031-44bb-d83b-23e1-6f8ded7cfe24"
IDS = {"call_connection_id": CALL_ID, "server_call_id": SERVER_CALL_ID, "correlation_id": CORRELATION_ID}


def envelope(name: str, data: dict, source: str | None = None) -> dict:
    """The real envelope of contract §3.1 around real `data` (ellipses of the contract filled in)."""
    origin = source or f"calling/callConnections/{CALL_ID}"
    return {
        "id": "1fd82d0c-d2e2-431b-9d8c-73137cd44bb6",
        "source": origin,
        "type": f"Microsoft.Communication.{name}",
        "data": data,
        "time": "2026-09-15T11:36:07.9937574+00:00",
        "specversion": "1.0",
        "datacontenttype": "application/json",
        "subject": origin,
    }


def common(name: str, version: str = "2026-03-12") -> dict:
    return {
        "version": version,
        "callConnectionId": CALL_ID,
        "serverCallId": SERVER_CALL_ID,
        "correlationId": CORRELATION_ID,
        "publicEventType": f"Microsoft.Communication.{name}",
    }


def user(raw_id: str) -> dict:
    return {"rawId": raw_id, "kind": "communicationUser", "communicationUser": {"id": raw_id}}


RECORDING_ID = (
    "eyJQbGF0Zm9ybUVuZHBvaW50SWQiOiIwNTAwMjM4MC1hYWFlLTRiMDUtYWMyOS0wY2FiNWZlZjRlMjkiLCJSZXNvdXJjZVNwZWNpZmljSWQiOiJj"
    "NmI3MDdiMC1iMGZhLTRhMGYtYTNmMy0xMDc2MWFiNmJhNDMifQ"
)
RECORDING_SOURCE = f"calling/recordings/{SERVER_CALL_ID}/{RECORDING_ID}/RecordingStateChanged"

REAL_CALLBACKS = {
    "CallConnected": envelope(
        "CallConnected", {"resultInformation": {"code": 200, "subCode": 0, "message": ""}, **common("CallConnected")}
    ),
    "ParticipantsUpdated": envelope(
        "ParticipantsUpdated",
        {
            "participants": [
                {"identifier": user(USER_1), "isMuted": False, "isOnHold": False},
                {"identifier": user(USER_2), "isMuted": False, "isOnHold": True},
            ],
            "sequenceNumber": 4,
            "resultInformation": {"code": 200, "subCode": 0, "message": ""},
            **common("ParticipantsUpdated"),
        },
    ),
    "PlayFailed": envelope(
        "PlayFailed",
        {
            "failedPlaySourceIndex": 0,
            "resultInformation": {"code": 400, "subCode": 8535, "message": "Action failed, file format is invalid."},
            **common("PlayFailed"),
        },
    ),
    "CallDisconnected": envelope(
        "CallDisconnected",
        {
            "resultInformation": {
                "code": 200,
                "subCode": 7000,
                "message": "Call was ended by Azure Communication Service Call Automation API or a server bot. "
                "DiagCode: 0#7000.@",
            },
            **common("CallDisconnected"),
        },
    ),
    "PlayCompleted": envelope(
        "PlayCompleted",
        {
            "resultInformation": {"code": 200, "subCode": 0, "message": "Action completed successfully."},
            **common("PlayCompleted", "2024-04-15"),
        },
    ),
    "CancelAddParticipantSucceeded": envelope(
        "CancelAddParticipantSucceeded",
        {
            "invitationId": "d0a3f609-8237-4b80-8e60-b854bca65bb4",
            **common("CancelAddParticipantSucceeded", "2024-04-15"),
        },
    ),
    "RecordingStateChanged": envelope(
        "RecordingStateChanged",
        {
            "eventSource": RECORDING_SOURCE,
            "recordingId": RECORDING_ID,
            "state": "active",
            "startDateTime": "2025-03-17T05:20:58.2137966+00:00",
            "recordingKind": "azureCommunicationServices",
            "resultInformation": {"code": 200, "subCode": 0, "message": ""},
            **common("RecordingStateChanged", "2024-09-01-preview"),
        },
        source=RECORDING_SOURCE,
    ),
    "MediaStreamingStarted": envelope(
        "MediaStreamingStarted",
        {
            "mediaStreamingUpdate": {
                "contentType": "Audio",
                "mediaStreamingStatus": "mediaStreamingStarted",
                "mediaStreamingStatusDetails": "subscriptionStarted",
            },
            "resultInformation": {"code": 200, "subCode": 0, "message": "Action completed successfully."},
            **common("MediaStreamingStarted", "2025-05-15"),
        },
    ),
    "TranscriptionUpdated": envelope(
        "TranscriptionUpdated",
        {
            "transcriptionUpdate": {
                "transcriptionStatus": "transcriptionUpdated",
                "transcriptionStatusDetails": "transcriptionLocaleUpdated",
            },
            "resultInformation": {"code": 200, "subCode": 0, "message": "Action completed successfully."},
            **common("TranscriptionUpdated", "2024-09-01-preview"),
        },
    ),
    "ContinuousDtmfRecognitionStopped": envelope(
        "ContinuousDtmfRecognitionStopped", common("ContinuousDtmfRecognitionStopped", "2023-10-03-preview")
    ),
}

# 2022-era payloads (contract §3.3) had neither version nor publicEventType.
OLD_RECOGNIZE = envelope(
    "RecognizeCompleted",
    {
        "operationContext": "267e33a9-2a2c-4e5b-9f5e-9d2f1d8c0a11",
        "resultInformation": {"code": 200, "subCode": 8531, "message": "Action completed, max digits received."},
        "recognitionType": "dtmf",
        "dtmfResult": {"tones": ["nine", "eight", "zero", "five", "two"]},
        "callConnectionId": CALL_ID,
        "serverCallId": SERVER_CALL_ID,
        "correlationId": CORRELATION_ID,
    },
)


@pytest.mark.parametrize("name", sorted(REAL_CALLBACKS))
def test_real_captured_callbacks_pass(name: str) -> None:
    assert_callback_matches_sdk_model(REAL_CALLBACKS[name])


def test_old_payload_without_envelope_extras_passes_only_when_allowed() -> None:
    assert_callback_matches_sdk_model(OLD_RECOGNIZE, require_envelope_extras=False)
    with pytest.raises(AssertionError, match="lacks version"):
        assert_callback_matches_sdk_model(OLD_RECOGNIZE)


def build(name: str, **kwargs: object) -> dict:
    return callback_event(name, **IDS, api_version="2026-03-12", **kwargs)  # type: ignore[arg-type]


BUILT_CALLBACKS = {
    "CallConnected": build("CallConnected"),
    "AddParticipantSucceeded": build(
        "AddParticipantSucceeded", data={"participant": user(USER_1)}, operation_context="add"
    ),
    "CallTransferAccepted": build(
        "CallTransferAccepted",
        data={
            "transferTarget": {
                "rawId": "4:+15551230000",
                "kind": "phoneNumber",
                "phoneNumber": {"value": "+15551230000"},
            },
            "transferee": user(USER_2),
        },
    ),
    "RecognizeCompleted(choices)": build(
        "RecognizeCompleted",
        data={"recognitionType": "choices", "choiceResult": {"label": "Confirm", "recognizedPhrase": None}},
        result=result_for("RecognizeCompleted", 8533),
    ),
    "RecognizeCompleted(speech)": build(
        "RecognizeCompleted",
        data={"recognitionType": "speech", "speechResult": {"speech": "agent please", "confidence": 0.93}},
        result=result_for("RecognizeCompleted", 8569),
    ),
    "ContinuousDtmfRecognitionToneReceived": build(
        "ContinuousDtmfRecognitionToneReceived", data={"sequenceId": 1, "tone": "five"}
    ),
    "CancelAddParticipantSucceeded": build("CancelAddParticipantSucceeded", data={"invitationId": "i"}, result=None),
    "RecordingStateChanged": build(
        "RecordingStateChanged",
        data={
            "recordingId": "rec-1",
            "state": "inactive",
            "startDateTime": "2026-01-01T00:00:00.0000000+00:00",
            "recordingKind": "azureCommunicationServices",
        },
        source=recording_source(SERVER_CALL_ID, "rec-1"),
    ),
}


@pytest.mark.parametrize("name", sorted(BUILT_CALLBACKS))
def test_builder_output_passes(name: str) -> None:
    assert_callback_matches_sdk_model(BUILT_CALLBACKS[name])


def mutated(event: dict, change: object) -> dict:
    copied = copy.deepcopy(event)
    change(copied)  # type: ignore[operator]
    return copied


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (mutated(REAL_CALLBACKS["CallConnected"], lambda e: e["data"].update(callId="x")), "unexpected key 'callId'"),
        (
            mutated(REAL_CALLBACKS["ParticipantsUpdated"], lambda e: e["data"].update(operationContext="x")),
            "ParticipantsUpdated data: unexpected key 'operationContext'",
        ),
        (
            mutated(REAL_CALLBACKS["ParticipantsUpdated"], lambda e: e["data"]["participants"][0].update(muted=True)),
            r"participants\[0\]: unexpected key 'muted'",
        ),
        (
            mutated(
                REAL_CALLBACKS["ParticipantsUpdated"],
                lambda e: e["data"]["participants"][1]["identifier"]["communicationUser"].update(name="x"),
            ),
            "communicationUser: unexpected key 'name'",
        ),
        (
            mutated(REAL_CALLBACKS["PlayFailed"], lambda e: e["data"]["resultInformation"].update(sub_code=1)),
            "resultInformation: unexpected key 'sub_code'",
        ),
        (
            mutated(REAL_CALLBACKS["PlayFailed"], lambda e: e["data"].update(failedPlaySourceIndex="0")),
            "failedPlaySourceIndex: expected an integer",
        ),
        (
            mutated(REAL_CALLBACKS["ParticipantsUpdated"], lambda e: e["data"]["participants"][0].update(isMuted=0)),
            "isMuted: expected a boolean",
        ),
        (
            mutated(REAL_CALLBACKS["MediaStreamingStarted"], lambda e: e["data"]["mediaStreamingUpdate"].update(x=1)),
            "mediaStreamingUpdate: unexpected key 'x'",
        ),
        (mutated(REAL_CALLBACKS["CallConnected"], lambda e: e["data"].pop("resultInformation")), "lacks resultInfo"),
        (mutated(REAL_CALLBACKS["CallConnected"], lambda e: e["data"].pop("correlationId")), "lacks correlationId"),
        (mutated(REAL_CALLBACKS["CallConnected"], lambda e: e.update(extra=1)), "unexpected keys \\['extra'\\]"),
        (mutated(REAL_CALLBACKS["CallConnected"], lambda e: e.pop("datacontenttype")), "envelope lacks"),
        (
            mutated(REAL_CALLBACKS["CallConnected"], lambda e: e["data"].update(publicEventType="X")),
            "publicEventType",
        ),
        (
            mutated(REAL_CALLBACKS["CallConnected"], lambda e: e.update(subject="calling/callConnections/other")),
            "!= subject",
        ),
        (
            mutated(
                REAL_CALLBACKS["CallConnected"],
                lambda e: e.update(
                    source="calling/callConnections/x/CallConnected", subject="calling/callConnections/x/CallConnected"
                ),
            ),
            "source",
        ),
        (
            mutated(REAL_CALLBACKS["CallConnected"], lambda e: e.update(time="2026-09-15T11:36:07Z")),
            "7 fractional digits",
        ),
        (
            mutated(REAL_CALLBACKS["CallConnected"], lambda e: e.update(type="Microsoft.Communication.CallRinging")),
            "no Call Automation event model",
        ),
        (
            mutated(
                REAL_CALLBACKS["CallConnected"],
                lambda e: e.update(type="Microsoft.Communication.CallConnectionProperties"),
            ),
            "no Call Automation event model",
        ),
    ],
)
def test_callback_deviations_fail(event: dict, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        assert_callback_matches_sdk_model(event)


def test_event_model_lookup() -> None:
    assert event_model("RecognizeCompleted").__name__ == "RecognizeCompleted"
    with pytest.raises(AssertionError):
        event_model("CallParticipant")


# --- Event Grid -------------------------------------------------------------------------------------------------


def grid(event_type: str, subject: str, data: dict, event_time: str = "2023-04-04T17:18:42.5542219Z") -> dict:
    return {
        "id": "e80026e7-e298-46ba-bc42-dab0eda92581",
        "topic": TOPIC,
        "subject": subject,
        "data": data,
        "eventType": f"Microsoft.Communication.{event_type}",
        "dataVersion": "1.0",
        "metadataVersion": "1",
        "eventTime": event_time,
    }


STARTED_BY = {
    "communicationIdentifier": {
        "rawId": "8:acs:bc360ba8-d29b-4ef2-b698-769ebef85521_0000000c-1fb9-4878-07fd-0848220077e1",
        "communicationUser": {"id": "8:acs:bc360ba8-d29b-4ef2-b698-769ebef85521_0000000c-1fb9-4878-07fd-0848220077e1"},
    },
    "role": "{role}",
}
CALLING_COMMON = {
    "startedBy": STARTED_BY,
    "serverCallId": "{serverCallId}",
    "group": {"id": "00000000-0000-0000-0000-000000000000"},
    "room": {"id": "{roomId}"},
    "isTwoParty": False,
    "correlationId": "{correlationId}",
    "isRoomsCall": True,
}

REAL_GRID_EVENTS = {
    "IncomingCall(doc)": grid(
        "IncomingCall",
        "/caller/{caller-id}/recipient/{recipient-id}",
        {
            "to": {
                "kind": "communicationUser",
                "rawId": "{recipient-id}",
                "communicationUser": {"id": "{recipient-id}"},
            },
            "from": {"kind": "communicationUser", "rawId": "{caller-id}", "communicationUser": {"id": "{caller-id}"}},
            "serverCallId": "{server-call-id}",
            "callerDisplayName": "VOIP Caller",
            "customContext": {
                "sipHeaders": {
                    "userToUser": "616d617a6f6e5f6368696;encoding=hex",
                    "X-MS-Custom-myheader1": "35567842",
                    "X-MS-Custom-myheader2": "customsipheadervalue",
                },
                "voipHeaders": {"customHeader": "customValue"},
            },
            "incomingCallContext": "{incoming-call-contextValue}",
            "onBehalfOfCallee": {
                "kind": "communicationUser",
                "rawId": "{caller-id}",
                "communicationUser": {"id": "{caller-id}"},
            },
            "correlationId": "correlationId",
        },
    ),
    "IncomingCall(pstn)": grid(
        "IncomingCall",
        "/caller/4:+18447649276/recipient/4:+18662315126",
        {
            "to": {"kind": "phoneNumber", "rawId": "4:+18662315126", "phoneNumber": {"value": "+18662315126"}},
            "from": {"kind": "phoneNumber", "rawId": "4:+18447649276", "phoneNumber": {"value": "+18447649276"}},
            "serverCallId": SERVER_CALL_ID,
            "callerDisplayName": "",
            "incomingCallContext": "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJjYyI6Ikg0c0lB.",
            "correlationId": "19e93701-4bca-47a3-ad3a-72dd9092ab89",
        },
    ),
    "CallStarted": grid(
        "CallStarted",
        "call/{serverCallId}/startedBy/8:acs:bc360ba8-d29b-4ef2-b698-769ebef85521_0000000c-1fb9-4878-07fd-0848220077e1",
        CALLING_COMMON,
        "2021-09-22T17:02:38.6905856Z",
    ),
    "CallEnded": grid(
        "CallEnded",
        "call/{serverCallId}",
        {
            **CALLING_COMMON,
            "reason": {"code": 1, "subCode": 1, "phrase": "ReasonCode"},
            "callDurationInSeconds": 10,
            "endedBy": {
                "communicationIdentifier": STARTED_BY["communicationIdentifier"],
                "type": "Participant",
                "name": "x",
            },
            "isTwoParty": None,
        },
    ),
    "CallParticipantRemoved": grid(
        "CallParticipantRemoved",
        "call/{serverCallId}/participant/8:acs:x",
        {
            **CALLING_COMMON,
            "user": STARTED_BY,
            "reason": {"code": 1, "subCode": 1, "phrase": "Reason Code"},
            "displayName": "Bob",
            "participantId": "a1b2",
            "userAgent": "ACS",
        },
    ),
    "RecordingFileStatusUpdated": grid(
        "RecordingFileStatusUpdated",
        "/recording/call/{call-id}/serverCallId/{server-call-id}/recordingId/{recording-id}",
        {
            "recordingStorageInfo": {
                "recordingChunks": [
                    {
                        "documentId": "0-eus-d12-801b3f3fc462fe8a01e6810cbff729b8",
                        "index": 0,
                        "endReason": "SessionEnded",
                        "contentLocation": "https://storage.asm.skype.com/v1/objects/0-eus-d12-801b3f3fc462fe8a01e6810cbff729b8/content/video",
                        "metadataLocation": "https://storage.asm.skype.com/v1/objects/0-eus-d12-801b3f3fc462fe8a01e6810cbff729b8/content/acsmetadata",
                        "deleteLocation": "https://us-storage.asm.skype.com/v1/objects/0-eus-d1-83e9599991e21ad21220427d78fbf558",
                    }
                ]
            },
            "recordingStartTime": "2021-07-27T15:20:23.6089755Z",
            "recordingDurationMs": 6620,
            "sessionEndReason": "CallEnded",
            "recordingContentType": "Audio",
            "recordingChannelType": "Mixed",
            "recordingFormatType": "Mp3",
        },
        "2021-07-27T15:20:34.2199328Z",
    ),
}


@pytest.mark.parametrize("name", sorted(REAL_GRID_EVENTS))
def test_documented_event_grid_events_pass(name: str) -> None:
    assert_event_grid_event_shape(REAL_GRID_EVENTS[name])


def test_builder_event_grid_event_passes() -> None:
    data = copy.deepcopy(REAL_GRID_EVENTS["CallParticipantRemoved"]["data"])
    event = event_grid_event("CallParticipantAdded", subject="call/s/participant/8:acs:x", data=data, topic=TOPIC)
    del event["data"]["reason"]
    assert_event_grid_event_shape(event)


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        ("IncomingCall(pstn)", lambda e: e["data"].update(callerId="x"), "unexpected key 'callerId'"),
        (
            "IncomingCall(pstn)",
            lambda e: e["data"].pop("incomingCallContext"),
            "lacks required key 'incomingCallContext'",
        ),
        ("IncomingCall(pstn)", lambda e: e["data"]["to"]["phoneNumber"].update(number="1"), "unexpected key 'number'"),
        ("IncomingCall(doc)", lambda e: e["data"]["customContext"].update(headers={}), "unexpected key 'headers'"),
        ("CallStarted", lambda e: e["data"].pop("startedBy"), "lacks required key 'startedBy'"),
        ("CallEnded", lambda e: e["data"].update(durationOfCall=49.7), "unexpected key 'durationOfCall'"),
        ("CallParticipantRemoved", lambda e: e["data"]["user"].update(kind="x"), "unexpected key 'kind'"),
        (
            "RecordingFileStatusUpdated",
            lambda e: e["data"]["recordingStorageInfo"]["recordingChunks"][0].pop("contentLocation"),
            "lacks required key 'contentLocation'",
        ),
        ("RecordingFileStatusUpdated", lambda e: e["data"].update(recordingDurationMs="6620"), "expected an integer"),
        ("CallStarted", lambda e: e.update(eventTime="2021-09-22T17:02:38.690Z"), "eventTime"),
        ("CallStarted", lambda e: e.update(source="x"), "unexpected keys"),
        ("CallStarted", lambda e: e.update(eventType="Microsoft.Communication.CallRinging"), "unknown ACS Event Grid"),
        ("CallStarted", lambda e: e.update(dataVersion="2"), "dataVersion"),
    ],
)
def test_event_grid_deviations_fail(name: str, change: object, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        assert_event_grid_event_shape(mutated(REAL_GRID_EVENTS[name], change))
