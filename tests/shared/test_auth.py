"""Callback JWT verification against an OpenID configuration and JWKS served on 127.0.0.1."""

import asyncio
import base64
import json
import time

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shared.auth import CallbackVerifier, ReplayCache
from shared.errors import DependencyUnavailable, Unauthorized

ISSUER = "https://acscallautomation.communication.azure.com"
AUDIENCE = "6d88a1e8-0000-4000-8000-000000000001"
ATTACKER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


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


def verifier(url, **options):
    return CallbackVerifier(audience=AUDIENCE, issuer=ISSUER, openid_config_url=url, **options)


async def test_valid_token_is_accepted_and_keys_are_cached(keys):
    check = verifier(keys.url)
    assert (await check.verify(f"Bearer {keys.token()}"))["aud"] == AUDIENCE
    await check.verify(f"Bearer {keys.token()}")
    assert keys.jwks_fetches == 1


def with_header(header: bytes) -> str:
    """An Authorization header whose token has this (hostile) JWT header and an empty payload."""
    return f"Bearer {base64.urlsafe_b64encode(header).decode().rstrip('=')}.e30.sig"


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing bearer token"),
        ("Basic abc", "missing bearer token"),
        ("Bearer not.a.jwt", "malformed"),
        ("Bearer no-dots", "malformed token: it has no JSON object header"),
        (with_header(b"[1, 2]"), "malformed token: it has no JSON object header"),
        (with_header(b"[" * 3000), "malformed token: its header is nested more than 32 levels"),
        (with_header(b'{"alg": 1e999}'), "malformed token: its header"),
        (with_header(b"\xff\xfe"), "malformed token: its header is not valid UTF-8"),
        (with_header(b"{}" + b" " * 5000), "malformed token: its header is larger than 4096 bytes"),
    ],
)
async def test_missing_or_malformed_header_is_unauthorized(keys, header, reason):
    # Refused before any key is fetched: the header only chooses the key.
    with pytest.raises(Unauthorized, match=reason):
        await verifier(keys.url).verify(header)

    assert keys.jwks_fetches == 0


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


async def test_rotated_key_is_fetched_once_it_is_seen(keys):
    check = verifier(keys.url)
    await check.verify(f"Bearer {keys.token()}")
    keys.keys["key-2"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    await check.verify(f"Bearer {keys.token(kid='key-2')}")  # unknown kid: one refetch finds it
    await check.verify(f"Bearer {keys.token(kid='key-2')}")

    assert keys.jwks_fetches == 2


async def test_forged_unknown_kid_does_not_block_a_newly_rotated_key(keys):
    """Finding 4: the one refetch per minute used to be spent by the forged token, and the genuine one got 401."""
    check = verifier(keys.url, refetch_interval_seconds=0.3)
    await check.verify(f"Bearer {keys.token()}")
    with pytest.raises(Unauthorized, match="unknown key"):
        await check.verify(f"Bearer {keys.token(kid='forged', key=ATTACKER_KEY)}")

    keys.keys["key-2"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # ACS rotates just after
    claims = await check.verify(f"Bearer {keys.token(kid='key-2')}")

    assert claims["aud"] == AUDIENCE and keys.jwks_fetches == 3


async def test_a_flood_of_forged_kids_costs_one_key_fetch_per_interval(keys):
    check = verifier(keys.url, refetch_interval_seconds=0.3)
    await check.verify(f"Bearer {keys.token()}")
    forged = [f"Bearer {keys.token(kid=f'forged-{n}', key=ATTACKER_KEY)}" for n in range(30)]

    results = await asyncio.gather(*(check.verify(token) for token in forged), return_exceptions=True)

    assert all(isinstance(result, Unauthorized) for result in results)
    assert keys.jwks_fetches <= 3  # the first load, then one fetch shared by every forged kid (two at most)


@pytest.mark.parametrize("claims", [{"jti": "token-1"}, {}], ids=["by jti", "by signature"])
async def test_token_replayed_with_another_body_is_refused(keys, claims):
    """Finding 3: a captured token used to authorise any body (another call's events) for its whole lifetime."""
    check = verifier(keys.url)
    token = f"Bearer {keys.token(**claims)}"
    await check.verify(token, b'[{"for": "call A"}]')

    with pytest.raises(Unauthorized, match="already used"):
        await check.verify(token, b'[{"for": "call B"}]')
    await check.verify(token, b'[{"for": "call A"}]')  # the same delivery again: a redelivery, deduplicated later


@pytest.mark.parametrize(
    "lifetime",
    [{"exp_after": 10 * 365 * 86400}, {"exp_after": 3600, "iat_before": 0}, {"exp_after": 400, "iat_before": 400}],
)
async def test_tokens_living_longer_than_the_maximum_are_refused(keys, lifetime):
    now = int(time.time())
    token = keys.token(iat=now - lifetime.get("iat_before", 0), nbf=now - 60, exp=now + lifetime["exp_after"])
    with pytest.raises(Unauthorized, match="lifetime exceeds 600 s"):
        await verifier(keys.url).verify(f"Bearer {token}")


def test_replay_cache_forgets_expired_tokens_and_stays_bounded():
    cache = ReplayCache(max_entries=2)
    assert cache.admit("a", b"1", expires_at=10, now=0)
    assert not cache.admit("a", b"2", expires_at=10, now=1)
    assert cache.admit("a", b"2", expires_at=30, now=11)  # "a" expired at 10: a new token may reuse the id
    assert cache.admit("b", b"1", expires_at=20, now=11) and cache.admit("c", b"1", expires_at=40, now=11)
    assert len(cache) == 2  # "b", the first to expire, made room


async def test_unreachable_key_endpoint_is_a_retryable_503():
    with pytest.raises(DependencyUnavailable):
        await verifier("http://127.0.0.1:9/calling/.well-known/acsopenidconfiguration").verify(
            f"Bearer {KeyServer().token()}"
        )
