"""gateway.security.jws.get_unverified_header answers as PyJWT's public jwt.get_unverified_header: same
headers, same errors, on valid and malformed tokens alike (it reads them with the project's own parse)."""

from __future__ import annotations

import base64
import json
import random

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.security import jws


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _outcome(func, token):  # noqa: ANN001, ANN202
    try:
        return "ok", func(token)
    except jwt.PyJWTError as exc:
        return type(exc).__name__, str(exc)


def _forged(header: object, payload: bytes = b'{"sub":"x"}', signature: bytes = b"sig") -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(payload)}.{_b64(signature)}"


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def test_headers_and_errors_are_pyjwts(key):
    signed = jwt.encode({"sub": "c", "note": "x" * 500}, key, algorithm="ES256", headers={"kid": "k1"})
    samples = [
        signed, signed.encode(), signed + "=", signed[:-3] + "!!!", "a.b", "", "....", "e30.e30.e30",
        _forged({"alg": "ES256", "kid": 7}), _forged(["not", "an", "object"]), _forged({"alg": "ES256", "crit": []}),
        _forged({"alg": "ES256", "crit": ["exp"], "exp": 1}), _forged({"alg": "ES256", "crit": [1]}),
        _forged({"alg": "ES256", "crit": ["b64"]}), "eyJhbGciOiJFUzI1NiJ9.!!!.e30",
    ]
    rng = random.Random(18)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=.!+/ "
    for _ in range(300):
        broken = list(signed)
        for _ in range(rng.randint(1, 3)):
            broken[rng.randrange(len(broken))] = rng.choice(alphabet)
        samples.append("".join(broken))
    for token in samples:
        assert _outcome(jws.get_unverified_header, token) == _outcome(jwt.get_unverified_header, token), token


def test_a_detached_payload_is_refused(key):
    token = _forged({"alg": "ES256", "b64": False, "crit": ["b64"]})
    with pytest.raises(jwt.DecodeError):
        jws.get_unverified_header(token)


def test_callers_get_a_copy(key):
    token = jwt.encode({"sub": "c"}, key, algorithm="ES256", headers={"kid": "k2"})
    jws.get_unverified_header(token)["kid"] = "changed"
    assert jws.get_unverified_header(token)["kid"] == "k2"
