"""PyJWT, with the base64url check of each JWS segment done by a compiled regular expression.

PyJWT 2.10+ checks every character of a segment against the base64url alphabet with a Python
generator (``any(c not in ALPHABET for c in segment)``): about 0.1 ms per assertion of ~1 KiB,
several times per request (access token, clinician assertion at country B; HCP and TRC assertions
at country A, each read twice). :class:`FastJWS` does the same checks in the same order, with the
same errors — padding (at most two ``=``, only on a length multiple of 4), alphabet, length modulo 4,
decoding, canonical re-encoding — the alphabet check with one regular expression.

Use :data:`decode`, :data:`decode_complete` and :data:`get_unverified_header` instead of the ones
of the ``jwt`` module; everything else (algorithms, claims, options, exceptions) is PyJWT's.
"""

from __future__ import annotations

import binascii
import re
import threading
import time
from collections import OrderedDict
from typing import Any

from cryptography.hazmat.primitives import serialization
from jwt.api_jws import PyJWS
from jwt.api_jwt import PyJWT
from jwt.exceptions import DecodeError
from jwt.utils import base64url_decode, base64url_encode

_BASE64URL = re.compile(rb"[A-Za-z0-9_-]*")


def decode_segment(segment: bytes, name: str) -> bytes:
    """One JWS segment, as PyJWT's ``PyJWS._decode_base64url_segment`` (same checks, same errors)."""
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


class FastJWS(PyJWS):
    _decode_base64url_segment = staticmethod(decode_segment)


def _jwt() -> PyJWT:
    api = PyJWT()
    try:
        api._jws = FastJWS(options=api._get_sig_options())  # noqa: SLF001 - PyJWT keeps its JWS here
    except AttributeError:  # a PyJWT whose internals moved: its own (slower, equally strict) decoding stays
        pass
    return api


_JWS = FastJWS()
_JWT = _jwt()
get_unverified_header = _JWS.get_unverified_header
decode_complete_jws = _JWS.decode_complete
decode = _JWT.decode


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
        self.size = size
        self._items: OrderedDict[tuple, tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def decode(self, token: str, key: Any, *, algorithms: list[str], audience: str, issuer: str,
               require: list[str], leeway: float) -> dict[str, Any]:
        if "exp" not in require:
            raise ValueError("VerifiedTokens needs 'exp' among the required claims")
        try:
            key_der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        except AttributeError:  # not a public key object: no caching
            return decode(token, key, algorithms=algorithms, audience=audience, issuer=issuer,
                          options={"require": require}, leeway=leeway)
        cache_key = (token, key_der, tuple(algorithms), audience, issuer, tuple(require), leeway)
        now = time.time()
        with self._lock:
            hit = self._items.get(cache_key)
            if hit is not None:
                if hit[0] > now - leeway:  # PyJWT refuses when exp <= now - leeway
                    return dict(hit[1])
                del self._items[cache_key]
        claims = decode(token, key, algorithms=algorithms, audience=audience, issuer=issuer,
                        options={"require": require}, leeway=leeway)
        exp = claims.get("exp")
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            with self._lock:
                self._items[cache_key] = (float(exp), dict(claims))
                self._items.move_to_end(cache_key)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return claims

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
