"""The NCPeH-to-NCPeH API (country A's side): identification and summary retrieval.

Only reachable on the mutual-TLS listener; the client certificate must map, by fingerprint, to
exactly one country of the trust list.
"""

from __future__ import annotations

import dataclasses

from flask import Blueprint, Response, g, request

from gateway import audit_trail, errors, timing
from gateway.audit import events
from gateway.config import KNOWN_TRAITS
from gateway.fhir import fhir_response, searchset
from gateway.request_store import get_store
from gateway.runtime import Runtime, runtime
from gateway.security import assertions
from gateway.security.principal import NCPEH, Principal
from gateway.security.tls import PEER_CERT_ENVIRON
from gateway.security.trustlist import TrustedCountry, TrustList
from gateway.services import identify as identification
from gateway.services import release
from gateway.services import terminology as terminology_service
from gateway.surfaces import fhir_params

bp = Blueprint("ncp_api", __name__, url_prefix="/fhir")
TRC_HEADER = "X-TRC-Assertion"


def authenticate_peer() -> None:
    """The blueprint's authentication (registered by ``gateway.app.create_app``): the TLS client
    certificate maps to one country of the trust list (``g.principal``), then its assertions verify."""
    rt = runtime()
    der = request.environ.get(PEER_CERT_ENVIRON)
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
    g.principal = Principal(NCPEH, country.code, country=country)
    verify_assertions(rt, trust, country)


@timing.timed("verify")
def verify_assertions(rt: Runtime, trust: TrustList, country: TrustedCountry) -> None:
    """HCP assertion on every call, TRC assertion too on the calls about one patient (``$summary``,
    ``$original-document``; see gateway.security.assertions).

    Order: signature by a key of the TLS client's country (algorithm pinned) -> audience -> time
    window -> TRC jti not replayed -> role and purpose (policy table) -> TRC bound to the HCP assertion
    and the requested patient. Consent comes after, in the release service. An HCP assertion verified over this
    client certificate is kept verified until it expires (``rt.hcp_verified``).
    """
    # a call about one patient's records (a patient id in its path) needs a TRC assertion as well: by the
    # route itself, not by a list of view names that a renamed or added view would silently escape
    patient_id = (request.view_args or {}).get("patient_id")
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if header and scheme.lower() != "bearer":
        raise assertions.AssertionRejected("HCP assertion: send it as 'Authorization: Bearer <jwt>'.",
                                           code="HCP_ASSERTION_MISSING")
    verifier = assertions.AssertionVerifier(trust, country, rt.cfg.ncp.url, get_store().replay,
                                            sessions=rt.hcp_verified,
                                            client_certificate=request.environ.get(PEER_CERT_ENVIRON))
    try:
        hcp, trc = verifier.verify(
            token.strip() or None, request.headers.get(TRC_HEADER) or None, require_trc=patient_id is not None,
            patient_id=patient_id,
        )
    except errors.GatewayError:
        if verifier.authentic_hcp is not None:  # refused by policy or TRC binding: the audit names the clinician
            g.principal = dataclasses.replace(g.principal, hcp=verifier.authentic_hcp.summary())
        raise
    g.principal = dataclasses.replace(g.principal, hcp=hcp.summary(), trc=trc.summary() if trc else None)


@bp.get("/Patient")
@audit_trail.audited(events.IDENTIFY, events.RESPONDING)
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


@bp.get("/Patient/<patient_id>/$summary")
@audit_trail.audited(events.SUMMARY, events.RESPONDING)
def patient_summary(patient_id: str):
    rt = runtime()
    summary = release.release_summary(get_store().records, patient_id, rt.cfg.code, rt.terminology, rt.released)
    released = summary.released
    audit_trail.note(detail={"summary_version": summary.version, "document_sha256": released.body_sha256,
                             "document_id": released.document_id})
    return fhir_response(released.body, headers={"ETag": f'W/"{summary.version}"',
                                                 terminology_service.COVERAGE_HEADER: released.coverage})


@bp.get("/Patient/<patient_id>/$original-document")
@audit_trail.audited(events.SUMMARY, events.RESPONDING)
def original_document(patient_id: str):
    """The original clinical document the current summary was converted from (a CI-SIS CDA), or with
    ``attachment=<ID>`` a document embedded in it (a PDF). Same checks as ``$summary``: HCP and TRC
    assertions, consent."""
    original = release.original_document(get_store().records, patient_id)
    wanted = request.args.get("attachment")
    audit_trail.note(detail={"original_document": wanted or "cda", "summary_version": original.version,
                             "document_sha256": original.sha256})
    data, media_type = release.original_content(original, wanted)
    return Response(data, mimetype=media_type, headers={"ETag": f'W/"{original.version}"',
                                                        "X-Content-Type-Options": "nosniff"})
