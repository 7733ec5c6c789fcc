"""What signing at B and verification at A share: algorithm, token types, lifetimes, the clinician, the refusal."""

from __future__ import annotations

from dataclasses import dataclass

from gateway import errors

ALGORITHM = "ES256"
HCP_TYPE = "hcp+jwt"
TRC_TYPE = "trc+jwt"
CLINICIAN_TYPE = "clinician+jwt"
#: Lifetime of an HCP assertion signed with :meth:`AssertionSigner.hcp` (one call, tests).
HCP_LIFETIME = 300
#: Lifetime of a clinician session's HCP assertion (``[assertions] hcp_lifetime``), and the ceiling for it.
HCP_SESSION_LIFETIME = 3600
HCP_MAX_LIFETIME = 3600
#: Country B signs a new session assertion when less than this is left of the one it holds (seconds):
#: more than a call's whole time budget (connect + read timeouts, retry included).
HCP_RENEW_BEFORE = 60
TRC_LIFETIME = 300
#: Country A refuses assertions valid for longer than this (seconds between iat/nbf and exp), per kind.
MAX_LIFETIME = {"HCP": HCP_MAX_LIFETIME, "TRC": 600}
#: Allowed clock difference between the two NCPeHs (seconds).
CLOCK_SKEW = 30
#: Clinician assertions from partner software may live at most this long.
CLINICIAN_MAX_LIFETIME = 900
MAX_TOKEN_CHARS = 8192
CLAIM_MAX = 256


def home_community_id(code: str) -> str:
    """The IHE home community id of a country's NCPeH."""
    return f"urn:ncpeh-demo:{code.upper()}"


class AssertionRejected(errors.Unauthorized):
    """An assertion that cannot be trusted (401): the caller's NCPeH must send a valid one."""

    issue_type = "security"

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, code=code,
                         headers={"WWW-Authenticate": f'Bearer realm="ncpeh", error="invalid_token", '
                                                      f'error_description="{code}"'})


@dataclass(frozen=True)
class Clinician:
    """The health professional on whose behalf country B asks (authenticated by B or its partner)."""

    id: str
    name: str
    role: str  # ISCO-08 code, see gateway.security.policy
    organisation: str
    organisation_id: str
    language: str

    def __post_init__(self) -> None:
        for name in ("id", "name", "role", "organisation", "organisation_id", "language"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise errors.BadRequest(f"The clinician's {name.replace('_', ' ')} is missing.",
                                        code="CLINICIAN_INCOMPLETE")
            if len(value) > CLAIM_MAX or any(ord(ch) < 32 for ch in value):
                raise errors.BadRequest(f"The clinician's {name.replace('_', ' ')} is not acceptable "
                                        f"(at most {CLAIM_MAX} printable characters).", code="CLINICIAN_INCOMPLETE")
