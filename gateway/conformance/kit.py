"""What the checks work with: the channel, assertions signed as the foreign NCPeH would, and the
identification and summary of the tester's patient (fetched once, shared by the checks that read them).
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from gateway.conformance.catalogue import Fail, Skip
from gateway.conformance.client import (
    Channel,
    KitInputError,
    Response,
    Settings,
    TransportError,
    load_key,
    need_patient,
)
from gateway.security import jws
from gateway.security.assertions import HCP_TYPE, TRC_TYPE, home_community_id
from gateway.security.pki import PKIError
from gateway.security.policy import PURPOSE_SYSTEM, ROLE_SYSTEM, TREATMENT
from gateway.security.trustlist import key_id

TRC_HEADER = "X-TRC-Assertion"
#: The clinician on whose behalf the kit asks (a physician, ISCO-08 221, treating the patient).
CLINICIAN = {"sub": "conformance-kit-clinician", "name": "Dr. Conformance Kit", "role": "221",
             "organisation": "NCPeH conformance kit", "organisation_id": "urn:oid:2.999.1", "locale": "en"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class Kit:
    """One run against one target: signs a fresh HCP/TRC assertion for every call unless a check passes
    its own (spoiled or replayed) token."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.channel = Channel(settings)
        try:
            self.key: ec.EllipticCurvePrivateKey = load_key(settings.signing_key, settings.key_password)
        except PKIError as exc:
            raise KitInputError(f"signing key: {exc}") from None
        self.kid = key_id(self.key.public_key())
        self._identified: dict[str, str] = {}
        self._summary: Response | None = None

    # --- assertions (docs/trust-and-assertions.md) -----------------------------------------------

    def claims(self, lifetime: int = 300) -> dict[str, Any]:
        now = int(time.time())
        return {"iss": self.settings.issuer, "sub": CLINICIAN["sub"], "aud": self.settings.audience, "iat": now,
                "nbf": now, "exp": now + lifetime, "jti": secrets.token_urlsafe(18)}

    def hcp_claims(self, role: str = CLINICIAN["role"], purpose: str = TREATMENT, **changes: Any) -> dict[str, Any]:
        claims = self.claims()
        claims["locale"] = CLINICIAN["locale"]
        claims["extensions"] = {"ihe_iua": {
            "subject_name": CLINICIAN["name"], "subject_organization": CLINICIAN["organisation"],
            "subject_organization_id": CLINICIAN["organisation_id"],
            "subject_role": {"system": ROLE_SYSTEM, "code": role},
            "purpose_of_use": {"system": PURPOSE_SYSTEM, "code": purpose},
            "home_community_id": home_community_id(self.settings.country),
            "national_provider_identifier": CLINICIAN["sub"],
        }}
        claims.update(changes)
        return claims

    def trc_claims(self, patient_id: str, purpose: str = TREATMENT, **changes: Any) -> dict[str, Any]:
        claims = self.claims()
        claims["patient_id"] = patient_id
        claims["purpose_of_use"] = {"system": PURPOSE_SYSTEM, "code": purpose}
        claims.update(changes)
        return claims

    def sign(self, claims: dict[str, Any], typ: str, **header: Any) -> str:
        return jws.sign_es256(claims, self.key, {"kid": self.kid, "typ": typ, **header})

    def hcp(self, **changes: Any) -> str:
        return self.sign(self.hcp_claims(**changes), HCP_TYPE)

    def trc(self, patient_id: str, **changes: Any) -> str:
        return self.sign(self.trc_claims(patient_id, **changes), TRC_TYPE)

    @staticmethod
    def unsigned(claims: dict[str, Any], typ: str, kid: str) -> str:
        """``alg: none``: header and payload, empty signature."""
        header = {"alg": "none", "typ": typ, "kid": kid}
        return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."

    # --- calls -------------------------------------------------------------------------------------

    def call(self, path: str, params: Any = None, hcp: str | None = None, trc: str | None = None,
             context: str = "default") -> Response:
        headers = {}
        if hcp is not None:
            headers["Authorization"] = f"Bearer {hcp}"
        if trc is not None:
            headers[TRC_HEADER] = trc
        try:
            return self.channel.request(path, params, headers, context=context)
        except TransportError as exc:
            raise Fail(f"the call failed: {exc}") from None

    def search(self, traits: dict[str, str] | list[tuple[str, str]], hcp: str | None = None) -> Response:
        return self.call("/Patient", traits, hcp=self.hcp() if hcp is None else hcp)

    def summary_call(self, patient_id: str, hcp: str | None = None, trc: str | None = None) -> Response:
        return self.call(f"/Patient/{patient_id}/$summary", hcp=self.hcp() if hcp is None else hcp,
                         trc=self.trc(patient_id) if trc is None else trc)

    def identify(self, which: str = "patient") -> str:
        """The target's id of the tester's patient (``patient`` or ``opposed``), identified once."""
        if which in self._identified:
            return self._identified[which]
        if which == "opposed":
            traits = self.settings.opposed_patient
            if not traits:
                raise Skip("no patient who opposed cross-border access given (--opposed-patient TRAIT=VALUE …)")
        else:
            traits = need_patient(self.settings)
        resp = self.search(traits)
        data = resp.json()
        entries = data.get("entry") if isinstance(data, dict) and data.get("resourceType") == "Bundle" else None
        if resp.status != 200 or not isinstance(entries, list) or len(entries) != 1:
            raise Skip(f"the {'opposed ' if which == 'opposed' else ''}patient given was not identified "
                       f"({resp.describe()}, {len(entries) if isinstance(entries, list) else 0} match(es); see ID-MATCH)")
        resource = entries[0].get("resource") if isinstance(entries[0], dict) else None
        patient_id = resource.get("id") if isinstance(resource, dict) else None
        if not isinstance(patient_id, str) or not patient_id:
            raise Skip("the matched Patient has no id (see ID-PATIENT)")
        self._identified[which] = patient_id
        return patient_id

    def summary_response(self) -> Response:
        """The answer to ``$summary`` of the tester's patient (fetched once)."""
        if self._summary is None:
            self._summary = self.summary_call(self.identify())
        return self._summary

    def summary(self) -> dict[str, Any]:
        """That summary as a JSON object; Skip when there is none to inspect (SUM-OK says why)."""
        resp = self.summary_response()
        data = resp.json()
        if resp.status != 200 or not isinstance(data, dict):
            raise Skip(f"no summary to inspect ({resp.describe()}; see SUM-OK)")
        return data
