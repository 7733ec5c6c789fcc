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
    assert len(cache._items) == 2  # noqa: SLF001


class _FrozenDatetime:
    """Stands in for ``datetime.datetime`` in PyJWT's claim checks: ``now()`` at ``timestamp``."""

    def __init__(self, timestamp: float) -> None:
        import datetime as dt

        self._dt, self._ts = dt.datetime, timestamp

    def now(self, tz=None):  # noqa: ANN001, ANN201
        return self._dt.fromtimestamp(self._ts, tz)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._dt, name)
