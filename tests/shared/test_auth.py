"""Callback JWT verification against an OpenID configuration and JWKS served on 127.0.0.1."""

import json
import time

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shared.auth import CallbackVerifier
from shared.errors import DependencyUnavailable, Unauthorized

ISSUER = "https://acscallautomation.communication.azure.com"
AUDIENCE = "6d88a1e8-0000-4000-8000-000000000001"


class KeyServer:
    """Serves /calling/.well-known/acsopenidconfiguration and /calling/keys; counts JWKS fetches."""

    def __init__(self):
        self.keys = {"key-1": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
        self.jwks_fetches = 0
        self.app = web.Application()
        self.app.router.add_get("/calling/.well-known/acsopenidconfiguration", self.config)
        self.app.router.add_get("/calling/keys", self.jwks)

    async def config(self, request):
        return web.json_response({"issuer": ISSUER, "jwks_uri": str(request.url.with_path("/calling/keys"))})

    async def jwks(self, request):
        self.jwks_fetches += 1
        keys = []
        for kid, key in self.keys.items():
            jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return web.json_response({"keys": keys})

    def token(self, kid="key-1", key=None, **claims):
        now = int(time.time())
        payload = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now, "exp": now + 300, **claims}
        return jwt.encode(payload, key or self.keys[kid], algorithm="RS256", headers={"kid": kid})


@pytest.fixture
async def keys():
    server = KeyServer()
    async with TestServer(server.app, host="127.0.0.1") as test_server:
        server.url = str(test_server.make_url("/calling/.well-known/acsopenidconfiguration"))
        yield server


def verifier(url):
    return CallbackVerifier(audience=AUDIENCE, issuer=ISSUER, openid_config_url=url)


async def test_valid_token_is_accepted_and_keys_are_cached(keys):
    check = verifier(keys.url)
    assert (await check.verify(f"Bearer {keys.token()}"))["aud"] == AUDIENCE
    await check.verify(f"Bearer {keys.token()}")
    assert keys.jwks_fetches == 1


@pytest.mark.parametrize(
    ("header", "reason"),
    [(None, "missing bearer token"), ("Basic abc", "missing bearer token"), ("Bearer not.a.jwt", "malformed")],
)
async def test_missing_or_malformed_header_is_unauthorized(keys, header, reason):
    with pytest.raises(Unauthorized, match=reason):
        await verifier(keys.url).verify(header)


async def test_bad_signature_is_unauthorized(keys):
    forged = keys.token(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    with pytest.raises(Unauthorized, match="Signature verification failed"):
        await verifier(keys.url).verify(f"Bearer {forged}")


async def test_wrong_audience_or_issuer_is_unauthorized(keys):
    with pytest.raises(Unauthorized, match=r"(?i)audience"):
        await verifier(keys.url).verify(f"Bearer {keys.token(aud='another-resource')}")
    with pytest.raises(Unauthorized, match=r"(?i)issuer"):
        await verifier(keys.url).verify(f"Bearer {keys.token(iss='https://evil.example')}")


async def test_expired_token_is_unauthorized(keys):
    past = int(time.time()) - 3600
    with pytest.raises(Unauthorized, match="expired"):
        await verifier(keys.url).verify(f"Bearer {keys.token(iat=past, nbf=past, exp=past + 300)}")


async def test_non_rs256_token_is_unauthorized(keys):
    token = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 60}, "s" * 32, algorithm="HS256")
    with pytest.raises(Unauthorized, match="RS256"):
        await verifier(keys.url).verify(f"Bearer {token}")


async def test_rotated_key_is_fetched_once_then_unknown_kids_are_not_refetched(keys):
    check = verifier(keys.url)
    await check.verify(f"Bearer {keys.token()}")
    keys.keys["key-2"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    await check.verify(f"Bearer {keys.token(kid='key-2')}")  # unknown kid: one refetch finds it
    assert keys.jwks_fetches == 2
    with pytest.raises(Unauthorized, match="unknown key"):
        await check.verify(f"Bearer {keys.token(kid='key-3', key=keys.keys['key-1'])}")
    assert keys.jwks_fetches == 2  # refetches are rate-limited


async def test_unreachable_key_endpoint_is_a_retryable_503():
    with pytest.raises(DependencyUnavailable):
        await verifier("http://127.0.0.1:9/calling/.well-known/acsopenidconfiguration").verify(
            f"Bearer {KeyServer().token()}"
        )
