"""Public keys as JWKs: the key id, the JWK of a signing key (trust list, partner clients) and the lookup of
a registered key by ``kid`` and algorithm. PyJWT's public API (``jwt.PyJWK``, ``ECAlgorithm.to_jwk``)."""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

#: The one signature algorithm of the trust list, the NCPeH assertions and the partners' clinician assertions.
ALGORITHM = "ES256"
#: JWK key type and curve each accepted algorithm needs.
_KEY_TYPES: dict[str, tuple[str, str | None]] = {"ES256": ("EC", "P-256"), "ES384": ("EC", "P-384")}


def key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """The ``kid`` of a public key: the first 16 hex digits of the SHA-256 of its DER encoding."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def public_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, Any]:
    """The JWK of an EC signing key, with its ``kid``, ``use`` sig and ``alg`` ES256."""
    jwk = json.loads(ECAlgorithm.to_jwk(public_key))
    jwk.update({"kid": key_id(public_key), "use": "sig", "alg": ALGORITHM})
    return jwk


def find_key(jwks: dict | None, kid: str | None, alg: str) -> Any:
    """The public key of the JWKS ``{"keys": [...]}`` with this ``kid`` (any, when None) that fits ``alg``
    (key type, curve, and its own ``alg`` when it names one), or None."""
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    kind, curve = _KEY_TYPES.get(alg, ("RSA" if alg.startswith(("RS", "PS")) else "EC", None))
    for jwk in keys if isinstance(keys, list) else []:
        if not isinstance(jwk, dict) or (kid is not None and jwk.get("kid") != kid):
            continue
        if jwk.get("kty") != kind or (curve and jwk.get("crv") != curve) or jwk.get("alg", alg) != alg:
            continue
        try:
            return _parsed(json.dumps({k: v for k, v in jwk.items() if k != "alg"}, sort_keys=True), alg)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            continue
    return None


@functools.lru_cache(maxsize=256)
def _parsed(jwk_json: str, alg: str) -> Any:
    """A registered key, parsed once per process (keyed by its JWK: a new key is a new entry)."""
    return jwt.PyJWK(json.loads(jwk_json), alg).key
