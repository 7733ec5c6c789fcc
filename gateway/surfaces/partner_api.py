"""Partner API: the cross-border query as FHIR R4 for clinicians' own software (public listener).

Endpoints (all ``application/fhir+json``; described by ``/fhir/metadata`` and ``/openapi.json``):

* ``GET /fhir/metadata``: the CapabilityStatement (no token needed).
* ``GET /fhir/Patient?country=XX&identifier=...&<traits>``: identification relayed to country XX.
* ``GET /fhir/Patient/<id>/$summary``: the translated summary of a patient found by the search.
* ``POST /fhir/Patient/$summary`` (FHIR Parameters: ``identifier`` and the traits; or ``GET`` with
  the same as query parameters): identification and summary in one call (404 when no patient
  matches, 409 when several do).
* ``GET /fhir/Patient/<id>/$original-document[?attachment=<id>]``: the original clinical document the
  summary was converted from (a French CI-SIS CDA, ``application/hl7-cda+xml``), or a document embedded
  in it (a PDF), as country A sent it.
* the terminology operations (``gateway.surfaces.terminology_api``).

Parameters: see :mod:`gateway.surfaces.fhir_params` (unknown ones ignored, or refused with
``Prefer: handling=strict``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from gateway import audit_trail, errors
from gateway.audit import events
from gateway.build_info import version
from gateway.config import KNOWN_TRAITS
from gateway.fhir import FHIR_VERSION, fhir_response, searchset
from gateway.runtime import runtime
from gateway.security import assertions
from gateway.security.trustlist import TrustedCountry
from gateway.services import crossborder
from gateway.services import terminology as terminology_service
from gateway.surfaces import fhir_params
from gateway.surfaces.oauth import SUPPORTED_SCOPES, no_token, require_token, token_required, token_rule

bp = Blueprint("partner_api", __name__, url_prefix="/fhir")


#: The clinician on whose behalf partner software calls: an ES256 JWT signed with a key registered for
#: the client (``ncpeh clients set-key``); see gateway.security.assertions.verify_clinician_assertion.
CLINICIAN_HEADER = "X-Clinician-Assertion"
READ_SCOPE = "system/Patient.read"
TRAITS = KNOWN_TRAITS
SEARCH_PARAMETERS = ("country", *TRAITS, "language")
SUMMARY_PARAMETERS = ("language",)
ORIGINAL_PARAMETERS = ("attachment",)
#: The value[x] types accepted for each parameter of POST /fhir/Patient/$summary.
_VALUE_TYPES = {
    "identifier": ("valueIdentifier", "valueString"),
    "country": ("valueCode", "valueString"),
    "family": ("valueString",),
    "given": ("valueString",),
    "birthdate": ("valueDate", "valueString"),
    "gender": ("valueCode", "valueString"),
    "birthplace": ("valueString",),
    "language": ("valueCode", "valueString"),
}
SUMMARY_BY_IDENTIFIER_PARAMETERS = tuple(_VALUE_TYPES)


def authenticate() -> None:
    """The blueprint's authentication (registered by ``gateway.app.create_app``): the access token and the
    view's scope, then the clinician the client acts for, before the request's parameters are read, so
    that a call without a valid clinician assertion always answers 401."""
    rule = token_rule()
    if rule is None:
        return
    claims = require_token(rule.scope)
    if rule.clinician:
        _verify_clinician(claims["sub"])


def _verify_clinician(client_id: str) -> None:
    """The clinician the client acts for (and the purpose), checked with the keys registered for the
    token's client: into ``g.principal``."""
    principal = g.principal
    clinician, purpose = assertions.verify_clinician_assertion(
        request.headers.get(CLINICIAN_HEADER), client_id, principal.client.jwks if principal.client else None,
        audience=runtime().cfg.public.url + "/fhir", verified=runtime().verified_tokens,
    )
    audit_trail.note(actor_type=events.ACTOR_CLINICIAN, actor_id=clinician.id, actor_role=clinician.role,
                     organisation=clinician.organisation_id, purpose=purpose, detail={"client_id": client_id})
    g.principal = dataclasses.replace(principal, clinician=clinician, purpose=purpose)


