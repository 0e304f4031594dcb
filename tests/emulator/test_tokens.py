"""Callback JWTs: minted tokens verify against the published JWKS with ACS's issuer and the resource audience."""

import time

import jwt
import pytest

from emulator.tokens import DEFAULT_ISSUER, TokenIssuer

AUDIENCE = "0e3e4a3b-1c2d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture(scope="module")
def issuer() -> TokenIssuer:
    return TokenIssuer(AUDIENCE)


def verify(issuer: TokenIssuer, token: str, audience: str = AUDIENCE) -> dict:
    """What the ACS secure-webhook sample does, with the JWKS taken from the emulator instead of Azure."""
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [k for k in issuer.jwks()["keys"] if k["kid"] == kid]
    key = jwt.PyJWK(jwk).key
    return jwt.decode(token, key, algorithms=["RS256"], issuer=DEFAULT_ISSUER, audience=audience)


def test_minted_token_verifies_against_jwks(issuer: TokenIssuer) -> None:
    token = issuer.mint()
    header = jwt.get_unverified_header(token)
    claims = verify(issuer, token)
    assert header["alg"] == "RS256"
    assert header["kid"] == issuer.kid
    assert claims["iss"] == DEFAULT_ISSUER
    assert claims["aud"] == AUDIENCE
    assert claims["exp"] - claims["iat"] == 300
    assert claims["nbf"] <= time.time() + 1
    assert claims["jti"]


def test_each_token_is_fresh(issuer: TokenIssuer) -> None:
    first, second = verify(issuer, issuer.mint()), verify(issuer, issuer.mint())
    assert first["jti"] != second["jti"]


def test_wrong_audience_is_rejected(issuer: TokenIssuer) -> None:
    with pytest.raises(jwt.InvalidAudienceError):
        verify(issuer, issuer.mint(), audience="some-other-resource")


def test_expired_token_is_rejected(issuer: TokenIssuer) -> None:
    with pytest.raises(jwt.ExpiredSignatureError):
        verify(issuer, issuer.mint(issued_at=time.time() - 301))


def test_token_from_another_key_pair_is_rejected(issuer: TokenIssuer) -> None:
    other = TokenIssuer(AUDIENCE)
    forged = jwt.encode(
        jwt.decode(other.mint(), options={"verify_signature": False}),
        other.signing_key.private_key,
        algorithm="RS256",
        headers={"kid": issuer.kid},
    )
    with pytest.raises(jwt.InvalidSignatureError):
        verify(issuer, forged)


def test_jwks_and_openid_documents(issuer: TokenIssuer) -> None:
    (key,) = issuer.jwks()["keys"]
    assert {k: key[k] for k in ("kty", "use", "alg", "kid")} == {
        "kty": "RSA",
        "use": "sig",
        "alg": "RS256",
        "kid": issuer.kid,
    }
    assert key["e"] == "AQAB"
    assert "=" not in key["n"]
    config = issuer.openid_configuration("https://127.0.0.1:8443/")
    assert config["issuer"] == DEFAULT_ISSUER
    assert config["jwks_uri"] == "https://127.0.0.1:8443/calling/keys"
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]


def test_kid_is_stable_per_key_and_differs_between_keys(issuer: TokenIssuer) -> None:
    assert jwt.get_unverified_header(issuer.mint())["kid"] == jwt.get_unverified_header(issuer.mint())["kid"]
    assert TokenIssuer(AUDIENCE).kid != issuer.kid


def test_custom_issuer_and_lifetime() -> None:
    custom = TokenIssuer(AUDIENCE, issuer="http://127.0.0.1:9000", lifetime_seconds=60)
    token = custom.mint()
    key = jwt.PyJWK(custom.jwks()["keys"][0]).key
    claims = jwt.decode(token, key, algorithms=["RS256"], issuer="http://127.0.0.1:9000", audience=AUDIENCE)
    assert claims["exp"] - claims["iat"] == 60


def test_rotation_signs_with_a_new_key_and_keeps_the_old_one_published() -> None:
    rotating = TokenIssuer(AUDIENCE)
    rotations: list[tuple[str, str]] = []
    rotating.on_rotate = lambda old, new: rotations.append((old, new))
    old_token, old_kid = rotating.mint(), rotating.kid
    new_kid = rotating.rotate()
    assert new_kid == rotating.kid != old_kid
    assert [key["kid"] for key in rotating.jwks()["keys"]] == [new_kid, old_kid]
    assert jwt.get_unverified_header(rotating.mint())["kid"] == new_kid
    assert verify(rotating, old_token)["aud"] == AUDIENCE  # a token already sent still verifies
    assert rotations == [(old_kid, new_kid)]


def test_rotated_out_keys_leave_the_jwks_after_the_overlap() -> None:
    rotating = TokenIssuer(AUDIENCE)
    rotating.schedule(None, overlap_seconds=0)
    rotating.rotate()
    assert [key["kid"] for key in rotating.jwks()["keys"]] == [rotating.kid]


def test_scheduled_rotation_happens_once_its_period_has_passed() -> None:
    rotating = TokenIssuer(AUDIENCE)
    first = rotating.kid
    rotating.schedule(every_seconds=0.01, overlap_seconds=None)
    deadline = time.monotonic() + 5
    while rotating.kid == first:
        assert time.monotonic() < deadline, "the key never rotated"
        time.sleep(0.002)
    assert [key["kid"] for key in rotating.jwks()["keys"]][-1] == first
