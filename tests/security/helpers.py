"""Forging assertions and checking refusals for the hostile-case catalogue."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.fhir import error_code
from gateway.security.assertions import AssertionSigner

INS = "284057505612387"
FR_INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
TRAITS = {"identifier": f"{FR_INS_SYSTEM}|{INS}", "family": "Dupont", "given": "Marie",
          "birthdate": "1984-05-12", "gender": "female"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


def resign(token: str, key: ec.EllipticCurvePrivateKey, header: dict | None = None, **claims: Any) -> str:
    """Re-sign ``token`` with ``key`` after changing claims (None removes a claim) and header fields."""
    head, body = parts(token)
    head.update(header or {})
    for name, value in claims.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    extra = {k: v for k, v in head.items() if k not in ("alg",)}
    return jwt.encode(body, key, algorithm="ES256", headers=extra)


def resign_iua(token: str, key: ec.EllipticCurvePrivateKey, **iua: Any) -> str:
    """Re-sign after changing claims under extensions.ihe_iua (None removes one)."""
    _, body = parts(token)
    ext = body["extensions"]["ihe_iua"]
    for name, value in iua.items():
        if value is None:
            ext.pop(name, None)
        else:
            ext[name] = value
    return resign(token, key, extensions=body["extensions"])


def unsigned(token: str) -> str:
    """The same claims with ``alg: none`` and no signature."""
    head, body = parts(token)
    head["alg"] = "none"
    return f"{b64(json.dumps(head).encode())}.{b64(json.dumps(body).encode())}."


def hs256_with_public_key(token: str, public_pem: bytes) -> str:
    """The classic key-confusion attack: HMAC-SHA256 keyed with the issuer's public key."""
    head, body = parts(token)
    head["alg"] = "HS256"
    signing_input = f"{b64(json.dumps(head).encode())}.{b64(json.dumps(body).encode())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def hcp(signer: AssertionSigner, clinician, audience: str, purpose: str = "TREATMENT") -> str:  # noqa: ANN001
    return signer.hcp(clinician, purpose, audience)


def assert_refused(resp: requests.Response, status: int, code: str) -> dict:
    """A clear refusal: the status, an OperationOutcome with this code, nothing leaked."""
    assert resp.status_code == status, f"{resp.status_code} {resp.text[:400]}"
    assert resp.headers["Content-Type"].startswith("application/fhir+json"), resp.headers["Content-Type"]
    outcome = resp.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert error_code(outcome) == code, outcome
    text = resp.text
    for leak in ("Traceback", "File \"", "BEGIN ", "PRIVATE KEY", "eyJ"):
        assert leak not in text, f"refusal leaks {leak!r}: {text[:400]}"
    assert outcome["issue"][0]["diagnostics"]
    return outcome
