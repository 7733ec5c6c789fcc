"""The NCPeH-to-NCPeH API (country A's side): identification and summary retrieval.

Only reachable on the mutual-TLS listener; the client certificate must map, by fingerprint, to
exactly one country of the trust list.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from gateway import errors, timing
from gateway.audit import events
from gateway.audit import trail as audit_trail
from gateway.config import KNOWN_TRAITS
from gateway.fhir import fhir_response, searchset
from gateway.records.cda.attachments import embedded_document
from gateway.runtime import runtime
from gateway.security import assertions
from gateway.server.worker import ENVIRON_KEY
from gateway.services import identify as identification
from gateway.services import terminology as terminology_service
from gateway.storage import get_store
from gateway.surfaces import fhir_params

bp = Blueprint("ncp_api", __name__, url_prefix="/fhir")
TRC_HEADER = "X-TRC-Assertion"
#: calls about one patient's records: they need a TRC assertion as well
TRC_ENDPOINTS = {"ncp_api.patient_summary", "ncp_api.original_document"}


@bp.before_request
def authenticate_peer() -> None:
    rt = runtime()
    der = request.environ.get(ENVIRON_KEY)
    if not der:
        raise errors.Unauthorized("A client certificate is required on this listener.",
                                  code="NO_CLIENT_CERTIFICATE")
    trust = rt.trust
    if trust is None:
        raise errors.ServiceUnavailable("The trust list is not valid: cross-border exchange is suspended.",
                                        code="TRUST_LIST_INVALID")
    country = trust.country_for_certificate(der)
    if country is None:
        raise errors.Forbidden("This certificate is not on the trust list.", code="UNTRUSTED_CERTIFICATE")
    g.peer_country = country
    verify_assertions(rt, trust, country)


@timing.timed("verify")
def verify_assertions(rt, trust, country) -> None:  # noqa: ANN001
    """HCP assertion on every call, TRC assertion too on ``$summary`` (see gateway.security.assertions).

    Order: signature by a key of the TLS client's country (algorithm pinned) -> audience -> time
    window -> TRC jti not replayed -> role and purpose (policy table) -> TRC bound to the HCP assertion
    and the requested patient. Consent comes after, in the view. An HCP assertion verified over this
    client certificate is kept verified until it expires (``rt.hcp_verified``).
    """
    summary = request.endpoint in TRC_ENDPOINTS
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if header and scheme.lower() != "bearer":
        raise assertions.AssertionRejected("HCP assertion: send it as 'Authorization: Bearer <jwt>'.",
                                           code="HCP_ASSERTION_MISSING")
    verifier = assertions.AssertionVerifier(trust, country, rt.cfg.ncp.url, get_store().replay, sessions=rt.hcp_verified,
                                            client_certificate=request.environ.get(ENVIRON_KEY))
    try:
        hcp, trc = verifier.verify(
            token.strip() or None, request.headers.get(TRC_HEADER) or None, require_trc=summary,
            patient_id=(request.view_args or {}).get("patient_id"),
        )
    except errors.GatewayError:
        if verifier.authentic_hcp is not None:  # refused by policy or TRC binding: the audit names the clinician
            g.hcp_assertion = verifier.authentic_hcp.summary()
        raise
    g.hcp_assertion, g.trc_assertion = hcp.summary(), trc.summary() if trc else None


@bp.errorhandler(errors.GatewayError)
def on_refusal(error: errors.GatewayError):
    """Every refusal of this API is recorded, then answered with its OperationOutcome."""
    record_refusal(error)
    from gateway.app import render_error

    return render_error(error)


def record_refusal(error: errors.GatewayError) -> None:
    """AUDIT HOOK: the single call point recording a refusal of the NCPeH-to-NCPeH API.

    Known at this point: ``g.peer_country`` (when the certificate mapped), ``g.hcp_assertion`` (when
    the HCP assertion verified), ``error.code`` / ``error.status``, ``g.request_id``.
    """
    audit_trail.note(outcome_code=error.code)  # written by gateway.audit.trail's after_request hook


@bp.get("/Patient")
def search_patient():
    cfg = runtime().cfg
    # each trait once (a repeated identifier was silently read as its first value), unknown ones ignored
    patients = identification.identify(get_store().records, cfg, fhir_params.query(KNOWN_TRAITS))
    audit_trail.note(patient_id=patients[0].id if len(patients) == 1 else None,
                     detail={"matches": len(patients), "parameters": sorted(request.args)})
    entries = [
        {
            "fullUrl": f"{cfg.ncp.url}/fhir/Patient/{p.id}",
            "resource": identification.patient_resource(p),
            "search": {"mode": "match"},
        }
        for p in patients
    ]
    return fhir_response(searchset(entries))


def _releasable_summary(store, patient_id: str):  # noqa: ANN001, ANN202 - the records repository and its row
    """The patient's current summary version, if there is one and the patient allows cross-border access."""
    with timing.stage("store"):
        patient = store.get_patient(patient_id)
        summary = store.current_summary(patient_id, with_document=False) if patient else None
    if patient is None or summary is None:
        raise errors.NotFound("No patient summary for this patient id.", code="UNKNOWN_PATIENT")
    if patient.consent != "allowed":
        raise errors.ConsentRefused()
    return summary


@bp.get("/Patient/<patient_id>/$summary")
def patient_summary(patient_id: str):
    store = get_store().records
    summary = _releasable_summary(store, patient_id)
    code = runtime().cfg.code
    term = runtime().terminology
    released = terminology_service.cached_release(summary.sha256, code, term)
    if released is None:  # first release of this stored version in this process: read, transcode, cache
        with timing.stage("store"):
            document = store.summary_document(patient_id, summary.version)
        if document is None:
            raise errors.NotFound("No patient summary for this patient id.", code="UNKNOWN_PATIENT")
        released = terminology_service.release_document(document, summary.sha256, code, term)
    audit_trail.note(detail={"summary_version": summary.version, "document_sha256": released.body_sha256,
                             "document_id": released.document_id})
    return fhir_response(released.body, headers={"ETag": f'W/"{summary.version}"',
                                                 terminology_service.COVERAGE_HEADER: released.coverage})


@bp.get("/Patient/<patient_id>/$original-document")
def original_document(patient_id: str):
    """The original clinical document the current summary was converted from (a CI-SIS CDA), or with
    ``attachment=<ID>`` a document embedded in it (a PDF). Same checks as ``$summary``: HCP and TRC
    assertions, consent."""
    store = get_store().records
    summary = _releasable_summary(store, patient_id)
    original = store.original_document(patient_id, summary.version)
    if original is None:
        raise errors.NotFound("The patient summary is the original document: there is no other.",
                              code="NO_ORIGINAL_DOCUMENT")
    wanted = request.args.get("attachment")
    audit_trail.note(event=events.SUMMARY, detail={"original_document": wanted or "cda",
                                                   "summary_version": summary.version,
                                                   "document_sha256": original.sha256})
    headers = {"ETag": f'W/"{summary.version}"', "X-Content-Type-Options": "nosniff"}
    if not wanted:
        return Response(original.document, mimetype=original.media_type, headers=headers)
    embedded = embedded_document(original.document, wanted)
    if embedded is None:
        raise errors.NotFound("The original document embeds no document with this id.", code="NO_ORIGINAL_DOCUMENT")
    return Response(embedded.data, mimetype=embedded.media_type, headers=headers)
