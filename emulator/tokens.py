"""RS256 JWTs like the ones ACS puts on every callback, plus the OpenID/JWKS documents that let apps verify them."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

DEFAULT_ISSUER = "https://acscallautomation.communication.azure.com"
OPENID_CONFIGURATION_PATH = "/calling/.well-known/acsopenidconfiguration"
JWKS_PATH = "/calling/keys"


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class TokenIssuer:
    """Holds one RSA-2048 key pair for the emulator's lifetime and mints callback tokens signed with it."""

    def __init__(self, audience: str, issuer: str = DEFAULT_ISSUER, lifetime_seconds: int = 300) -> None:
        if lifetime_seconds <= 0:
            raise ValueError("token lifetime must be positive")
        self.audience = audience
        self.issuer = issuer
        self.lifetime_seconds = lifetime_seconds
        self._private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = self._private_key.public_key().public_numbers()
        self._n = _b64url_uint(numbers.n)
        self._e = _b64url_uint(numbers.e)
        # RFC 7638 thumbprint: stable for the key, so apps that cache the JWKS by kid keep working across mints.
        canonical = f'{{"e":"{self._e}","kty":"RSA","n":"{self._n}"}}'.encode("ascii")
        self.kid = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode("ascii")

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
        return jwt.encode(claims, self._private_key, algorithm="RS256", headers={"kid": self.kid})

    def jwks(self) -> dict[str, Any]:
        return {"keys": [{"kty": "RSA", "use": "sig", "kid": self.kid, "alg": "RS256", "n": self._n, "e": self._e}]}

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
