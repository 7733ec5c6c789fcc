"""Event types recorded in the audit trail, and outcome codes (FHIR ``audit-event-outcome``).

Every record has an ``event`` (one of :data:`EVENTS`, or ``admin.<command>``), an ``outcome`` and,
for failures, the ``outcome_code``: the refusal code the caller received (``ACCESS_REFUSED``,
``UNTRUSTED_CERTIFICATE``, ``INVALID_TOKEN``...), the same code as in the OperationOutcome.
"""

from __future__ import annotations

# --- event types ---------------------------------------------------------------------------------
LOGIN = "auth.login"  # clinician sign-in (portal), success or failure
LOGOUT = "auth.logout"  # clinician sign-out
TOKEN = "auth.token"  # partner software authenticated at /oauth/token (client credentials)
IDENTIFY = "patient.identify"  # identification query (country B asks, country A answers)
SUMMARY = "patient.summary"  # summary request: release (A) / receipt (B), or refusal with its code
CONSENT = "patient.consent"  # a patient's cross-border access setting changed
ACCESS_HISTORY = "audit.access-history"  # the national patient portal read a patient's access history
EXPORT = "audit.export"  # the audit trail was exported
API = "api.request"  # any other call of the FHIR APIs that was refused (or an unlisted NCPeH call)
ADMIN_PREFIX = "admin."  # administrative actions: admin.clients.add, admin.import, admin.trust-list.build...

EVENTS = (LOGIN, LOGOUT, TOKEN, IDENTIFY, SUMMARY, CONSENT, ACCESS_HISTORY, EXPORT, API)

#: Events that make up a patient's access history at country A.
ACCESS_EVENTS = (IDENTIFY, SUMMARY)

# --- sides of a cross-border exchange ------------------------------------------------------------
REQUESTING = "requesting"  # country B: the clinician's country, asks
RESPONDING = "responding"  # country A: the patient's country, answers

# --- who acted -------------------------------------------------------------------------------------
ACTOR_CLINICIAN = "clinician"  # a health professional signed in to the portal (or named by an assertion)
ACTOR_CLIENT = "client"  # partner software (OAuth client id)
ACTOR_NCPEH = "ncpeh"  # a foreign NCPeH (mutual TLS, country code)
ACTOR_OPERATOR = "operator"  # someone running the ncpeh command line (OS account)
ACTOR_PATIENT_PORTAL = "patient-portal"  # the national patient portal (OAuth client id)
ACTOR_SYSTEM = "system"


class Outcome:
    """FHIR R4 ``http://hl7.org/fhir/audit-event-outcome`` codes."""

    SUCCESS = "0"
    REFUSED = "4"  # minor failure: the request was refused (4xx) - a refusal code is recorded
    FAILED = "8"  # serious failure: a peer or a dependency failed (502, 503, 504)
    ERROR = "12"  # major failure: an internal error (500)

    ALL = (SUCCESS, REFUSED, FAILED, ERROR)

    @staticmethod
    def for_status(status: int) -> str:
        if status < 400:
            return Outcome.SUCCESS
        if status < 500:
            return Outcome.REFUSED
        if status == 500:
            return Outcome.ERROR
        return Outcome.FAILED

    @staticmethod
    def label(code: str) -> str:
        return {"0": "success", "4": "refused", "8": "failed", "12": "error"}.get(code, code)


def is_known(event: str) -> bool:
    return event in EVENTS or (event.startswith(ADMIN_PREFIX) and len(event) > len(ADMIN_PREFIX))