def _context(language: str | None = None) -> crossborder.CallContext:
    """The call context of the authenticated clinician, in the negotiated language."""
    rt = runtime()
    principal = g.principal
    clinician = principal.clinician  # None: nothing leaves (CallContext.check_clinician refuses)
    language = terminology_service.negotiate_language(
        language, request.accept_languages if request.headers.get("Accept-Language") else None,
        (clinician.language if clinician else None) or rt.cfg.default_language)
    return crossborder.CallContext(request_id=g.request_id, language=language, clinician=clinician,
                                   purpose=principal.purpose, signer=rt.signer())


def _query(known: tuple[str, ...]) -> dict[str, str]:
    """The known query parameters (the ignored ones are named in the audit record: gateway.surfaces.fhir_params)."""
    return fhir_params.query(known)


def _foreign_patient(patient_id: str) -> tuple[TrustedCountry, str]:
    """The country and the foreign NCPeH's id of a patient found by the search (``<country>-<id>``)."""
    rt = runtime()
    code, remote_id = crossborder.split_local_id(patient_id)
    return crossborder.foreign_country(rt.trust, code, rt.cfg.code), remote_id


@bp.get("/metadata")
@no_token("the CapabilityStatement: what anyone may know before asking for a token")
@audit_trail.not_audited("public, the same for everyone; its refusals are recorded by the blueprint rule")
def metadata():
    fhir_params.query(())  # only _format; nothing else changes the answer
    return fhir_response(capability_statement())


