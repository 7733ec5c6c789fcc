"""gateway.security.jwk: one JWK of a signing key (trust list, partner clients) and one lookup by kid and algorithm."""

from __future__ import annotations

import json

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.security import jwk


def _numbers(key) -> ec.EllipticCurvePublicNumbers:  # noqa: ANN001
    return key.public_numbers()


def test_public_jwk_is_a_signing_jwk_that_pyjwt_reads_back():
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    made = jwk.public_jwk(public)
    assert made["kty"] == "EC" and made["crv"] == "P-256"
    assert made["kid"] == jwk.key_id(public) and len(made["kid"]) == 16
    assert made["use"] == "sig" and made["alg"] == "ES256"
    assert _numbers(jwt.PyJWK(made).key) == _numbers(public)


def test_find_key_by_kid_and_algorithm():
    first, second = (ec.generate_private_key(ec.SECP256R1()).public_key() for _ in range(2))
    jwks = {"keys": [jwk.public_jwk(first), jwk.public_jwk(second)]}
    assert _numbers(jwk.find_key(jwks, jwk.key_id(second), "ES256")) == _numbers(second)
    assert _numbers(jwk.find_key(jwks, None, "ES256")) == _numbers(first)  # no kid: the first that fits
    assert jwk.find_key(jwks, "unknown-kid", "ES256") is None
    assert jwk.find_key(jwks, jwk.key_id(first), "ES384") is None  # a P-256 key never verifies ES384
    assert jwk.find_key(jwks, jwk.key_id(first), "RS256") is None


def test_find_key_skips_what_does_not_fit():
    good = ec.generate_private_key(ec.SECP256R1()).public_key()
    other_curve = ec.generate_private_key(ec.SECP384R1()).public_key()
    broken = {**jwk.public_jwk(good), "x": "not base64url!"}
    other_alg = {**jwk.public_jwk(good), "alg": "ES384"}
    p384 = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(other_curve))
    jwks = {"keys": ["not a jwk", broken, other_alg, p384, jwk.public_jwk(good)]}
    assert _numbers(jwk.find_key(jwks, None, "ES256")) == _numbers(good)
    assert jwk.find_key({"keys": [broken]}, None, "ES256") is None
    for nothing in (None, {}, {"keys": "x"}, []):
        assert jwk.find_key(nothing, None, "ES256") is None  # type: ignore[arg-type]
