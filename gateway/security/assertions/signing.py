"""Country B signs: the HCP identity assertion (kept per clinician session on the runtime) and the TRC assertion."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from gateway.security import jws, policy
from gateway.security.assertions.common import (
    HCP_LIFETIME,
    HCP_MAX_LIFETIME,
    HCP_RENEW_BEFORE,
    HCP_SESSION_LIFETIME,
    HCP_TYPE,
    TRC_LIFETIME,
    TRC_TYPE,
    Clinician,
    home_community_id,
)
from gateway.security.sessions import ExpiringCache


@dataclass(frozen=True)
class AssertionSigner:
    """Signs assertions for one NCPeH (its code, its NCPeH URL and its active signing key).

    ``sessions`` (the runtime's cache) keeps each clinician session's HCP assertion for
    :meth:`session_hcp`; ``hcp_lifetime`` is their lifetime (at most :data:`HCP_MAX_LIFETIME`).
    """

    country_code: str
    issuer: str
    kid: str
    key: ec.EllipticCurvePrivateKey = field(repr=False)
    clock: Callable[[], float] = time.time
    sessions: ExpiringCache[str] | None = field(default=None, repr=False, compare=False)
    hcp_lifetime: int = HCP_SESSION_LIFETIME

    def _sign(self, claims: dict[str, Any], typ: str) -> str:
        return jws.sign_es256(claims, self.key, {"kid": self.kid, "typ": typ})

    def _base(self, clinician: Clinician, audience: str, lifetime: int) -> dict[str, Any]:
        now = int(self.clock())
        return {"iss": self.issuer, "sub": clinician.id, "aud": audience, "iat": now, "nbf": now,
                "exp": now + lifetime, "jti": secrets.token_urlsafe(18)}

    def hcp(self, clinician: Clinician, purpose: str, audience: str, lifetime: int = HCP_LIFETIME) -> str:
        claims = self._base(clinician, audience, lifetime)
        claims["locale"] = clinician.language
        claims["extensions"] = {"ihe_iua": {
            "subject_name": clinician.name,
            "subject_organization": clinician.organisation,
            "subject_organization_id": clinician.organisation_id,
            "subject_role": {"system": policy.ROLE_SYSTEM, "code": clinician.role,
                             "display": policy.role_display(clinician.role)},
            "purpose_of_use": {"system": policy.PURPOSE_SYSTEM, "code": purpose},
            "home_community_id": home_community_id(self.country_code),
            "national_provider_identifier": clinician.id,
        }}
        return self._sign(claims, HCP_TYPE)

    def session_hcp(self, clinician: Clinician, purpose: str, audience: str, session: str = "") -> str:
        """The HCP assertion of this clinician's session with ``audience``: signed once, then the same one
        until :data:`HCP_RENEW_BEFORE` seconds before it expires.

        Kept per everything the assertion states (the clinician's claims, purpose, issuer, country),
        the audience, the signing key and ``session`` (the portal's sign-in; empty for the partner API,
        whose session is the clinician's claims). Without ``sessions``, a new one every call.
        """
        lifetime = max(HCP_RENEW_BEFORE * 2, min(self.hcp_lifetime, HCP_MAX_LIFETIME))
        if self.sessions is None:
            return self.hcp(clinician, purpose, audience, lifetime)
        key = (self.kid, self.issuer, self.country_code, audience, purpose, clinician, session)
        now = self.clock()
        token = self.sessions.get(key, now)
        if token is None:
            token = self.hcp(clinician, purpose, audience, lifetime)
            self.sessions.put(key, token, int(now) + lifetime - HCP_RENEW_BEFORE, now)
        return token

    def trc(self, clinician: Clinician, purpose: str, patient_id: str, audience: str,
            lifetime: int = TRC_LIFETIME) -> str:
        claims = self._base(clinician, audience, lifetime)
        claims["patient_id"] = patient_id
        claims["purpose_of_use"] = {"system": policy.PURPOSE_SYSTEM, "code": purpose}
        return self._sign(claims, TRC_TYPE)
