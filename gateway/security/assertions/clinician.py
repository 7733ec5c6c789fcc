"""The clinician assertion of partner software (country B): its verification, the client's keys, and minting one."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from gateway import errors, timing
from gateway.security import jwk, jws, policy
from gateway.security.assertions.common import (
    ALGORITHM,
    CLINICIAN_MAX_LIFETIME,
    CLINICIAN_TYPE,
    CLOCK_SKEW,
    MAX_TOKEN_CHARS,
    Clinician,
)
from gateway.security.trustlist import key_id


def _clinician_error(code: str, message: str) -> errors.Unauthorized:
    return errors.Unauthorized(message, code=code,
                               headers={"WWW-Authenticate": f'Bearer realm="ncpeh", error="invalid_token", '
                                                            f'error_description="{code}"'})


@timing.timed("clinician")
def verify_clinician_assertion(token: str | None, client_id: str, jwks: dict | None, audience: str,
                               verified: jws.VerifiedTokens,
                               clock: Callable[[], float] = time.time) -> tuple[Clinician, str | None]:
    """The clinician (and purpose of use) a partner client vouches for; raises with a specific code.

    The partner signs, per clinician session, an ES256 JWT with a key registered for the client
    (``clients.jwks``)::

        header  {"alg": "ES256", "typ": "clinician+jwt", "kid": <kid of the registered key>}
        claims  {"iss": <client_id>, "sub": <clinician id>, "aud": <this NCPeH's FHIR base>,
                 "iat", "exp" (at most 15 min later), "name", "role" (ISCO-08 code),
                 "organization", "organization_id", "locale" (e.g. "de"),
                 "purpose_of_use": "TREATMENT" | "EMERGENCY"}

    ``verified`` keeps the assertions that verified with a client's registered key until they expire (keyed
    by the token and that key: the client's keys are read, and the key looked up, on every call).
    """
    if not token:
        raise _clinician_error("CLINICIAN_ASSERTION_MISSING",
                               "Name the clinician in the 'X-Clinician-Assertion' header (an ES256 JWT signed "
                               "with the key registered for this client).")
    if len(token) > MAX_TOKEN_CHARS:
        raise _clinician_error("CLINICIAN_ASSERTION_INVALID", "The clinician assertion is too long.")
    try:
        header = jws.get_unverified_header(token.strip())
    except (jwt.PyJWTError, ValueError, TypeError, UnicodeError):
        raise _clinician_error("CLINICIAN_ASSERTION_INVALID", "The clinician assertion is not a JWT.") from None
    if header.get("alg") != ALGORITHM:
        raise _clinician_error("CLINICIAN_ASSERTION_INVALID",
                               f"The clinician assertion must be signed with {ALGORITHM}.")
    if header.get("typ") != CLINICIAN_TYPE:
        raise _clinician_error("CLINICIAN_ASSERTION_INVALID", f"The clinician assertion's 'typ' must be "
                                                              f"{CLINICIAN_TYPE!r}.")
    key = jwk.find_key(jwks, header.get("kid") if isinstance(header.get("kid"), str) else None, ALGORITHM)
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise _clinician_error("CLINICIAN_KEY_UNKNOWN",
                               "No registered key of this client matches the clinician assertion's 'kid' "
                               "(register one with 'ncpeh clients set-key').")
    try:
        claims = verified.decode(token.strip(), key, algorithms=[ALGORITHM], audience=audience, issuer=client_id,
                                 require=["iss", "sub", "aud", "iat", "exp"], leeway=CLOCK_SKEW)
    except jwt.ExpiredSignatureError:
        raise _clinician_error("CLINICIAN_ASSERTION_EXPIRED", "The clinician assertion has expired.") from None
    except jwt.InvalidSignatureError:
        raise _clinician_error("CLINICIAN_ASSERTION_INVALID",
                               "The clinician assertion's signature does not verify.") from None
    except jwt.PyJWTError as exc:
        raise _clinician_error("CLINICIAN_ASSERTION_INVALID", f"The clinician assertion is not valid here "
                                                              f"({str(exc)[:120]}).") from None
    if int(claims["exp"]) - int(claims["iat"]) > CLINICIAN_MAX_LIFETIME or int(claims["iat"]) > clock() + CLOCK_SKEW:
        raise _clinician_error("CLINICIAN_ASSERTION_INVALID",
                               f"The clinician assertion may be valid for at most {CLINICIAN_MAX_LIFETIME} s.")
    clinician = Clinician(
        id=str(claims["sub"]), name=_text(claims, "name"), role=_text(claims, "role"),
        organisation=_text(claims, "organization"), organisation_id=_text(claims, "organization_id"),
        language=_text(claims, "locale"),
    )
    purpose = claims.get("purpose_of_use")
    return clinician, purpose if isinstance(purpose, str) else None


def _text(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _clinician_error("CLINICIAN_ASSERTION_INCOMPLETE", f"The clinician assertion has no '{name}' claim.")
    return value.strip()


# --- partner keys (registration, and minting for demo and tests) -----------------------------------


def client_jwks(public_keys: list[ec.EllipticCurvePublicKey]) -> dict[str, Any]:
    """The JWKS stored for a partner client (``clients.jwks``); kid as in the trust list."""
    keys = []
    for pub in public_keys:
        if not isinstance(pub, ec.EllipticCurvePublicKey) or pub.curve.name != "secp256r1":
            raise ValueError("partner keys must be EC P-256 public keys")
        keys.append(jwk.public_jwk(pub))
    return {"keys": keys}


def clinician_assertion(key: ec.EllipticCurvePrivateKey, client_id: str, audience: str, clinician: Clinician,
                        purpose: str | None = policy.TREATMENT, lifetime: int = 600, **extra: Any) -> str:
    """What partner software sends as ``X-Clinician-Assertion`` (used by the demo and the tests)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": client_id, "sub": clinician.id, "aud": audience, "iat": now, "exp": now + lifetime,
        "jti": secrets.token_urlsafe(12), "name": clinician.name, "role": clinician.role,
        "organization": clinician.organisation, "organization_id": clinician.organisation_id,
        "locale": clinician.language,
    }
    if purpose is not None:
        claims["purpose_of_use"] = purpose
    claims.update(extra)
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": key_id(key.public_key()),
                                                                  "typ": CLINICIAN_TYPE})
