"""Who may retrieve a patient summary across the border, and why (the access policy table).

Roles are ISCO-08 occupation codes, as in the eHDSI value set *eHDSIHealthcareProfessionalRole*
(code system ``urn:oid:2.16.840.1.113883.2.9.6.2.7``). Purposes of use are the two the eHDSI
patient-summary service knows: ``TREATMENT`` (planned care, needs a treatment relationship) and
``EMERGENCY`` (unplanned care).

Both NCPeHs apply this table: country B before it signs an HCP assertion (so that a clinician
gets a clear answer at home), and country A when it verifies one (the decisive check).

=========  ==========================================  ======================
ISCO-08    Role                                        Purposes allowed
=========  ==========================================  ======================
221        Medical doctors                             TREATMENT, EMERGENCY
2211       Generalist medical practitioners            TREATMENT, EMERGENCY
2212       Specialist medical practitioners            TREATMENT, EMERGENCY
2261       Dentists                                    TREATMENT, EMERGENCY
2262       Pharmacists                                 TREATMENT, EMERGENCY
2222       Midwifery professionals                     TREATMENT, EMERGENCY
2221       Nursing professionals                       TREATMENT, EMERGENCY
222        Nursing and midwifery professionals         TREATMENT, EMERGENCY
2264       Physiotherapists                            TREATMENT
=========  ==========================================  ======================

Any other code (for example 2265 dieticians, 225 veterinarians, 3256 medical assistants) is
refused: the table is an allow-list. :data:`OCCUPATIONS` is the one table of the occupations the
product knows (the allowed ones and a few refused ones, with the names ``ncpeh users add --role``
accepts); :data:`ROLES` is its allowed part. The portal translates the same codes (``ROLE_LABELS``).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway import errors

ROLE_SYSTEM = "urn:oid:2.16.840.1.113883.2.9.6.2.7"  # ISCO-08
PURPOSE_SYSTEM = "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"
TREATMENT, EMERGENCY = "TREATMENT", "EMERGENCY"
PURPOSES = (TREATMENT, EMERGENCY)
_BOTH = frozenset(PURPOSES)


@dataclass(frozen=True)
class Role:
    code: str
    display: str
    purposes: frozenset[str]  # empty: not allowed to retrieve summaries
    name: str | None = None  # what the command line accepts instead of the code (--role physician)


#: The ISCO-08 occupations the product knows: the policy table (those with purposes) and a few it refuses.
OCCUPATIONS: dict[str, Role] = {
    role.code: role
    for role in (
        Role("221", "Medical doctors", _BOTH, "physician"),
        Role("2211", "Generalist medical practitioners", _BOTH, "gp"),
        Role("2212", "Specialist medical practitioners", _BOTH, "specialist"),
        Role("2261", "Dentists", _BOTH, "dentist"),
        Role("2262", "Pharmacists", _BOTH, "pharmacist"),
        Role("2222", "Midwifery professionals", _BOTH, "midwife"),
        Role("2221", "Nursing professionals", _BOTH, "nurse"),
        Role("222", "Nursing and midwifery professionals", _BOTH),
        Role("2264", "Physiotherapists", frozenset({TREATMENT}), "physiotherapist"),
        Role("2265", "Dieticians and nutritionists", frozenset(), "dietician"),
        Role("3344", "Medical secretaries", frozenset(), "medical-secretary"),
        Role("3256", "Medical assistants", frozenset(), "medical-assistant"),
    )
}
#: The policy table: the occupations that may retrieve patient summaries, and for which purposes.
ROLES: dict[str, Role] = {code: role for code, role in OCCUPATIONS.items() if role.purposes}
#: Names the command line accepts for an ISCO-08 code (``--role physician``); any other code is accepted too.
ROLE_NAMES: dict[str, str] = {role.name: code for code, role in OCCUPATIONS.items() if role.name}


def role_display(code: str) -> str:
    role = ROLES.get(code)
    return role.display if role else code


def check(role: str | None, purpose: str | None) -> Role:
    """Raise a Forbidden error with a specific code unless ``role`` may act for ``purpose``."""
    if not purpose:
        raise errors.Forbidden(
            f"The purpose of use is missing; give one of {', '.join(PURPOSES)}.", code="PURPOSE_OF_USE_MISSING"
        )
    if purpose not in PURPOSES:
        raise errors.Forbidden(
            f"Purpose of use {str(purpose)[:40]!r} is not allowed; give one of {', '.join(PURPOSES)}.",
            code="PURPOSE_NOT_ALLOWED",
        )
    if not role:
        raise errors.Forbidden("The clinician's role is missing (an ISCO-08 code).", code="ROLE_MISSING")
    entry = ROLES.get(role)
    if entry is None:
        raise errors.Forbidden(
            f"Role {str(role)[:20]!r} may not retrieve patient summaries across the border "
            f"(allowed ISCO-08 codes: {', '.join(sorted(ROLES))}).",
            code="ROLE_NOT_ALLOWED",
        )
    if purpose not in entry.purposes:
        raise errors.Forbidden(
            f"{entry.display} may retrieve patient summaries only for {', '.join(sorted(entry.purposes))}.",
            code="PURPOSE_NOT_ALLOWED",
        )
    return entry
