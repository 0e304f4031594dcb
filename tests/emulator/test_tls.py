"""Opt-in TLS: the generated certificate serves 127.0.0.1 to aiohttp and to the real SDK via connection_verify."""

import asyncio
import base64
import datetime as dt
import ssl
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from azure.communication.callautomation import CallAutomationClient
from cryptography import x509

from emulator.tls import client_exports, client_ssl_context, ensure_certificate, server_ssl_context

CALL_PROPERTIES = {
    "callConnectionId": "x",
    "serverCallId": "c2VydmVyLWNhbGw=",
    "targets": [{"kind": "phoneNumber", "rawId": "4:+15551230000", "phoneNumber": {"value": "+15551230000"}}],
    "callConnectionState": "connected",
    "callbackUri": "https://127.0.0.1/api/callbacks",
    "correlationId": "1b541d21-bd0e-4695-a9ce-bf3290a807bd",
}


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[tuple[str, Path, list[web.Request]]]:
    cert, key = ensure_certificate(tmp_path)
    requests: list[web.Request] = []

    async def properties(request: web.Request) -> web.Response:
        requests.append(request)
        return web.json_response({**CALL_PROPERTIES, "callConnectionId": request.match_info["id"]})

    app = web.Application()
    app.router.add_get("/calling/callConnections/{id}", properties)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ssl_context(cert, key))
    await site.start()
    yield f"https://127.0.0.1:{runner.addresses[0][1]}", cert, requests
    await runner.cleanup()


def test_certificate_covers_loopback_and_is_a_ca(tmp_path: Path) -> None:
    cert_path, key_path = ensure_certificate(tmp_path / "certs")
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=300)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600


def test_certificate_is_reused_until_it_no_longer_fits(tmp_path: Path) -> None:
    first = ensure_certificate(tmp_path)
    pem = first[0].read_bytes()
    assert ensure_certificate(tmp_path) == first
    assert first[0].read_bytes() == pem
    ensure_certificate(tmp_path, ["127.0.0.1", "localhost", "emulator.asm.skype.com"])
    assert first[0].read_bytes() != pem
    sans = x509.load_pem_x509_certificate(first[0].read_bytes()).extensions
    names = sans.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert "emulator.asm.skype.com" in names


def test_corrupt_certificate_is_replaced(tmp_path: Path) -> None:
    cert_path, _ = ensure_certificate(tmp_path)
    cert_path.write_text("not a certificate")
    cert_path, _ = ensure_certificate(tmp_path)
    x509.load_pem_x509_certificate(cert_path.read_bytes())


async def test_aiohttp_client_trusting_the_certificate_connects(tls_server: tuple[str, Path, list]) -> None:
    url, cert, _ = tls_server
    trusting = ssl.create_default_context(cafile=str(cert))
    async with aiohttp.ClientSession() as session:
        async with session.get(url + "/calling/callConnections/abc", ssl=trusting) as response:
            assert response.status == 200
            assert (await response.json())["callConnectionId"] == "abc"
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await session.get(url + "/calling/callConnections/abc", ssl=ssl.create_default_context())


async def test_sdk_from_connection_string_reaches_the_tls_server(tls_server: tuple[str, Path, list]) -> None:
    url, cert, requests = tls_server
    access_key = base64.b64encode(b"emulator-access-key").decode()
    client = CallAutomationClient.from_connection_string(
        f"endpoint={url}/;accesskey={access_key}", connection_verify=str(cert)
    )
    # The SDK client is synchronous; run it off the event loop that serves the TLS endpoint.
    properties = await asyncio.to_thread(lambda: client.get_call_connection("x").get_call_properties())
    assert properties.call_connection_id == "x"
    assert properties.call_connection_state == "connected"
    assert properties.targets[0].raw_id == "4:+15551230000"
    assert requests[0].headers["Authorization"].startswith("HMAC-SHA256 ")


async def test_trust_ca_lets_the_emulator_call_an_app_serving_its_own_certificate(
    tls_server: tuple[str, Path, list], tmp_path: Path
) -> None:
    url, cert, _ = tls_server
    connector = aiohttp.TCPConnector(ssl=client_ssl_context([cert]))
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.get(url + "/calling/callConnections/a") as response,
    ):
        assert response.status == 200
    with pytest.raises(ValueError, match="not a PEM certificate"):
        (tmp_path / "junk.pem").write_text("junk")
        client_ssl_context([tmp_path / "junk.pem"])


def test_exports_name_the_certificate_for_both_sdk_flavours(tmp_path: Path) -> None:
    cert, _ = ensure_certificate(tmp_path)
    printed = client_exports(cert, "endpoint=https://127.0.0.1:8765/;accesskey=a2V5")
    assert f"export REQUESTS_CA_BUNDLE={cert.resolve()}" in printed
    assert f"export SSL_CERT_FILE={cert.resolve()}" in printed
    assert 'export ACS_CONNECTION_STRING="endpoint=https://127.0.0.1:8765/;accesskey=a2V5"' in printed
