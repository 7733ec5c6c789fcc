"""gateway.security.jws: PyJWT's checks of a JWS segment, faster; verified tokens kept until they expire."""

from __future__ import annotations

import base64
import random
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.api_jws import PyJWS
from jwt.exceptions import DecodeError

from gateway.security import jws


def _outcome(func, segment: bytes):  # noqa: ANN001, ANN202
    try:
        return "ok", func(segment, "header")
    except DecodeError as exc:
        return "error", str(exc)


def test_segment_checks_are_pyjwts():
    rng = random.Random(7)
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/!. \n\xff"
    samples = [b"", b"!!!!", b"e30", b"e30=", b"e30==", b"e30===", b"eyJ", b"a", b"ab\n", b"YQ", b"YR", b"YQ=="]
    for _ in range(5000):
        samples.append(bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 12))))
        raw = base64.urlsafe_b64encode(rng.randbytes(rng.randint(0, 9))).rstrip(b"=")
        samples.append(raw + b"=" * rng.randint(0, 3))
    for segment in samples:
        assert _outcome(jws.decode_segment, segment) == _outcome(PyJWS._decode_base64url_segment, segment), segment


def _token(key: ec.EllipticCurvePrivateKey, exp: float) -> str:
    return jwt.encode({"sub": "c", "iss": "i", "aud": "a", "iat": int(time.time()), "exp": int(exp)}, key,
                      algorithm="ES256")


def _decode(cache: jws.VerifiedTokens, token: str, key) -> dict:  # noqa: ANN001
    return cache.decode(token, key, algorithms=["ES256"], audience="a", issuer="i",
                        require=["iss", "sub", "aud", "iat", "exp"], leeway=5)


def test_verified_tokens_are_kept_for_their_key_until_they_expire(monkeypatch):
    key, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    cache = jws.VerifiedTokens(size=2)
    token = _token(key, time.time() + 60)
    assert _decode(cache, token, key.public_key())["sub"] == "c"
    assert _decode(cache, token, key.public_key())["sub"] == "c"  # from the cache
    with pytest.raises(jwt.InvalidSignatureError):  # another key: verified again, refused
        _decode(cache, token, other.public_key())
    with pytest.raises(jwt.InvalidAudienceError):  # another audience: verified again, refused
        cache.decode(token, key.public_key(), algorithms=["ES256"], audience="b", issuer="i",
                     require=["iss", "sub", "aud", "iat", "exp"], leeway=5)
    later = time.time() + 120
    monkeypatch.setattr(jws.time, "time", lambda: later)
    monkeypatch.setattr(jwt.api_jwt, "datetime", _FrozenDatetime(later))
    with pytest.raises(jwt.ExpiredSignatureError):  # expired: not answered from the cache
        _decode(cache, token, key.public_key())


def test_verified_tokens_are_bounded():
    key = ec.generate_private_key(ec.SECP256R1())
    cache = jws.VerifiedTokens(size=2)
    for n in range(5):
        _decode(cache, _token(key, time.time() + 60 + n), key.public_key())
    assert len(cache) == 2


class _FrozenDatetime:
    """Stands in for ``datetime.datetime`` in PyJWT's claim checks: ``now()`` at ``timestamp``."""

    def __init__(self, timestamp: float) -> None:
        import datetime as dt

        self._dt, self._ts = dt.datetime, timestamp

    def now(self, tz=None):  # noqa: ANN001, ANN201
        return self._dt.fromtimestamp(self._ts, tz)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._dt, name)


def _mutations(token: str, rng: random.Random) -> list[str]:
    """The token, and malformed or tampered variants of it."""
    head, payload, sig = token.split(".")
    out = [token, "", "a", "a.b", "..", "a.b.c.d", f"{head}.{payload}", f"{head}..{sig}", f"e30.{payload}.{sig}",
           f"W10.{payload}.{sig}", f"bnVsbA.{payload}.{sig}", f"{head}=.{payload}.{sig}", f"{head}.{payload}.{sig}=",
           f"{head}.{payload}.{sig[:-2]}", f"{head}.{payload}x.{sig}", token + " ", f"{head}!.{payload}.{sig}"]
    for _ in range(300):
        chars = list(token)
        for _ in range(rng.randint(1, 3)):
            chars[rng.randrange(len(chars))] = rng.choice("AZaz09-_.=+/! ")
        out.append("".join(chars))
    return out


def test_parse_reads_a_compact_jws_as_pyjwt_does():
    rng = random.Random(11)
    key = ec.generate_private_key(ec.SECP256R1())
    for token in _mutations(_token(key, time.time() + 60), rng):
        try:
            expected = ("ok", PyJWS()._load(token))  # noqa: SLF001 - the reference behaviour
        except DecodeError as exc:
            expected = ("error", str(exc))
        try:
            got = jws.parse(token)
            outcome = ("ok", (got.payload, got.signing_input, got.header, got.signature))
        except DecodeError as exc:
            outcome = ("error", str(exc))
        assert outcome == expected, token


def test_verify_es256_agrees_with_pyjwt_and_sign_es256_with_pyjwt_decode():
    rng = random.Random(13)
    key, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    claims = {"sub": "c", "iss": "i", "aud": "a", "iat": int(time.time()), "exp": int(time.time()) + 60, "n": "é"}
    token = jws.sign_es256(claims, key, {"kid": "k1", "typ": "hcp+jwt"})
    decoded = jwt.api_jws.PyJWS().decode_complete(token, key.public_key(), algorithms=["ES256"])
    assert decoded["header"] == {"alg": "ES256", "typ": "hcp+jwt", "kid": "k1"}
    assert jwt.decode(token, key.public_key(), algorithms=["ES256"], audience="a") == claims
    accepted = 0
    for variant in _mutations(token, rng):
        try:
            compact = jws.parse(variant)
        except DecodeError:
            continue
        for verifier in (key.public_key(), other.public_key()):
            try:
                PyJWS().decode_complete(variant, verifier, algorithms=["ES256"])
                expected = True
            except jwt.PyJWTError:
                expected = False
            assert jws.verify_es256(compact, verifier) is expected, variant
            accepted += expected
    assert accepted >= 1  # the untouched token verifies with its key (and never with the other)
    p384 = ec.generate_private_key(ec.SECP384R1())
    assert jws.verify_es256(jws.parse(token), p384.public_key()) is False  # another curve: refused, no error
