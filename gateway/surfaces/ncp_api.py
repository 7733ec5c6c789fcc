"""The NCPeH-to-NCPeH API (country A's side): identification and summary retrieval.

Only reachable on the mutual-TLS listener; the client certificate must map, by fingerprint, to
exactly one country of the trust list.
"""

from __future__ import annotations

from flask import Blueprint, g, request

from gateway import errors
from gateway.fhir import fhir_response, searchset
from gateway.runtime import runtime
from gateway.server.worker import ENVIRON_KEY
from gateway.services import identify as identification
from gateway.storage import get_store

bp = Blueprint("ncp_api", __name__, url_prefix="/fhir")


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


@bp.get("/Patient")
def search_patient():
    cfg = runtime().cfg
    patients = identification.identify(get_store().records, cfg, request.args)
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
def patient_summary(patient_id: str):
    store = get_store().records
    patient = store.get_patient(patient_id)
    summary = store.current_summary(patient_id) if patient else None
    if patient is None or summary is None:
        raise errors.NotFound("No patient summary for this patient id.", code="UNKNOWN_PATIENT")
    if patient.consent != "allowed":
        raise errors.ConsentRefused()
    return fhir_response(summary.document, headers={"ETag": f'W/"{summary.version}"'})
