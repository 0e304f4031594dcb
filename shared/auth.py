"""Verify the JWT ACS signs every callback with, and refuse a token used twice for different requests.

What ACS signs (contract §5): a new RS256 token per event, `iss` (ACS), `aud` (the resource's immutable id),
a 5-minute lifetime, `kid` naming a key of its JWKS. Nothing in the token covers the request body, so on its
own a token captured in flight would authorise any body for its whole lifetime. What this module adds:

- a maximum accepted lifetime (CALLBACK_JWT_MAX_LIFETIME_SECONDS, `exp - iat`): a token that outlives ACS's
  own is refused;
- a replay cache: the first request a token (its `jti`, else its signature) authorises binds it to that body's
  SHA-256 for the token's lifetime; the same token with another body is refused. The same token with the same
  body is a redelivery, which the event markers of shared/state.py turn into a no-op. The cache lives in the
  instance's memory (no storage round trip per callback), so across N instances a captured token could be
  presented once more to each other instance, still only within its lifetime;
- a key refresh no unauthenticated request can exhaust: a token with an unknown `kid` waits for a JWKS fetch
  that starts after it arrived. Fetches start at most once per JWKS_REFETCH_INTERVAL_SECONDS and are shared by
  every waiting request, so forged kids cost the key endpoint one request per interval and never stop a genuine
  token signed with a newly rotated key from being accepted (within one interval).

Failures: a missing, malformed, expired, replayed or wrongly signed token is 401 (Unauthorized). When the keys
cannot be fetched the token cannot be judged, so the answer is 503 (DependencyUnavailable) and ACS retries later.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import heapq
import json
import logging
import ssl
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import jwt
from jwt.algorithms import RSAAlgorithm

from shared import guarded_json
from shared.errors import BadRequest, DependencyUnavailable, Unauthorized

logger = logging.getLogger(__name__)

JWKS_REFETCH_INTERVAL_SECONDS = 2.0
KEYS_TTL_SECONDS = 24 * 3600.0
LEEWAY_SECONDS = 30
DEFAULT_MAX_LIFETIME_SECONDS = 600
# Genuine tokens only enter the cache (forged ones fail before), so this bounds memory under real load alone:
# 100,000 entries is about 160 callbacks a second per instance over a 10-minute token lifetime.
REPLAY_CACHE_ENTRIES = 100_000
MAX_KID_CHARS = 256
# A JWT header is alg, kid, typ and perhaps x5t: a few hundred bytes; an Authorization header is at most 8 KB.
MAX_HEADER_BYTES = 4096


class ReplayCache:
    """Which body each token has authorised, until the token expires; in memory, per instance."""

    def __init__(self, max_entries: int = REPLAY_CACHE_ENTRIES) -> None:
        self.max_entries = max_entries
        self._bodies: dict[str, bytes] = {}
        self._expiries: list[tuple[float, str]] = []

    def __len__(self) -> int:
        return len(self._bodies)

    def admit(self, token_id: str, body_digest: bytes, *, expires_at: float, now: float) -> bool:
        """True when token_id is new (now bound to body_digest) or was bound to this same body."""
        self._forget_expired(now)
        bound = self._bodies.get(token_id)
        if bound is not None:
            return bound == body_digest
        if len(self._bodies) >= self.max_entries:
            _, oldest = heapq.heappop(self._expiries)
            self._bodies.pop(oldest, None)
        self._bodies[token_id] = body_digest
        heapq.heappush(self._expiries, (expires_at, token_id))
        return True

    def _forget_expired(self, now: float) -> None:
        while self._expiries and self._expiries[0][0] < now:
            _, token_id = heapq.heappop(self._expiries)
            self._bodies.pop(token_id, None)


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
        max_lifetime_seconds: int = DEFAULT_MAX_LIFETIME_SECONDS,
        refetch_interval_seconds: float = JWKS_REFETCH_INTERVAL_SECONDS,
    ) -> None:
        self.audience = audience
        self.issuer = issuer
        self.openid_config_url = openid_config_url
        self.max_lifetime_seconds = max_lifetime_seconds
        self.refetch_interval_seconds = refetch_interval_seconds
        self.replays = ReplayCache()
        # A local emulator serving TLS with its own CA needs that CA to be trusted for the key fetch too.
        self._ssl: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")  # when the keys in hand were fetched (their 24-hour TTL runs from here)
        self._fetch_started = float("-inf")  # when the latest fetch, successful or not, started
        self._fetch_error: DependencyUnavailable | None = None
        self._lock = asyncio.Lock()

    async def verify(self, authorization: str | None, body: bytes = b"") -> Mapping[str, Any]:
        """The token's claims, once it is genuine, young enough and not used before for another body.

        Raises Unauthorized or DependencyUnavailable.
        """
        token = _bearer_token(authorization)
        header = _unverified_header(token)
        if header.get("alg") != "RS256":
            raise Unauthorized(f"token algorithm must be RS256, not {header.get('alg')}")
        key = await self._key(header.get("kid"))
        try:
            claims = jwt.decode(
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
        self._check_lifetime(claims)
        self._check_replay(token, claims, body)
        return claims

    def _check_lifetime(self, claims: Mapping[str, Any]) -> None:
        # exp is an int or float once PyJWT has accepted the token; iat and nbf, when present, too.
        exp = claims["exp"]
        start = claims.get("iat", claims.get("nbf", time.time()))
        if exp - start > self.max_lifetime_seconds or exp - time.time() > self.max_lifetime_seconds + LEEWAY_SECONDS:
            raise Unauthorized(f"token lifetime exceeds {self.max_lifetime_seconds} s")

    def _check_replay(self, token: str, claims: Mapping[str, Any], body: bytes) -> None:
        jti = claims.get("jti")
        token_id = f"jti:{jti}" if isinstance(jti, str) and jti else f"sig:{token.rsplit('.', 1)[-1]}"
        digest = hashlib.sha256(body).digest()
        now = time.time()
        if not self.replays.admit(token_id, digest, expires_at=claims["exp"] + LEEWAY_SECONDS, now=now):
            raise Unauthorized("token was already used for another request")

    async def _key(self, kid: Any) -> Any:
        if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_CHARS:
            raise Unauthorized("token has no usable kid")
        if kid in self._keys and not self._expired():
            return self._keys[kid]
        await self._refresh_after(time.monotonic())
        if kid not in self._keys:
            raise Unauthorized(f"token signed with unknown key {kid[:64]}")
        return self._keys[kid]

    async def _refresh_after(self, arrived: float) -> None:
        """Make sure a key fetch started at or after `arrived` has finished; start one, at most one per interval.

        Requests queue on the lock: whoever enters first waits out the interval and fetches; everyone who arrived
        before that fetch started then finds it done and uses its result.
        """
        async with self._lock:
            if self._fetch_started >= arrived:
                if self._fetch_error is not None:
                    raise self._fetch_error
                return
            wait = self._fetch_started + self.refetch_interval_seconds - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._fetch_started = time.monotonic()
            try:
                self._keys = await self._fetch_keys()
            except DependencyUnavailable as exc:
                self._fetch_error = exc
                raise
            self._fetch_error = None
            self._fetched_at = self._fetch_started

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
        for item in jwks.get("keys", []) if isinstance(jwks, Mapping) else []:
            if isinstance(item, Mapping) and item.get("kty") == "RSA" and isinstance(item.get("kid"), str):
                try:
                    keys[item["kid"]] = RSAAlgorithm.from_jwk(json.dumps(item))
                except jwt.InvalidKeyError:
                    logger.warning("Ignored an unusable key %s in the callback JWKS", item["kid"][:64])
        logger.info("Loaded %d callback signing key(s)", len(keys))
        return keys


async def _get_json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json(content_type=None)


def _unverified_header(token: str) -> Mapping[str, Any]:
    """The token's header, only to choose the key by: jwt.decode then checks the whole token, header included.

    PyJWT's get_unverified_header would parse and validate every segment, which jwt.decode does again; that
    first pass was half of what verifying a callback's token cost.
    """
    segment, dot, _ = token.partition(".")
    try:
        encoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        header = guarded_json.loads(encoded, max_bytes=MAX_HEADER_BYTES, what="its header") if dot else None
    except (BadRequest, binascii.Error) as exc:
        raise Unauthorized(f"malformed token: {exc}") from None
    if not isinstance(header, dict):
        raise Unauthorized("malformed token: it has no JSON object header")
    return header


def _bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token in the Authorization header")
    return token.strip()
