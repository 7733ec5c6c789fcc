"""HCP and TRC assertions: each check spoils one property of an otherwise valid assertion and expects
a refusal (401 or 403, as docs/trust-and-assertions.md allows, with an OperationOutcome).

The HCP identity assertion is the clinician's session (eHDSI, IHE XUA): sent again within its validity by
the same NCPeH it is accepted (AS-HCP-REUSE); the TRC assertion is single-use (AS-TRC-REPLAY). The kit
holds one NCPeH's certificate and key, so it cannot present a reused HCP assertion over another NCPeH's
certificate (this project tests that in tests/security/test_hcp_sessions.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.conformance.catalogue import Fail, check
from gateway.conformance.client import Response, expect_refusal
from gateway.conformance.kit import Kit, b64
from gateway.security import jws
from gateway.security.assertions import HCP_TYPE, TRC_TYPE
from gateway.security.policy import EMERGENCY
from gateway.security.trustlist import key_id

IUA = "IHE IUA; eHDSI HCP identity assertion"
TRC = "eHDSI TRC assertion"
JWT = "RFC 7519/8725 JWT"
REFUSED = (401, 403)
SESSION = "eHDSI and IHE XUA (one identity assertion per clinician session)"


def _hcp_call(kit: Kit, token: str) -> Response:
    """A search carrying ``token`` as the HCP assertion (the patient's traits when given)."""
    return kit.search(kit.settings.patient or {}, hcp=token)


def _trc_call(kit: Kit, token_for: Callable[[str], str]) -> Response:
    """``$summary`` of the identified patient with a valid HCP assertion and ``token_for(patient_id)`` as TRC."""
    patient_id = kit.identify()
    return kit.summary_call(patient_id, trc=token_for(patient_id))


def _timed(kit: Kit, claims: dict[str, Any], start: int, lifetime: int) -> dict[str, Any]:
    now = int(time.time())
    claims.update(iat=now + start, nbf=now + start, exp=now + start + lifetime)
    return claims


def _bad_signature(kit: Kit, claims: dict[str, Any], typ: str) -> str:
    """The header and payload of ``claims``, with the signature of other claims (same key)."""
    token = kit.sign(claims, typ)
    other = kit.sign({**claims, "jti": claims["jti"] + "x"}, typ)
    return token.rpartition(".")[0] + "." + other.rpartition(".")[2]


def _hs256(kit: Kit, claims: dict[str, Any], typ: str) -> str:
    """Algorithm confusion: HS256 keyed with the sender's public key (PEM) as the shared secret."""
    secret = kit.key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'typ': typ, 'kid': kit.kid}).encode())}." \
                    f"{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def _unknown_key(claims: dict[str, Any], typ: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return jws.sign_es256(claims, key, {"kid": key_id(key.public_key()), "typ": typ})


# --- missing ------------------------------------------------------------------------------------


@check("AS-HCP-MISSING", "assertions", "A request without an HCP assertion is refused", IUA)
def hcp_missing(kit: Kit) -> str:
    return expect_refusal(kit.call("/Patient", kit.settings.patient or None), REFUSED, "no HCP assertion")


@check("AS-TRC-MISSING", "assertions", "$summary without a TRC assertion is refused (401 or 403)", TRC)
def trc_missing(kit: Kit) -> str:
    patient_id = kit.identify()
    resp = kit.call(f"/Patient/{patient_id}/$summary", hcp=kit.hcp())
    return expect_refusal(resp, REFUSED, "no TRC assertion")


# --- the same spoilers on both assertions -------------------------------------------------------

#: name -> (description, specification, spoiler(kit, claims, typ) -> token)
SPOILERS: dict[str, tuple[str, str, Callable[[Kit, dict[str, Any], str], str]]] = {
    "EXPIRED": ("expired (exp 10 minutes ago)", JWT + " (exp)",
                lambda kit, c, typ: kit.sign(_timed(kit, c, -900, 300), typ)),
    "NOT-YET-VALID": ("not yet valid (nbf and iat in 10 minutes)", JWT + " (nbf)",
                      lambda kit, c, typ: kit.sign(_timed(kit, c, 600, 300), typ)),
    "WRONG-AUDIENCE": ("for another audience (aud of another NCPeH)", JWT + " (aud)",
                       lambda kit, c, typ: kit.sign({**c, "aud": "https://other-ncpeh.invalid"}, typ)),
    "WRONG-ISSUER": ("from another issuer than the TLS client's NCPeH", JWT + " (iss)",
                     lambda kit, c, typ: kit.sign({**c, "iss": "https://other-ncpeh.invalid"}, typ)),
    "BAD-SIGNATURE": ("with a signature that does not verify", JWT + " (JWS signature)", _bad_signature),
    "ALG-NONE": ("unsigned (alg: none)", JWT + " (alg none refused)",
                 lambda kit, c, typ: kit.unsigned(c, typ, kit.kid)),
}


def _register_spoilers() -> None:
    for name, (what, spec, spoil) in SPOILERS.items():
        def hcp_check(kit: Kit, spoil: Callable = spoil, what: str = what) -> str:
            return expect_refusal(_hcp_call(kit, spoil(kit, kit.hcp_claims(), HCP_TYPE)), REFUSED,
                                  f"an HCP assertion {what}")

        def trc_check(kit: Kit, spoil: Callable = spoil, what: str = what) -> str:
            resp = _trc_call(kit, lambda pid: spoil(kit, kit.trc_claims(pid), TRC_TYPE))
            return expect_refusal(resp, REFUSED, f"a TRC assertion {what}")

        check(f"AS-HCP-{name}", "assertions", f"An HCP assertion {what} is refused", f"{IUA}; {spec}")(hcp_check)
        check(f"AS-TRC-{name}", "assertions", f"A TRC assertion {what} is refused", f"{TRC}; {spec}")(trc_check)


_register_spoilers()


# --- HCP only -----------------------------------------------------------------------------------


@check("AS-HCP-HS256", "assertions", "An HCP assertion signed HS256 with the sender's public key as secret "
       "(algorithm confusion) is refused", f"{IUA}; {JWT} (algorithm pinning)")
def hcp_hs256(kit: Kit) -> str:
    return expect_refusal(_hcp_call(kit, _hs256(kit, kit.hcp_claims(), HCP_TYPE)), REFUSED, "an HS256 HCP assertion")


@check("AS-HCP-UNKNOWN-KEY", "assertions", "An HCP assertion signed with a key the trust list does not give the "
       "sending country is refused", f"{IUA}; eHDSI trust list (signing keys)")
def hcp_unknown_key(kit: Kit) -> str:
    return expect_refusal(_hcp_call(kit, _unknown_key(kit.hcp_claims(), HCP_TYPE)), REFUSED,
                          "an HCP assertion signed with an unknown key")


@check("AS-HCP-MALFORMED", "assertions", "A bearer token that is not a JWT is refused", f"{IUA}; RFC 6750")
def hcp_malformed(kit: Kit) -> str:
    return expect_refusal(_hcp_call(kit, "not-a-jwt"), REFUSED, "a malformed HCP assertion")


@check("AS-HCP-WRONG-TYPE", "assertions", "A TRC assertion sent as the HCP assertion (token type confusion) is refused",
       f"{IUA}; {JWT} (explicit typing)")
def hcp_wrong_type(kit: Kit) -> str:
    token = kit.sign(kit.trc_claims("conformance-kit-patient"), TRC_TYPE)
    return expect_refusal(_hcp_call(kit, token), REFUSED, "a TRC assertion in place of the HCP assertion")


@check("AS-HCP-LIFETIME", "assertions", "An HCP assertion valid for a whole day is refused (a clinician session's "
       "assertion lasts at most one hour)", f"{IUA}; {JWT}; {SESSION}", severity="warning")
def hcp_lifetime(kit: Kit) -> str:
    token = kit.sign(_timed(kit, kit.hcp_claims(), 0, 86400), HCP_TYPE)
    return expect_refusal(_hcp_call(kit, token), REFUSED, "an HCP assertion valid for 24 h")


@check("AS-HCP-CLAIMS-MISSING", "assertions", "An HCP assertion without the IUA identity claims (extensions.ihe_iua) "
       "is refused", IUA)
def hcp_claims_missing(kit: Kit) -> str:
    claims = kit.hcp_claims()
    del claims["extensions"]
    return expect_refusal(_hcp_call(kit, kit.sign(claims, HCP_TYPE)), REFUSED, "an HCP assertion without identity claims")


@check("AS-HCP-REUSE", "assertions", "An HCP assertion sent again within its validity by the same NCPeH (the "
       "clinician's session) is accepted", f"{IUA}; {SESSION}")
def hcp_reuse(kit: Kit) -> str:
    token = kit.hcp()
    first = _hcp_call(kit, token)
    if first.status in REFUSED:
        raise Fail(f"the first use of a valid HCP assertion was refused ({first.describe()})")
    second = _hcp_call(kit, token)
    if second.status in REFUSED:
        raise Fail(f"the same HCP assertion sent again within its validity was refused ({second.describe()}): "
                   "a clinician session's calls share one identity assertion")
    return f"accepted again ({second.describe()})"


@check("AS-ROLE-NOT-ALLOWED", "assertions", "An HCP assertion for a role the access policy refuses (ISCO-08 4226, "
       "receptionist) is refused", f"{IUA}; eHDSI HCP roles (ISCO-08) and access policy")
def role_not_allowed(kit: Kit) -> str:
    return expect_refusal(_hcp_call(kit, kit.hcp(role="4226")), REFUSED, "a receptionist's HCP assertion")


@check("AS-PURPOSE-NOT-ALLOWED", "assertions", "An HCP assertion with a purpose of use other than TREATMENT or "
       "EMERGENCY is refused", f"{IUA}; eHDSI purpose of use (XSPA)")
def purpose_not_allowed(kit: Kit) -> str:
    return expect_refusal(_hcp_call(kit, kit.hcp(purpose="MARKETING")), REFUSED, "purpose of use MARKETING")


# --- TRC only -----------------------------------------------------------------------------------


@check("AS-TRC-REPLAY", "assertions", "A TRC assertion sent a second time (same jti, new HCP assertion) is refused",
       f"{TRC}; {JWT} (jti, replay)")
def trc_replay(kit: Kit) -> str:
    patient_id = kit.identify()
    token = kit.trc(patient_id)
    first = kit.summary_call(patient_id, trc=token)
    if first.status in REFUSED:
        raise Fail(f"the first use of a valid TRC assertion was refused ({first.describe()})")
    return expect_refusal(kit.summary_call(patient_id, trc=token), REFUSED, "the second use of a TRC assertion")


@check("AS-TRC-OTHER-PATIENT", "assertions", "A TRC assertion bound to another patient is refused",
       f"{TRC} (patient binding)")
def trc_other_patient(kit: Kit) -> str:
    resp = _trc_call(kit, lambda pid: kit.trc(pid + "-other"))
    return expect_refusal(resp, REFUSED, "a TRC assertion for another patient")


@check("AS-TRC-OTHER-CLINICIAN", "assertions", "A TRC assertion issued for another clinician than the HCP assertion "
       "is refused", f"{TRC} (same subject as the HCP assertion)")
def trc_other_clinician(kit: Kit) -> str:
    resp = _trc_call(kit, lambda pid: kit.trc(pid, sub="another-clinician"))
    return expect_refusal(resp, REFUSED, "a TRC assertion for another clinician")


@check("AS-TRC-PURPOSE-MISMATCH", "assertions", "A TRC assertion whose purpose of use differs from the HCP "
       "assertion's is refused", f"{TRC}; eHDSI purpose of use")
def trc_purpose_mismatch(kit: Kit) -> str:
    resp = _trc_call(kit, lambda pid: kit.trc(pid, purpose=EMERGENCY))
    return expect_refusal(resp, REFUSED, "a TRC assertion with another purpose of use")
