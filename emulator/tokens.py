"""RS256 JWTs like the ones ACS puts on every callback, the OpenID/JWKS documents that verify them, key rotation."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

DEFAULT_ISSUER = "https://acscallautomation.communication.azure.com"
OPENID_PATH = "/calling/.well-known/acsopenidconfiguration"
JWKS_PATH = "/calling/keys"


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    """An RSA-2048 key pair and its public JWK; the kid is the RFC 7638 thumbprint, stable for the key."""

    private_key: rsa.RSAPrivateKey
    jwk: dict[str, str]

    @property
    def kid(self) -> str:
        return self.jwk["kid"]

    @classmethod
    def generate(cls) -> SigningKey:
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = private_key.public_key().public_numbers()
        n, e = _b64url_uint(numbers.n), _b64url_uint(numbers.e)
        canonical = f'{{"e":"{e}","kty":"RSA","n":"{n}"}}'.encode("ascii")
        kid = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode("ascii")
        return cls(private_key, {"kty": "RSA", "use": "sig", "kid": kid, "alg": "RS256", "n": n, "e": e})


class TokenIssuer:
    """Mints callback tokens with its current key; the key can rotate, on demand or every N seconds.

    A rotated-out key stays in the JWKS for `overlap_seconds` (None: for good), so tokens already sent still verify
    while an app that caches keys meets an unknown kid and must refetch. Scheduled rotation happens when a token or
    the JWKS is next asked for, which is the only moment anyone can tell.
    """

    def __init__(self, audience: str, issuer: str = DEFAULT_ISSUER, lifetime_seconds: int = 300) -> None:
        if lifetime_seconds <= 0:
            raise ValueError("token lifetime must be positive")
        self.audience = audience
        self.issuer = issuer
        self.lifetime_seconds = lifetime_seconds
        self.rotate_every: float | None = None
        self.overlap_seconds: float | None = None
        self.on_rotate: Callable[[str, str], None] | None = None  # (old kid, new kid)
        self._key = SigningKey.generate()
        self._retired: list[tuple[SigningKey, float]] = []  # with the monotonic time each was rotated out
        self._rotated_at = time.monotonic()

    @property
    def signing_key(self) -> SigningKey:
        """The key tokens are signed with now."""
        return self._current()

    @property
    def kid(self) -> str:
        return self._current().kid

    def schedule(self, every_seconds: float | None, overlap_seconds: float | None) -> None:
        """Rotate every `every_seconds` from now (None: only on demand); keep old keys `overlap_seconds`."""
        self.rotate_every = every_seconds
        self.overlap_seconds = overlap_seconds
        self._rotated_at = time.monotonic()

    def rotate(self) -> str:
        """Sign with a new key from now on; returns its kid."""
        old = self._key
        self._key = SigningKey.generate()
        self._rotated_at = time.monotonic()
        self._retired.insert(0, (old, self._rotated_at))
        if self.on_rotate is not None:
            self.on_rotate(old.kid, self._key.kid)
        return self._key.kid

    def _current(self) -> SigningKey:
        if self.rotate_every is not None and time.monotonic() - self._rotated_at >= self.rotate_every:
            self.rotate()
        return self._key

    def published(self) -> list[SigningKey]:
        """The current key first, then rotated-out keys still inside their overlap, newest first."""
        current = self._current()
        if self.overlap_seconds is not None:
            now = time.monotonic()
            self._retired = [(key, at) for key, at in self._retired if now - at < self.overlap_seconds]
        return [current, *(key for key, _ in self._retired)]

    def mint(self, *, issued_at: float | None = None) -> str:
        """A fresh token (new jti) per call; `issued_at` (epoch seconds) backdates it, e.g. to hand out expired ones."""
        now = int(time.time() if issued_at is None else issued_at)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime_seconds,
            "jti": str(uuid.uuid4()),
        }
        key = self.signing_key
        return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})

    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(key.jwk) for key in self.published()]}

    def openid_configuration(self, base_url: str) -> dict[str, Any]:
        base = base_url.rstrip("/")
        return {
            "issuer": self.issuer,
            "jwks_uri": base + JWKS_PATH,
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["iss", "aud", "iat", "nbf", "exp", "jti"],
        }
