"""The emulator's request pipeline: HMAC, api-version, body parsing, unknown calls, repeatability."""

import json
import uuid

import pytest
import requests
from azure.communication.callautomation import CallAutomationClient, PhoneNumberIdentifier
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError, ResourceNotFoundError

from emulator.clock import Clock
from emulator.hmac_auth import authorization_header, content_hash
from emulator.server import EmulatorServer
from emulator.testing import CallbackRecorder

CALLER_ID = PhoneNumberIdentifier("+15550009999")
CUSTOMER = PhoneNumberIdentifier("+15551230000")


def signed_post(
    emulator: EmulatorServer, path: str, body: bytes, headers: dict | None = None, key: bytes | None = None
) -> requests.Response:
    date = Clock.utcnow().strftime("%a, %d %b %Y %H:%M:%S GMT")
    host = emulator.url.split("://", 1)[1]
    auth = authorization_header(key or emulator.config.key_bytes, "POST", path, date, host, body)
    all_headers = {
        "x-ms-date": date,
        "x-ms-content-sha256": content_hash(body),
        "Authorization": auth,
        "Content-Type": "application/json",
        **(headers or {}),
    }
    return requests.post(emulator.url + path, data=body, headers=all_headers, timeout=10)


def test_wrong_access_key_is_rejected_with_7509(emulator: EmulatorServer) -> None:
    wrong = CallAutomationClient(emulator.url, AzureKeyCredential("d3Jvbmcta2V5"))
    with pytest.raises(ClientAuthenticationError) as raised:
        wrong.create_call(CUSTOMER, "http://127.0.0.1:9/cb", source_caller_id_number=CALLER_ID)
    assert raised.value.status_code == 401
    assert raised.value.error.code == "7509"


def test_body_hash_mismatch_is_rejected(emulator: EmulatorServer) -> None:
    body = b'{"targets": []}'
    response = signed_post(emulator, "/calling/callConnections?api-version=2026-03-12", body)
    assert response.status_code == 400  # signature fine, body invalid
    date = response.request.headers["x-ms-date"]
    tampered = requests.post(
        emulator.url + "/calling/callConnections?api-version=2026-03-12",
        data=b'{"x":1}',
        headers={**response.request.headers, "x-ms-date": date},
        timeout=10,
    )
    assert tampered.status_code == 401
    assert tampered.json() == {"error": {"code": "7509", "message": "HMAC-SHA256 validation failed"}}


def test_unsupported_api_version_is_a_400_naming_it(emulator: EmulatorServer) -> None:
    response = signed_post(emulator, "/calling/callConnections?api-version=1999-01-01", b"{}")
    assert response.status_code == 400
    assert "api-version" in response.json()["error"]["message"]


def test_malformed_json_and_missing_fields_are_400_naming_the_field(emulator: EmulatorServer) -> None:
    broken = signed_post(emulator, "/calling/callConnections?api-version=2026-03-12", b"{not json")
    assert broken.status_code == 400
    assert "not valid JSON" in broken.json()["error"]["message"]
    missing = signed_post(
        emulator,
        "/calling/callConnections?api-version=2026-03-12",
        json.dumps({"targets": [{"rawId": "4:+15551230000"}]}).encode(),
    )
    assert missing.status_code == 400
    assert "callbackUri" in missing.json()["error"]["message"]


def test_unknown_call_is_404_8522(client: CallAutomationClient) -> None:
    with pytest.raises(ResourceNotFoundError) as raised:
        client.get_call_connection("no-such-call").get_call_properties()
    assert raised.value.error.code == "8522"


def test_repeated_request_id_has_one_effect(emulator: EmulatorServer, recorder: CallbackRecorder) -> None:
    body = json.dumps(
        {
            "targets": [{"rawId": "4:+15551230000", "phoneNumber": {"value": "+15551230000"}}],
            "sourceCallerIdNumber": {"value": "+15550009999"},
            "callbackUri": recorder.url,
        }
    ).encode()
    headers = {
        "Repeatability-Request-ID": str(uuid.uuid4()),
        "Repeatability-First-Sent": "Sun, 22 Nov 2026 01:37:39 GMT",
    }
    first = signed_post(emulator, "/calling/callConnections?api-version=2026-03-12", body, headers)
    second = signed_post(emulator, "/calling/callConnections?api-version=2026-03-12", body, headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["callConnectionId"] == second.json()["callConnectionId"]
    assert second.headers["Repeatability-Result"] == "accepted"
    assert len(emulator.backend.connections) == 1


def test_create_call_connects_and_signs_callbacks(
    emulator: EmulatorServer, client: CallAutomationClient, recorder: CallbackRecorder
) -> None:
    created = client.create_call(CUSTOMER, recorder.url, source_caller_id_number=CALLER_ID, operation_context="hi")
    assert created.call_connection_state == "connecting"
    connected = recorder.wait_for("CallConnected", call_connection_id=created.call_connection_id)
    assert connected["data"]["operationContext"] == "hi"
    recorder.wait_for("ParticipantsUpdated", call_connection_id=created.call_connection_id)
    config = emulator.config
    recorder.verify_tokens(emulator.backend.tokens.jwks(), config.jwt_audience, config.jwt_issuer)
    connection = client.get_call_connection(created.call_connection_id)
    connection.hang_up(is_for_everyone=True)
    recorder.wait_for("CallDisconnected", call_connection_id=created.call_connection_id)
    with pytest.raises(ResourceNotFoundError):
        connection.get_call_properties()
