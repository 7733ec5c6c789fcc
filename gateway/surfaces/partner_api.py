"""Partner API: the cross-border query as FHIR R4 for clinicians' own software (public listener)."""

from __future__ import annotations

from flask import Blueprint, g, request

from gateway import errors
from gateway.app import version
from gateway.audit import trail as audit_trail
from gateway.fhir import FHIR_VERSION, fhir_response, searchset
from gateway.runtime import runtime
from gateway.security import assertions
from gateway.services import crossborder
from gateway.services import terminology as terminology_service
from gateway.storage import get_store
from gateway.surfaces.oauth import require_token

bp = Blueprint("partner_api", __name__, url_prefix="/fhir")


#: The clinician on whose behalf partner software calls: an ES256 JWT signed with a key registered for
#: the client (``ncpeh clients set-key``); see gateway.security.assertions.verify_clinician_assertion.
CLINICIAN_HEADER = "X-Clinician-Assertion"


def _context(claims: dict) -> crossborder.CallContext:
    rt = runtime()
    cfg = rt.cfg
    client = get_store().clients.get(claims["sub"])
    clinician, purpose = assertions.verify_clinician_assertion(
        request.headers.get(CLINICIAN_HEADER), claims["sub"], client.jwks if client else None,
        audience=cfg.public.url + "/fhir",
    )
    audit_trail.note(actor_type="clinician", actor_id=clinician.id, actor_role=clinician.role,
                     organisation=clinician.organisation_id, purpose=purpose, detail={"client_id": claims["sub"]})
    language = terminology_service.negotiate_language(
        request.args.get("language"), request.accept_languages if request.headers.get("Accept-Language") else None,
        clinician.language or cfg.default_language)
    return crossborder.CallContext(request_id=g.request_id, language=language, clinician=clinician,
                                   purpose=purpose, signer=rt.signer())


@bp.get("/metadata")
def metadata():
    cfg = runtime().cfg
    return fhir_response({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "kind": "instance",
        "date": "2026-11-23",
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json"],
        "software": {"name": "ncpeh-gateway", "version": version()},
        "implementation": {"description": f"NCPeH {cfg.name}", "url": cfg.public.url + "/fhir"},
        "rest": [{
            "mode": "server",
            "security": {"service": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                "code": "SMART-on-FHIR"}]}]},
            "resource": [{
                "type": "Patient",
                "interaction": [{"code": "search-type"}],
                "searchParam": [
                    {"name": name, "type": kind} for name, kind in (
                        ("country", "token"), ("identifier", "token"), ("family", "string"),
                        ("given", "string"), ("birthdate", "date"), ("gender", "token"))
                ],
                "operation": [{"name": "summary",
                               "definition": "http://hl7.org/fhir/uv/ips/OperationDefinition/summary"}],
            }],
        }],
    })


@bp.get("/Patient")
def search_patient():
    claims = require_token("system/Patient.read")
    rt = runtime()
    country = crossborder.foreign_country(rt.trust, request.args.get("country", ""), rt.cfg.code)
    traits = {k: v for k, v in request.args.items() if k not in ("country", "language", "_format")}
    patients = crossborder.identify_abroad(rt.peers, country, traits, _context(claims))
    audit_trail.note(patient_id=patients[0]["id"] if len(patients) == 1 else None,
                     detail={"matches": len(patients), "parameters": sorted(traits)})
    entries = [{"fullUrl": f"{rt.cfg.public.url}/fhir/Patient/{p['id']}", "resource": p,
                "search": {"mode": "match"}} for p in patients]
    return fhir_response(searchset(entries))


@bp.get("/Patient/<patient_id>/$summary")
def patient_summary(patient_id: str):
    claims = require_token("system/Patient.read")
    rt = runtime()
    code, remote_id = crossborder.split_local_id(patient_id)
    country = crossborder.foreign_country(rt.trust, code, rt.cfg.code)
    ctx = _context(claims)
    bundle = crossborder.summary_abroad(rt.peers, country, remote_id, ctx)
    audit_trail.note(detail={"document_id": audit_trail.document_identifier(bundle)})
    bundle, coverage = terminology_service.translate(bundle, ctx.language)
    return fhir_response(bundle, headers={terminology_service.COVERAGE_HEADER: coverage,
                                          "Content-Language": ctx.language})


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
def unknown(rest: str):
    raise errors.NotFound(f"No FHIR endpoint at /fhir/{rest}.", code="NO_SUCH_ENDPOINT")
