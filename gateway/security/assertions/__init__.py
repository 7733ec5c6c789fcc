"""Signed assertions between NCPeHs: the HCP identity assertion and the TRC assertion.

Country B's NCPeH signs, with its assertion-signing key (ES256, published in the trust list):

* once per **clinician session** and destination (as eHDSI and IHE XUA do), an **HCP identity
  assertion** (IHE IUA JWT, ``typ: hcp+jwt``), sent as ``Authorization: Bearer`` with every call of
  that session (:meth:`AssertionSigner.session_hcp`, kept on the runtime until
  :data:`HCP_RENEW_BEFORE` seconds before it expires)::

      {"iss": <B's NCPeH URL>, "sub": <clinician id>, "aud": <A's NCPeH URL>,
       "iat", "nbf", "exp" (at most 3600 s), "jti", "locale": <clinician's preferred language>,
       "extensions": {"ihe_iua": {
           "subject_name", "subject_organization", "subject_organization_id",
           "subject_role": {"system": ISCO-08, "code", "display"},
           "purpose_of_use": {"system": XSPA, "code": "TREATMENT" | "EMERGENCY"},
           "home_community_id": "urn:ncpeh-demo:<B>", "national_provider_identifier"}}}

* for every call about one patient, a fresh single-use **TRC assertion** (treatment relationship
  confirmation, ``typ: trc+jwt``), sent as ``X-TRC-Assertion`` on ``$summary`` and
  ``$original-document``, binding the same clinician (``sub``), the patient (``patient_id``: the id
  country A gave in identification) and the purpose of use.

Country A verifies them with :class:`AssertionVerifier`, in this order, refusing with a specific
code at the first failure: signature by a key the trust list gives to the country of the TLS client
certificate (the algorithm is pinned to ES256 before any key is used); token type and issuer;
audience; time window (clock skew, maximum lifetime: HCP 3600 s, TRC 600 s); the TRC's ``jti`` not
seen before (persistent replay cache; the HCP's ``jti`` is not single-use); the HCP's identity
claims; role and purpose by :mod:`gateway.security.policy`; TRC bound to the HCP assertion and the
requested patient. Consent is checked by the caller afterwards.

An HCP assertion that passed is kept verified (:class:`KeptHcp`, in an
:class:`~gateway.security.sessions.ExpiringCache` on the runtime) until its ``exp``, bound to the
assertion's SHA-256, the SHA-256 of the TLS client certificate it came with, the audience and the trust
list it was verified under: the same assertion over the same certificate is not verified again, over
another certificate it is verified in full (and refused unless that certificate is its issuer's), and a
reloaded trust list (a country removed, a key revoked) verifies it in full at its next use. Role,
purpose, the TRC and its replay are checked on every call.

Partner software names the clinician to country B with a **clinician assertion**
(``X-Clinician-Assertion``), an ES256 JWT signed by a key registered for the partner client, see
:func:`verify_clinician_assertion`.

Modules: ``common`` (algorithm, types, lifetimes, :class:`Clinician`, :class:`AssertionRejected`),
``signing`` (country B), ``verification`` (country A), ``clinician`` (the partner's clinician assertion).
"""

from __future__ import annotations

from gateway.security.assertions.clinician import client_jwks, clinician_assertion, verify_clinician_assertion
from gateway.security.assertions.common import (
    ALGORITHM,
    CLINICIAN_MAX_LIFETIME,
    CLINICIAN_TYPE,
    CLOCK_SKEW,
    HCP_LIFETIME,
    HCP_MAX_LIFETIME,
    HCP_RENEW_BEFORE,
    HCP_SESSION_LIFETIME,
    HCP_TYPE,
    MAX_LIFETIME,
    MAX_TOKEN_CHARS,
    TRC_LIFETIME,
    TRC_TYPE,
    AssertionRejected,
    Clinician,
    home_community_id,
)
from gateway.security.assertions.signing import AssertionSigner
from gateway.security.assertions.verification import AssertionVerifier, KeptHcp, ReplayRegistry, Verified

__all__ = [
    "ALGORITHM",
    "CLINICIAN_MAX_LIFETIME",
    "CLINICIAN_TYPE",
    "CLOCK_SKEW",
    "HCP_LIFETIME",
    "HCP_MAX_LIFETIME",
    "HCP_RENEW_BEFORE",
    "HCP_SESSION_LIFETIME",
    "HCP_TYPE",
    "MAX_LIFETIME",
    "MAX_TOKEN_CHARS",
    "TRC_LIFETIME",
    "TRC_TYPE",
    "AssertionRejected",
    "AssertionSigner",
    "AssertionVerifier",
    "Clinician",
    "KeptHcp",
    "ReplayRegistry",
    "Verified",
    "client_jwks",
    "clinician_assertion",
    "home_community_id",
    "verify_clinician_assertion",
]
