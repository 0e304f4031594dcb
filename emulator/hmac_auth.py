"""HMAC-SHA256 request signing as the SDK's HMACCredentialsPolicy does it, checked on every REST request."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote

from aiohttp import web

from .clock import Clock
from .errors import hmac_failed

MAX_CLOCK_SKEW_SECONDS = 15 * 60
SIGNED_HEADERS = "x-ms-date;host;x-ms-content-sha256"


def content_hash(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def signature(key: bytes, verb: str, path_and_query: str, date: str, host: str, body_hash: str) -> str:
    string_to_sign = f"{verb}\n{path_and_query}\n{date};{host};{body_hash}"
    return base64.b64encode(hmac.new(key, string_to_sign.encode(), hashlib.sha256).digest()).decode()


def authorization_header(key: bytes, verb: str, path_and_query: str, date: str, host: str, body: bytes) -> str:
    """The Authorization value the SDK would send; used by tests and the CLI to sign raw requests."""
    sig = signature(key, verb, path_and_query, date, host, content_hash(body))
    return f"HMAC-SHA256 SignedHeaders={SIGNED_HEADERS}&Signature={sig}"


def verify(request: web.Request, body: bytes, key: bytes) -> None:
    """Raise the 401/7509 error unless the request carries a valid signature over its exact bytes."""
    auth = request.headers.get("Authorization", "")
    date = request.headers.get("x-ms-date", "")
    claimed_hash = request.headers.get("x-ms-content-sha256", "")
    if not auth.startswith("HMAC-SHA256 ") or not date or not claimed_hash:
        raise hmac_failed()
    if not hmac.compare_digest(claimed_hash, content_hash(body)):
        raise hmac_failed()
    try:
        sent = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        raise hmac_failed() from None
    if abs((Clock.utcnow() - sent).total_seconds()) > MAX_CLOCK_SKEW_SECONDS:
        raise hmac_failed()
    params = dict(part.split("=", 1) for part in auth[len("HMAC-SHA256 ") :].split("&") if "=" in part)
    if params.get("SignedHeaders", "").lower() != SIGNED_HEADERS:
        raise hmac_failed()
    sent_signature = params.get("Signature", "")
    for path in signed_path_candidates(request.raw_path):
        expected = signature(key, request.method.upper(), path, date, request.host, claimed_hash)
        if hmac.compare_digest(sent_signature, expected):
            return
    raise hmac_failed()


_PARTICIPANT_SEGMENT = re.compile(r"(/participants/)([^/?]+)")


def signed_path_candidates(raw_path: str) -> list[str]:
    """The request-target as sent, and as the SDK signed it when an HTTP layer decoded part of it.

    The SDK signs participant raw ids percent-encoded (`8%3Aacs%3A...`), but aiohttp's URL handling in the aio
    client sends them decoded (`8:acs:...`), so the signed form of that one segment is rebuilt too.
    """
    requoted = _PARTICIPANT_SEGMENT.sub(lambda m: m.group(1) + quote(unquote(m.group(2)), safe=""), raw_path)
    return [raw_path] if requoted == raw_path else [raw_path, requoted]
