"""JWT reading with PyJWT's public API against the former fast path (#18 item 5): microseconds per call.

Until #18, ``gateway.security.jws`` replaced PyJWT's private ``PyJWS._decode_base64url_segment`` with a
regular expression (PyJWT 2.10+ checks each character of a segment in a Python generator). This script
times, on a clinician assertion of the usual size (~1 KiB, ES256):

- ``decode``: a full verification (signature, audience, issuer, required claims) with ``jwt.decode``,
  and with the former fast path (rebuilt here, with the private method, for the comparison only);
- ``header``: the unverified header (to find the key id) with ``jwt.get_unverified_header``, with the
  former fast path, with the project's own reading (:func:`gateway.security.jws.parse`, no PyJWT
  internals), and through ``gateway.security.jws.get_unverified_header``, which keeps it per token.

    .venv/bin/python benchmarks/jws_bench.py               # 3000 calls each, best of 5 rounds
    .venv/bin/python benchmarks/jws_bench.py --calls 10000
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.api_jws import PyJWS
from jwt.api_jwt import PyJWT

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gateway.security import jws  # noqa: E402


class _FormerFastJWS(PyJWS):
    """The former fast path: PyJWT's JWS with the segment check replaced (private API; here only)."""

    _decode_base64url_segment = staticmethod(jws.decode_segment)


def _former_jwt() -> PyJWT:
    api = PyJWT()
    api._jws = _FormerFastJWS(options=api._get_sig_options())  # noqa: SLF001 - the former private replacement
    return api


def _assertion(key: ec.EllipticCurvePrivateKey) -> str:
    """A clinician assertion as partner software signs it (the size of the ones the tests send)."""
    now = int(time.time())
    claims = {
        "iss": "client-" + secrets.token_hex(8), "sub": "demo-hcp-0001", "aud": "https://b.example/fhir",
        "iat": now, "exp": now + 600, "jti": secrets.token_urlsafe(16), "purpose_of_use": "TREATMENT",
        "name": "Dr. Demo Clinician", "role": "221", "organisation": "Demo Hospital",
        "organisation_id": "urn:oid:0.0.0.0.1", "language": "en", "note": "x" * 600,
    }
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": "k1"})


def _per_call(func: Callable[[], Any], calls: int, rounds: int) -> float:
    """Microseconds per call, best of ``rounds``."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            func()
        best = min(best, time.perf_counter() - started)
    return best / calls * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    key = ec.generate_private_key(ec.SECP256R1())
    token = _assertion(key)
    public = key.public_key()
    former = _former_jwt()
    former_jws = _FormerFastJWS()
    options = {"algorithms": ["ES256"], "audience": "https://b.example/fhir", "options": {"require": ["exp", "iat"]}}
    assert jwt.decode(token, public, **options) == former.decode(token, public, **options)  # noqa: S101
    assert jwt.get_unverified_header(token) == jws.get_unverified_header(token)  # noqa: S101
    rows = [
        ("decode", "jwt.decode (public API)", lambda: jwt.decode(token, public, **options)),
        ("decode", "former fast path", lambda: former.decode(token, public, **options)),
        ("header", "jwt.get_unverified_header (public API)", lambda: jwt.get_unverified_header(token)),
        ("header", "former fast path", lambda: former_jws.get_unverified_header(token)),
        ("header", "own parse (jws.parse + PyJWT's header checks)", lambda: jws._unverified_header.__wrapped__(token)),
        ("header", "jws.get_unverified_header (own parse, kept)", lambda: jws.get_unverified_header(token)),
    ]
    print(f"token: {len(token)} bytes; {args.calls} calls, best of {args.rounds} rounds")
    for what, how, func in rows:
        print(f"{what:7} {how:48} {_per_call(func, args.calls, args.rounds):8.1f} us/call")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
