"""Verify the JWT ACS signs every callback with: RS256, issuer, audience, lifetime, keys from its JWKS.

Decisions: a missing, malformed, expired or wrongly signed token is 401 (Unauthorized). When the OpenID
configuration or JWKS cannot be fetched the token cannot be judged, so the answer is 503
(DependencyUnavailable) and ACS retries later, rather than 401 which would reject genuine events.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import jwt
from jwt.algorithms import RSAAlgorithm

from shared.errors import DependencyUnavailable, Unauthorized

logger = logging.getLogger(__name__)

# An unknown kid triggers at most one JWKS refetch per interval, so forged kids cannot hammer the key endpoint.
REFETCH_INTERVAL_SECONDS = 60.0
KEYS_TTL_SECONDS = 24 * 3600.0
LEEWAY_SECONDS = 30


class CallbackVerifier:
    """Checks `Authorization: Bearer <jwt>` against the keys published at openid_config_url."""

    def __init__(
        self,
        *,
        audience: str,
        issuer: str,
        openid_config_url: str,
        ca_bundle: str | None = None,
        timeout_seconds: float = 5.0,
    ) -> None:
        self.audience = audience
        self.issuer = issuer
        self.openid_config_url = openid_config_url
        # A local emulator serving TLS with its own CA needs that CA to be trusted for the key fetch too.
        self._ssl: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._refetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def verify(self, authorization: str | None) -> Mapping[str, Any]:
        """The token's claims; raises Unauthorized or DependencyUnavailable."""
        token = _bearer_token(authorization)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"malformed token: {exc}") from exc
        if header.get("alg") != "RS256":
            raise Unauthorized(f"token algorithm must be RS256, not {header.get('alg')}")
        key = await self._key(header.get("kid"))
        try:
            return jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"invalid token: {exc}") from exc

    async def _key(self, kid: str | None) -> Any:
        if not kid:
            raise Unauthorized("token has no kid")
        if kid in self._keys and not self._expired():
            return self._keys[kid]
        async with self._lock:
            if self._expired():
                await self._load_keys()
            elif kid not in self._keys and time.monotonic() - self._refetched_at >= REFETCH_INTERVAL_SECONDS:
                # Keys rotate: an unknown kid earns one refetch, but not more than one per interval.
                self._refetched_at = time.monotonic()
                await self._load_keys()
        if kid not in self._keys:
            raise Unauthorized(f"token signed with unknown key {kid}")
        return self._keys[kid]

    async def _load_keys(self) -> None:
        self._keys = await self._fetch_keys()
        self._fetched_at = time.monotonic()

    def _expired(self) -> bool:
        return time.monotonic() - self._fetched_at > KEYS_TTL_SECONDS

    async def _fetch_keys(self) -> dict[str, Any]:
        try:
            connector = aiohttp.TCPConnector(ssl=self._ssl)
            async with aiohttp.ClientSession(timeout=self._timeout, connector=connector) as session:
                config = await _get_json(session, self.openid_config_url)
                jwks = await _get_json(session, config["jwks_uri"])
        except (aiohttp.ClientError, TimeoutError, KeyError, TypeError, ValueError) as exc:
            logger.error("Cannot fetch callback signing keys from %s: %s", self.openid_config_url, exc)
            raise DependencyUnavailable("callback signing keys are unavailable; retry later") from exc
        keys = {}
        for item in jwks.get("keys", []):
            if item.get("kty") == "RSA" and item.get("kid"):
                keys[item["kid"]] = RSAAlgorithm.from_jwk(json.dumps(item))
        logger.info("Loaded %d callback signing key(s)", len(keys))
        return keys


async def _get_json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json(content_type=None)


def _bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token in the Authorization header")
    return token.strip()
