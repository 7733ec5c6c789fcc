"""JWS and JWT reading and signing: PyJWT through its public API, and the project's own compact-JWS reader.

- :data:`decode` is PyJWT's ``jwt.decode`` (full verification: signature, algorithms, claims). It runs
  once per token: :class:`VerifiedTokens` keeps the claims of a token that verified until it expires.
- :func:`get_unverified_header` (the key id of a token, before its key is chosen) reads the token with
  :func:`parse`, which makes PyJWT's checks of a compact JWS with the same errors, the base64url
  alphabet checked with one regular expression: PyJWT 2.10+ checks each character in a Python
  generator, and ``jwt.get_unverified_header`` takes about twice as long on a 1.3 KiB assertion
  (58 against 27 us, ``benchmarks/jws_bench.py``), twice per partner request (access token, clinician
  assertion). Its result is kept per token (a bounded ``lru_cache``, a copy returned each time).
  The first verification of a token costs ~40 us more than with the former replacement of PyJWT's
  private segment check (131 against 93 us), once per token.
- The assertions between NCPeHs (ES256 only, their header checked field by field before any key is
  chosen) are read once with :func:`parse`, their signature checked with :func:`verify_es256`; they
  are signed with :func:`sign_es256`.

Algorithms, claims, options and exceptions are PyJWT's; nothing of PyJWT's internals is replaced.
"""

from __future__ import annotations

import binascii
import functools
import json
import re
import threading
import time
from typing import Any, NamedTuple

import jwt
import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.exceptions import DecodeError, InvalidTokenError
from jwt.utils import base64url_decode, base64url_encode, der_to_raw_signature, raw_to_der_signature

from gateway.security.sessions import ExpiringCache

_BASE64URL = re.compile(rb"[A-Za-z0-9_-]*")


def decode_segment(segment: bytes, name: str) -> bytes:
    """One JWS segment, with the checks and errors of PyJWT's reading of a segment (tests/security/test_jws.py
    compares them on random input)."""
    padding = 0
    stripped = segment
    while stripped.endswith(b"="):
        stripped = stripped[:-1]
        padding += 1
        if padding > 2:
            raise DecodeError(f"Invalid {name} padding")
    if padding and len(segment) % 4 != 0:
        raise DecodeError(f"Invalid {name} padding")
    if len(stripped) % 4 == 1 or _BASE64URL.fullmatch(stripped) is None:
        raise DecodeError(f"Invalid {name} padding")
    try:
        decoded = base64url_decode(stripped)
    except (TypeError, binascii.Error) as err:
        raise DecodeError(f"Invalid {name} padding") from err
    if base64url_encode(decoded) != stripped:
        raise DecodeError(f"Invalid {name} padding")
    return decoded


class Compact(NamedTuple):
    """A compact JWS read once: its header (a JSON object), payload, signed bytes and signature."""

    header: dict[str, Any]
    payload: bytes
    signing_input: bytes
    signature: bytes


def parse(token: str | bytes) -> Compact:
    """Read a compact JWS with PyJWT's checks and errors (``PyJWS._load``), without verifying it."""
    if isinstance(token, str):
        token = token.encode("utf-8")
    if not isinstance(token, bytes):
        raise DecodeError(f"Invalid token type. Token must be a {bytes}")
    try:
        signing_input, crypto_segment = token.rsplit(b".", 1)
        header_segment, payload_segment = signing_input.split(b".", 1)
    except ValueError as err:
        raise DecodeError("Not enough segments") from err
    header_data = decode_segment(header_segment, "header")
    try:
        header = json.loads(header_data)
    except (ValueError, RecursionError) as err:
        raise DecodeError(f"Invalid header string: {err}") from err
    if not isinstance(header, dict):
        raise DecodeError("Invalid header string: must be a json object")
    if header.get("b64", True) is False:  # detached payloads are not used here: refused, not decoded
        raise DecodeError("Detached payloads ('b64': false) are not accepted.")
    payload = decode_segment(payload_segment, "payload")
    signature = decode_segment(crypto_segment, "crypto")
    return Compact(header, payload, signing_input, signature)


def verify_es256(compact: Compact, key: ec.EllipticCurvePublicKey) -> bool:
    """Whether ``compact``'s signature is a valid ES256 (P-256, SHA-256, raw r||s) signature by ``key``.

    The caller has already checked that the header's ``alg`` is ES256 (the algorithm is pinned, never
    taken from the token)."""
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        return False
    try:
        der = raw_to_der_signature(compact.signature, key.curve)
        key.verify(der, compact.signing_input, ec.ECDSA(hashes.SHA256()))
    except (ValueError, InvalidSignature):
        return False
    return True


