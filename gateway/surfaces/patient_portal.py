"""API for the national patient portal (public listener): a patient's cross-border access history.

``GET /patient-portal/access-history?patient=<id | system|value | national identifier>``
(``&format=fhir`` for a FHIR searchset Bundle of AuditEvents). The caller is the national patient
portal, registered as an OAuth client with the scope ``system/AuditEvent.read``; the portal, not
this NCPeH, authenticates the patient. Every read is itself audited (``audit.access-history``).
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from gateway import audit_trail as trail
from gateway import errors
from gateway.audit import events
from gateway.audit.fhir import to_fhir
from gateway.audit.history import access_history
from gateway.fhir import fhir_response, searchset
from gateway.request_store import get_store
from gateway.runtime import runtime
from gateway.services.access_history import resolve_patient
from gateway.surfaces.oauth import token_required

bp = Blueprint("patient_portal", __name__, url_prefix="/patient-portal")
SCOPE = "system/AuditEvent.read"
MAX_LIMIT = 1000


@bp.get("/access-history")
@trail.audited(events.ACCESS_HISTORY)
@token_required(SCOPE)
def history():
    trail.note(actor_type=events.ACTOR_PATIENT_PORTAL, actor_id=g.principal.id)
    value = (request.args.get("patient") or request.args.get("identifier") or "").strip()
    if not value:
        raise errors.BadRequest("Give the patient (id or national identifier) in 'patient'.", code="MISSING_PATIENT")
    try:
        limit = max(1, min(MAX_LIMIT, int(request.args.get("limit", 200))))
    except ValueError:
        raise errors.BadRequest("limit must be a whole number.", code="BAD_REQUEST") from None
    rt = runtime()
    store = get_store()
    patient = resolve_patient(store, rt.cfg, value)
    if patient is None:
        raise errors.NotFound("No such patient.", code="UNKNOWN_PATIENT")
    trail.note(patient_id=patient.id)
    if request.args.get("format") == "fhir":
        entries = store.audit.for_patient(patient.id, events.ACCESS_EVENTS, side=events.RESPONDING, limit=limit)
        trail.note(detail={"returned": len(entries)})
        return fhir_response(searchset([{"resource": to_fhir(e, rt.cfg.ncp.url)} for e in entries]))
    items = access_history(store, patient.id, limit)
    trail.note(detail={"returned": len(items)})
    return jsonify({"patient": patient.id, "country": rt.cfg.code, "accesses": items})

