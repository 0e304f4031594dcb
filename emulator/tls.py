"""Opt-in HTTPS for the emulator: a self-signed certificate for 127.0.0.1/localhost and the server SSL context.

`CallAutomationClient.from_connection_string()` always talks HTTPS (contract §0.1), so an app that uses a connection
string needs the emulator on TLS, and the SDK client must trust the certificate this module writes, e.g.
`CallAutomationClient.from_connection_string(cs, connection_verify=str(cert_path))`, or the environment variable
`REQUESTS_CA_BUNDLE=<cert_path>`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_HOSTS = ("127.0.0.1", "localhost")
CERT_FILE = "emulator-cert.pem"
KEY_FILE = "emulator-key.pem"
VALIDITY_DAYS = 365
# Regenerate a little before expiry so a long test run never straddles the moment the certificate expires.
RENEW_BEFORE = dt.timedelta(days=1)


def _san_entries(hosts: list[str]) -> list[x509.GeneralName]:
    entries: list[x509.GeneralName] = []
    for host in hosts:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            entries.append(x509.DNSName(host))
    return entries


def _public_der(public_key: PublicKeyTypes) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _reusable(cert_path: Path, key_path: Path, hosts: list[str]) -> bool:
    if not (cert_path.is_file() and key_path.is_file()):
        return False
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, TypeError, x509.ExtensionNotFound):
        return False
    if _public_der(cert.public_key()) != _public_der(key.public_key()):
        return False
    if cert.not_valid_after_utc - RENEW_BEFORE <= dt.datetime.now(dt.UTC):
        return False
    return all(entry in sans for entry in _san_entries(hosts))


def ensure_certificate(directory: Path, hosts: Sequence[str] = DEFAULT_HOSTS) -> tuple[Path, Path]:
    """(cert_path, key_path) of a self-signed CA-capable certificate for `hosts`; created once, then reused until
    it nears expiry or stops covering `hosts`. Clients trust cert_path directly (it is its own CA)."""
    hosts = list(hosts)
    if not hosts:
        raise ValueError("at least one host is required")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / CERT_FILE, directory / KEY_FILE
    if _reusable(cert_path, key_path, hosts):
        key_path.chmod(0o600)
        return cert_path, key_path

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ACS Call Automation emulator (local)")])
    now = dt.datetime.now(dt.UTC)
    public_key = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALIDITY_DAYS))
        .add_extension(x509.SubjectAlternativeName(_san_entries(hosts)), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Create the key file with 0600 from the start so the private key is never readable by others, even briefly.
    if key_path.exists():
        key_path.unlink()
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_pem)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def server_ssl_context(cert: Path, key: Path) -> ssl.SSLContext:
    """An SSL context for an aiohttp server presenting the certificate from ensure_certificate()."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certfile=str(cert), keyfile=str(key))
    return context


def client_ssl_context(trusted: Sequence[Path] = ()) -> ssl.SSLContext:
    """The context the emulator calls apps with: the system's CAs plus `trusted` (an app's own certificate)."""
    context = ssl.create_default_context()
    for path in trusted:
        try:
            context.load_verify_locations(cafile=str(path))
        except (ssl.SSLError, OSError) as error:
            raise ValueError(f"--trust-ca {path}: not a PEM certificate ({error})") from None
    return context


def client_exports(cert: Path, connection_string: str) -> str:
    """What to export so an unchanged app's SDK, built from a connection string, trusts the emulator."""
    cert = cert.resolve()
    return "\n".join(
        (
            f"export REQUESTS_CA_BUNDLE={cert}   # sync SDK clients (requests)",
            f"export SSL_CERT_FILE={cert}        # aio SDK clients (aiohttp)",
            f'export ACS_CONNECTION_STRING="{connection_string}"',
        )
    )