def capability_statement() -> dict:
    """What this endpoint supports, and nothing more (tests check it against the routes).

    Its ``date`` (when the capabilities last changed) is the start of this instance: what it supports is
    fixed by the code and configuration it started with.
    """
    rt = runtime()
    cfg = rt.cfg
    base = cfg.public.url
    string, token, date = "string", "token", "date"
    trait_params = [
        {"name": "country", "type": token, "documentation":
            "Required. Two-letter code of the patient's country of affiliation (in the trust list)."},
        {"name": "identifier", "type": token,
         "definition": "http://hl7.org/fhir/SearchParameter/Patient-identifier",
         "documentation": "National patient identifier, as system|value (or the value alone)."},
        {"name": "family", "type": string, "definition": "http://hl7.org/fhir/SearchParameter/individual-family"},
        {"name": "given", "type": string, "definition": "http://hl7.org/fhir/SearchParameter/individual-given"},
        {"name": "birthdate", "type": date, "definition": "http://hl7.org/fhir/SearchParameter/individual-birthdate"},
        {"name": "gender", "type": token, "definition": "http://hl7.org/fhir/SearchParameter/individual-gender"},
        {"name": "birthplace", "type": string, "documentation": "Place of birth, when the country requires it."},
        {"name": "language", "type": token, "documentation": "Not a filter: the language of the answer."},
    ]
    terminology = [
        ("CodeSystem", "lookup", "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup"),
        ("ConceptMap", "translate", "http://hl7.org/fhir/OperationDefinition/ConceptMap-translate"),
        ("ValueSet", "expand", "http://hl7.org/fhir/OperationDefinition/ValueSet-expand"),
    ]
    return {
        "resourceType": "CapabilityStatement",
        "id": "ncpeh-partner-api",
        "url": f"{base}/fhir/metadata",
        "version": version(),
        "name": "NCPeHPartnerAPI",
        "title": f"NCPeH {cfg.name}: cross-border patient summaries for partner software",
        "status": "active",
        "experimental": True,
        "date": dt.datetime.fromtimestamp(rt.started_at, dt.UTC).isoformat(timespec="seconds"),
        "publisher": f"NCPeH {cfg.name} (prototype, synthetic data)",
        "kind": "instance",
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "software": {"name": "ncpeh-gateway", "version": version()},
        "implementation": {"description": f"NCPeH {cfg.name}", "url": f"{base}/fhir"},
        "rest": [{
            "mode": "server",
            "documentation": (
                "OpenAPI 3.1 description: " + base + "/openapi.json. Every call but metadata needs a bearer token "
                "(SMART Backend Services, client credentials); Patient search and $summary also name the "
                "clinician in the X-Clinician-Assertion header. Unknown parameters are ignored, or refused "
                "with 'Prefer: handling=strict'. Errors are OperationOutcomes."),
            "security": {
                "cors": False,
                "service": [{"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                    "code": "SMART-on-FHIR"}]}],
                "extension": [{
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [{"url": "token", "valueUri": f"{base}/oauth/token"}],
                }],
                "description": "OAuth 2.0 client credentials (private_key_jwt or client secret), see "
                               f"{base}/.well-known/smart-configuration; scopes: {', '.join(SUPPORTED_SCOPES)}.",
            },
            "resource": [
                {
                    "type": "Patient",
                    "profile": "http://hl7.org/fhir/StructureDefinition/Patient",
                    "interaction": [{"code": "search-type", "documentation":
                                     "Cross-border identification, relayed to the patient's country."}],
                    "searchParam": trait_params,
                    "operation": [{
                        "name": "summary",
                        "definition": "http://hl7.org/fhir/uv/ips/OperationDefinition/summary",
                        "documentation": "GET Patient/[id]/$summary (id from the search), or POST Patient/$summary "
                                         "with a Parameters body (identifier and the traits of the search); "
                                         "parameter 'language' or Accept-Language.",
                    }, {
                        "name": "original-document",
                        "definition": f"{base}/fhir/OperationDefinition/Patient-original-document",
                        "documentation": "GET Patient/[id]/$original-document: the original clinical document the "
                                         "summary was converted from (a CI-SIS CDA, application/hl7-cda+xml), as "
                                         "the patient's country sent it; with attachment=<id>, a document embedded "
                                         "in it (application/pdf). 404 NO_ORIGINAL_DOCUMENT when the summary is "
                                         "the original.",
                    }],
                },
                *[{"type": kind, "operation": [{"name": name, "definition": definition}]}
                  for kind, name, definition in terminology],
            ],
        }],
    }


def _search_self_link(used: dict[str, str]) -> str:
    return f"{runtime().cfg.public.url}/fhir/Patient" + (f"?{urlencode(used)}" if used else "")


@bp.get("/Patient")
@token_required(READ_SCOPE, clinician=True)
@audit_trail.audited(events.IDENTIFY, events.REQUESTING)
def search_patient():
    params = _query(SEARCH_PARAMETERS)
    country_code = params.get("country", "").strip()
    if not country_code:
        raise errors.BadRequest("Give the patient's country in 'country' (e.g. country=FR).", code="MISSING_PARAMETER")
    rt = runtime()
    country = crossborder.foreign_country(rt.trust, country_code.upper(), rt.cfg.code)
    traits = {k: v for k, v in params.items() if k in TRAITS}
    patients = crossborder.identify_abroad(rt.peers, country, traits, _context(params.get("language")))
    audit_trail.note(patient_id=patients[0]["id"] if len(patients) == 1 else None,
                     detail={"matches": len(patients), "parameters": sorted(traits)})
    entries = [{"fullUrl": f"{rt.cfg.public.url}/fhir/Patient/{p['id']}", "resource": p,
                "search": {"mode": "match"}} for p in patients]
    return fhir_response(searchset(entries, self_url=_search_self_link(params)))


def _summary_response(summary: terminology_service.Translated):
    audit_trail.note(detail={"document_id": summary.document_id, "document_sha256": summary.received_sha256})
    return fhir_response(summary.body, headers={terminology_service.COVERAGE_HEADER: summary.coverage,
                                                "Content-Language": summary.language})


@bp.get("/Patient/<patient_id>/$summary")
@token_required(READ_SCOPE, clinician=True)
@audit_trail.audited(events.SUMMARY, events.REQUESTING)
def patient_summary(patient_id: str):
    params = _query(SUMMARY_PARAMETERS)
    country, remote_id = _foreign_patient(patient_id)
    rt = runtime()
    return _summary_response(crossborder.translated_summary_abroad(
        rt.peers, country, remote_id, _context(params.get("language")), rt.terminology, rt.summaries))


@bp.get("/Patient/<patient_id>/$original-document")
@token_required(READ_SCOPE, clinician=True)
@audit_trail.audited(events.SUMMARY, events.REQUESTING)
def original_document(patient_id: str):
    """The original document of a patient's summary abroad (or a PDF embedded in it), relayed unchanged."""
    params = _query(ORIGINAL_PARAMETERS)
    country, remote_id = _foreign_patient(patient_id)
    attachment = params.get("attachment")
    original = crossborder.original_abroad(runtime().peers, country, remote_id, _context(), attachment)
    audit_trail.note(detail={"original_document": attachment or "cda", "document_sha256": original.sha256})
    name = f"{patient_id}-{attachment or 'original'}" + (".pdf" if original.media_type == "application/pdf" else ".xml")
    return Response(original.data, mimetype=original.media_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff"})


@bp.route("/Patient/$summary", methods=["GET", "POST"])
@token_required(READ_SCOPE, clinician=True)
@audit_trail.audited(events.SUMMARY, events.REQUESTING)
def summary_by_identifier():
    """IPS $summary at type level: identification and summary in one call."""
    if request.method == "POST":
        params = {**_query(("language",)), **fhir_params.body_parameters(_VALUE_TYPES)}
    else:
        params = _query(SUMMARY_BY_IDENTIFIER_PARAMETERS)
    if not params.get("identifier", "").strip():
        raise errors.BadRequest("Give the patient's national identifier in 'identifier'.", code="MISSING_PARAMETER")
    rt = runtime()
    country = crossborder.patient_country(rt.trust, rt.cfg.code, params.get("country", ""), params["identifier"])
    audit_trail.note(peer_country=country.code)
    ctx = _context(params.get("language"))
    traits = {k: v for k, v in params.items() if k in TRAITS}
    patient = crossborder.identify_one_abroad(rt.peers, country, traits, ctx)
    audit_trail.note(patient_id=patient["id"], detail={"parameters": sorted(traits)})
    _, remote_id = crossborder.split_local_id(patient["id"])
    return _summary_response(crossborder.translated_summary_abroad(rt.peers, country, remote_id, ctx,
                                                                      rt.terminology, rt.summaries))


def _allowed_methods(path: str) -> list[str]:
    """Methods another route of this app serves at ``path`` (for 405 instead of 404)."""
    adapter = current_app.url_map.bind("localhost")
    allowed = []
    for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
        try:
            endpoint, _ = adapter.match(path, method=method)
        except HTTPException:
            continue
        if endpoint != "partner_api.unknown":
            allowed.append(method)
    return allowed


def _allow_header(allowed: list[str]) -> str:
    extra = ["HEAD"] if "GET" in allowed else []
    return ", ".join([*allowed, *extra, "OPTIONS"])


@bp.after_app_request
def _accurate_allow(response):  # noqa: ANN001, ANN202 - a Flask response
    """OPTIONS on a FHIR endpoint lists its own methods (Flask's would add the catch-all's below)."""
    if request.method == "OPTIONS" and request.path.startswith("/fhir/") and response.status_code < 300:
        allowed = _allowed_methods(request.path)
        if allowed:
            response.headers["Allow"] = _allow_header(allowed)
    return response


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
@no_token("no such endpoint: 404 or 405, the same for everyone")
@audit_trail.not_audited("no endpoint here; the refusal is recorded by the blueprint rule")
def unknown(rest: str):
    allowed = _allowed_methods(request.path)
    if allowed:
        raise errors.MethodNotAllowed(f"{request.method} is not supported on /fhir/{rest[:80]}.",
                                      headers={"Allow": ", ".join(allowed)})
    raise errors.NotFound(f"No FHIR endpoint at /fhir/{rest[:80]}.", code="NO_SUCH_ENDPOINT")