def sign_es256(claims: dict[str, Any], key: ec.EllipticCurvePrivateKey, headers: dict[str, Any]) -> str:
    """A compact ES256 JWS of ``claims`` (JSON, compact), header ``{"alg": "ES256", "typ": "JWT", **headers}``."""
    header = {"alg": "ES256", "typ": "JWT", **headers}
    signing_input = base64url_encode(orjson.dumps(header)) + b"." + base64url_encode(orjson.dumps(claims))
    signature = der_to_raw_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())), key.curve)
    return (signing_input + b"." + base64url_encode(signature)).decode("ascii")


#: PyJWT's verification of a JWT (public API).
decode = jwt.decode

#: Critical header extensions understood (PyJWT's: ``b64``, which :func:`parse` refuses when false).
_SUPPORTED_CRIT = frozenset({"b64"})


def _check_header(header: dict[str, Any]) -> None:
    """PyJWT's checks of a header read without verification (``kid`` a string, ``crit`` understood), same errors."""
    if "kid" in header and not isinstance(header["kid"], str):
        raise InvalidTokenError("Key ID header parameter must be a string")
    if "crit" in header:
        crit = header["crit"]
        if not isinstance(crit, list) or len(crit) == 0:
            raise InvalidTokenError("Invalid 'crit' header: must be a non-empty list")
        for ext in crit:
            if not isinstance(ext, str):
                raise InvalidTokenError("Invalid 'crit' header: values must be strings")
            if ext not in _SUPPORTED_CRIT:
                raise InvalidTokenError(f"Unsupported critical extension: {ext}")
            if ext not in header:
                raise InvalidTokenError(f"Critical extension '{ext}' is missing from headers")


@functools.lru_cache(maxsize=512)
def _unverified_header(token: str | bytes) -> dict[str, Any]:
    header = parse(token).header
    _check_header(header)
    return header


def get_unverified_header(token: str | bytes) -> dict[str, Any]:
    """The header of a JWS, as ``jwt.get_unverified_header`` (same checks and errors, except that a detached
    payload, ``b64`` false, is refused as :func:`parse` does); the reading of a token sent again is reused
    (a copy: callers may change it). Nothing in it is trusted before the signature is checked."""
    return dict(_unverified_header(token))


class VerifiedTokens:
    """Claims of JWTs that verified, so that a token sent again is not verified again, until its ``exp``.

    Partner software sends the same access token and clinician assertion with each of its calls
    (until they expire). An entry is keyed by everything the verification depended on: the exact
    token, the verification key (its DER encoding: a rotated or replaced key is another entry),
    the algorithms, audience, issuer, required claims and leeway. It is used only while ``exp`` has
    not passed (with the same leeway as PyJWT); after that the token is verified again, and refused
    with PyJWT's own error. What does not depend on the token alone stays with the caller, on every
    call: resolving the key (trust list, registered client keys) and checking that the client is
    still active. Bounded: the oldest entries go first.
    """

    def __init__(self, size: int = 1024) -> None:
        #: claims by everything their verification depended on, until ``exp`` + leeway
        self._items: ExpiringCache[dict[str, Any]] = ExpiringCache(size)
        self._lock = threading.Lock()
        #: ``id(key) -> (key, DER)``: each verification key encoded once (the key is kept with its entry,
        #: so its ``id`` is not reused while cached)
        self._key_der: dict[int, tuple[Any, bytes]] = {}

    def _public_der(self, key: Any) -> bytes:
        """The DER encoding of a public key (AttributeError: not a public key)."""
        hit = self._key_der.get(id(key))
        if hit is not None and hit[0] is key:
            return hit[1]
        der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        with self._lock:
            if len(self._key_der) >= 256:
                self._key_der.clear()
            self._key_der[id(key)] = (key, der)
        return der

    def decode(self, token: str, key: Any, *, algorithms: list[str], audience: str, issuer: str,
               require: list[str], leeway: float) -> dict[str, Any]:
        if "exp" not in require:
            raise ValueError("VerifiedTokens needs 'exp' among the required claims")
        try:
            key_der = self._public_der(key)
        except AttributeError:  # not a public key object: no caching
            return decode(token, key, algorithms=algorithms, audience=audience, issuer=issuer,
                          options={"require": require}, leeway=leeway)
        cache_key = (token, key_der, tuple(algorithms), audience, issuer, tuple(require), leeway)
        hit = self._items.get(cache_key, time.time())
        if hit is not None:
            return dict(hit)
        claims = decode(token, key, algorithms=algorithms, audience=audience, issuer=issuer,
                        options={"require": require}, leeway=leeway)
        exp = claims.get("exp")
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            # kept while PyJWT would accept it: it refuses when exp <= now - leeway
            self._items.put(cache_key, dict(claims), float(exp) + leeway, time.time())
        return claims

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
        with self._lock:
            self._key_der.clear()
