"""OpenAPI 3.1 description of the partner API, served at ``/openapi.json``.

It describes what partner software can call on the public listener: the SMART configuration, the
token endpoint, the FHIR endpoints of ``partner_api`` and ``terminology_api``, and what each accepts:
a request the description calls valid is one the server accepts (or answers with a declared status
that is not a refusal of the request: 401, 403, 404, 409...). The foreign countries of the trust list
(names, identifier systems and formats, the traits their search masks require) are read at every
request. Schemas of values and bodies: ``gateway.surfaces.openapi_schemas``.

It is kept true by ``tests/partner_api``: real responses are validated against it (openapi-core), the
API is fuzzed from it (schemathesis, ``test_fuzz``), and every valid request it describes must be
accepted (schemathesis' positive_data_acceptance, ``test_schemathesis``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, jsonify

from gateway.build_info import version
from gateway.runtime import runtime
from gateway.security.trustlist import TrustedCountry
from gateway.surfaces import openapi_schemas as schemas
from gateway.surfaces.oauth import JWT_BEARER, SUPPORTED_SCOPES
from terminology.model import SUPPORTED_LANGUAGES

bp = Blueprint("openapi", __name__)

FHIR = "application/fhir+json"
_REF = "#/components/"


@bp.get("/openapi.json")
def openapi_json():
    rt = runtime()
    trust = rt.trust
    foreign = [c for code, c in sorted(trust.countries.items()) if code != rt.cfg.code] if trust else []
    return jsonify(build(rt.cfg.public.url, foreign))


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"{_REF}{kind}/{name}"}


def _fhir(schema: str) -> dict[str, Any]:
    return {FHIR: {"schema": _ref("schemas", schema)}}


_ERRORS = {
    400: ("BadRequest", "Invalid request: a missing or malformed parameter, a missing identity trait, an invalid "
                        "identifier, an unknown parameter under 'Prefer: handling=strict', a wrong JSON body."),
    401: ("Unauthorized", "No, an expired or a foreign access token; a missing or invalid clinician assertion."),
    403: ("Forbidden", "Insufficient scope, a role or purpose the policy refuses, or the patient's country "
                       "refuses (consent: ACCESS_REFUSED)."),
    404: ("NotFound", "Unknown country, patient, code, value set or endpoint."),
    405: ("MethodNotAllowed", "The method is not supported on this path (see the Allow header)."),
    406: ("NotAcceptable", "Only FHIR JSON is produced (_format)."),
    409: ("Conflict", "Several patients match the identifier and traits."),
    413: ("PayloadTooLarge", "The request body is too large."),
    415: ("UnsupportedMediaType", "The body must be application/fhir+json."),
    422: ("Unprocessable", "The body is JSON but not a usable FHIR Parameters resource."),
    429: ("TooManyRequests", "The client's rate limit is exhausted; retry after Retry-After seconds."),
    502: ("BadGateway", "The foreign national contact point failed or sent an unusable answer."),
    503: ("ServiceUnavailable", "The trust list is invalid or the audit trail cannot be written."),
    504: ("GatewayTimeout", "The foreign national contact point did not answer in time."),
}


def _error_responses(*statuses: int) -> dict[str, Any]:
    return {str(s): _ref("responses", _ERRORS[s][0]) for s in statuses}


def _error_component(status: int) -> dict[str, Any]:
    headers: dict[str, Any] = {"X-Request-ID": _ref("headers", "RequestId")}
    if status == 401:
        headers["WWW-Authenticate"] = {"schema": {"type": "string"}, "required": True,
                                       "description": "Bearer challenge (RFC 6750)."}
    if status == 429:
        headers["Retry-After"] = {"schema": {"type": "integer", "minimum": 1}, "required": True,
                                  "description": "Seconds to wait before the next request."}
    if status == 405:
        headers["Allow"] = {"schema": {"type": "string"}, "description": "Supported methods."}
    return {"description": _ERRORS[status][1], "headers": headers, "content": _fhir("OperationOutcome")}


def _nonempty() -> dict[str, Any]:
    """Text of at least one character (the terminology operations refuse an empty one)."""
    return schemas.text() | {"minLength": 1}


def _q(name: str, description: str, schema: dict[str, Any] | None = None, required: bool = False) -> dict[str, Any]:
    """A query parameter; without ``schema``, free text whose length ``_fit_request_line`` sets."""
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema or schemas.text()}


#: gunicorn's limit on the request line (GatewayServer.options: limit_request_line)
MAX_REQUEST_LINE = 8190
#: What one character of a query value may take in the request line: 3 bytes of UTF-8 (the ``Text`` pattern
#: lists characters of the Basic Multilingual Plane), each percent-encoded.
_BYTES_PER_CHAR = 9


def _max_chars(schema: dict[str, Any]) -> int | None:
    """The longest value a bounded parameter schema allows, in characters; None for free text (``Text``)."""
    if "enum" in schema:
        return max(len(str(v)) for v in schema["enum"])
    if schema.get("type") == "integer":
        return len(str(schema["maximum"]))
    return None if "allOf" in schema else int(schema["maxLength"])


def _fit_request_line(path: str, params: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Free-text query parameters get a ``maxLength`` that keeps the longest request line gunicorn's limit:
    the space left by the path and the bounded parameters, shared among them (at most 256 characters each)."""
    query = [p for p in params if p["in"] == "query"]
    free = [p for p in query if _max_chars(p["schema"]) is None]
    used = len(f"GET {path}? HTTP/1.1") + sum(len(p["name"]) + 2 + 3 * (_max_chars(p["schema"]) or 0) for p in query)
    share = (MAX_REQUEST_LINE - used) // max(len(free), 1)
    out = []
    for p in params:
        if p in free:
            p = {**p, "schema": {**p["schema"], "maxLength": min(p["schema"]["maxLength"], share // _BYTES_PER_CHAR)}}
        out.append(p)
    return out


_PATIENT_ERRORS = (400, 401, 403, 404, 406, 429, 502, 503, 504)
_TERMINOLOGY_ERRORS = (400, 401, 404, 429, 503)
_SUMMARY_HEADERS = {
    "X-Request-ID": _ref("headers", "RequestId"),
    "Content-Language": {"schema": {"type": "string"}, "required": True,
                         "description": "The language the coded entries are displayed in."},
    "X-Terminology-Coverage": {"schema": {"type": "string"}, "required": True,
                               "description": "codings=<n>; mapped=<n>; untranslated=<n>"},
}


def _ok(description: str, content: dict[str, Any], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "headers": headers or {"X-Request-ID": _ref("headers", "RequestId")},
            "content": content}


def _terminology_operation(kind: str, name: str, params: list[dict[str, Any]], result: str,
                           method: str) -> dict[str, Any]:
    op: dict[str, Any] = {
        "tags": ["terminology"],
        "summary": f"{kind}/${name}" + (" (FHIR Parameters body)" if method == "post" else ""),
        "operationId": f"{kind[0].lower()}{kind[1:]}{name.capitalize()}{method.capitalize()}",
        "security": [{"smart": []}],
        "responses": {"200": _ok(f"The {name} result.", _fhir(result)),
                      **_error_responses(*_TERMINOLOGY_ERRORS, *((413, 415) if method == "post" else ()))},
    }
    if method == "get":
        op["parameters"] = params
    else:
        op["requestBody"] = {"required": True, "content": _fhir(f"{name.capitalize()}Parameters")}
    return op


def _foreign(countries: Sequence[TrustedCountry]) -> str:
    """The codes a request may name, for the descriptions."""
    return ", ".join(c.code for c in countries) or "none: the trust list is not valid"


def _patient_parameters(countries: Sequence[TrustedCountry], system_required: bool) -> list[dict[str, Any]]:
    """The identity traits as query parameters: those some trusted country requires are required, not blank."""
    required = schemas.required_traits(countries)
    identifier = "system|value" + ("" if system_required else ", or the value alone in the country's system")
    return [
        _q("identifier", f"National patient identifier: {identifier}. Its check digits are verified by the "
                         "patient's country (400 INVALID_IDENTIFIER).",
           {"type": "string", "pattern": schemas.identifier_pattern(countries, system_required),
            "maxLength": schemas.identifier_max_chars(countries)}, required=True),
        *[_q(trait, description, {**schemas.trait_schema(trait, trait in required), **extra}, trait in required)
          for trait, description, extra in (
              ("family", "Family name (case and accents ignored).", {}),
              ("given", "First given name.", {}),
              ("birthdate", "Date of birth: YYYY-MM-DD (or YYYY-MM, YYYY).", {"maxLength": 10}),
              ("gender", "Administrative gender.", {}),
              ("birthplace", "Place of birth, when the country's search mask requires it.", {}))],
    ]


def _traits_description(countries: Sequence[TrustedCountry]) -> str:
    masks = "; ".join(f"{c.code}: {', '.join(c.search_mask)}" for c in countries)
    return (f"The traits each country requires (its search mask) are required here ({masks}); when several countries "
            "are trusted, the identifier's system and the traits must be those of the patient's country (else 400: "
            "UNKNOWN_IDENTIFIER_SYSTEM, MISSING_TRAIT).")


def build(base: str, countries: Sequence[TrustedCountry] = ()) -> dict[str, Any]:
    """The OpenAPI 3.1 description for the public listener at ``base``, whose foreign trusted ``countries``
    (the trust list's, this NCPeH's own excepted) are the ones a request may name."""
    languages = list(SUPPORTED_LANGUAGES)
    codes = {"type": "string", "enum": schemas.country_codes(countries)} if countries else \
        {"type": "string", "pattern": "^[A-Za-z]{2}$", "maxLength": 2}
    local_id = {"type": "string", "maxLength": 63, "pattern": (
        f"^(?:{'|'.join(c.code.lower() for c in countries)})-[A-Za-z0-9.]{{1,60}}$" if countries
        else "^[a-z]{2}-[A-Za-z0-9.]{1,60}$")}
    language = _q("language", "Language of the summary's displays (else Accept-Language, else the clinician's).",
                  {"type": "string", "enum": languages})
    fmt = _q("_format", "Only JSON (json, application/fhir+json); anything else answers 406.",
             {"type": "string", "enum": ["json", "application/fhir+json", "application/json"]})
    headers = [
        {"name": "Prefer", "in": "header", "required": False,
         "description": "'handling=strict': refuse unknown parameters (400) instead of ignoring them; other "
                        "preferences are ignored.",
         "schema": {"type": "string", "examples": ["handling=strict", "handling=lenient"]}},
        {"name": "X-Request-ID", "in": "header", "required": False,
         "description": "Your correlation id (8-64 characters of A-Z a-z 0-9 . _ : -), recorded in the audit trail "
                        "beside the request id the server makes for every call: the response's X-Request-ID, "
                        "the one the exchange is known by on both sides.",
         "schema": {"type": "string", "examples": ["3f2c9a1e-partner-0001"]}},
    ]
    patient_security = [{"smart": ["system/Patient.read"], "clinicianAssertion": []}]
    country_help = f"Two-letter code of the patient's country of affiliation (trusted: {_foreign(countries)})."
    search_params = _fit_request_line("/fhir/Patient", [
        _q("country", country_help, codes, required=True),
        *_patient_parameters(countries, system_required=False), language, fmt, *headers])
    summary_params = _fit_request_line("/fhir/Patient/$summary", [
        *_patient_parameters(countries, system_required=True),
        _q("country", country_help + " Optional: the identifier's system names it.", codes), language, fmt, *headers])
    return _with_uri_too_long({
        "openapi": "3.1.0",
        "info": {
            "title": "NCPeH partner API (FHIR R4)",
            "version": version(),
            "summary": "Cross-border patient identification and patient summaries for clinicians' own software.",
            "description": (
                "FHIR R4 API of a National Contact Point for eHealth (prototype, synthetic data). Authenticate the "
                "software with OAuth 2.0 client credentials (SMART Backend Services: private_key_jwt, or a client "
                "secret) at the token endpoint; send the access token as 'Authorization: Bearer' and, for Patient "
                "search and $summary, the clinician you act for as an ES256 JWT in 'X-Clinician-Assertion'. "
                "Every error is a FHIR OperationOutcome whose issue[0].details.coding carries a specific code; "
                "every response has an X-Request-ID header. Unknown query parameters are ignored (FHIR lenient "
                "handling) unless 'Prefer: handling=strict' is sent."),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": base, "description": "This NCPeH's public listener"}],
        "tags": [{"name": "auth"}, {"name": "patient"}, {"name": "terminology"}, {"name": "metadata"}],
        "paths": {
            "/.well-known/smart-configuration": {"get": {
                "tags": ["auth"], "summary": "SMART configuration (token endpoint, methods, scopes)",
                "operationId": "smartConfiguration", "security": [],
                "responses": {"200": _ok("SMART configuration.", {"application/json": {
                    "schema": _ref("schemas", "SmartConfiguration")}})},
            }},
            "/oauth/token": {"post": {
                "tags": ["auth"], "summary": "Access token (client credentials)",
                "operationId": "token", "security": [],
                "description": "SMART Backend Services: client_assertion_type=" + JWT_BEARER + " with a "
                               "client_assertion JWT (iss = sub = client_id, aud = this URL, exp <= 5 min, unique "
                               "jti) signed with a key registered for the client; or client_secret_basic/post (one "
                               "method per request). Failed authentications are throttled per address and per "
                               "client id (429). Errors are OAuth 2.0 error objects (RFC 6749 section 5.2).",
                "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
                    "schema": _ref("schemas", "TokenRequest")}}},
                "responses": {
                    "200": _ok("Access token.", {"application/json": {"schema": _ref("schemas", "TokenResponse")}}),
                    "400": _ok("invalid_request (e.g. several client-authentication methods), unsupported_grant_type "
                               "or invalid_scope.", {"application/json": {"schema": _ref("schemas", "OAuthError")}}),
                    "401": _ok("invalid_client.", {"application/json": {"schema": _ref("schemas", "OAuthError")}}),
                    "429": {"description": "temporarily_unavailable: too many failed client authentications from "
                                           "this address or for this client id; retry after Retry-After seconds.",
                            "headers": {"X-Request-ID": _ref("headers", "RequestId"),
                                        "Retry-After": {"schema": {"type": "integer", "minimum": 1}, "required": True}},
                            "content": {"application/json": {"schema": _ref("schemas", "OAuthError")}}},
                    "413": _ref("responses", "PayloadTooLarge"),
                },
            }},
            "/openapi.json": {"get": {
                "tags": ["metadata"], "summary": "This description", "operationId": "openapi", "security": [],
                "responses": {"200": _ok("OpenAPI 3.1.", {"application/json": {"schema": {"type": "object"}}})},
            }},
            "/fhir/metadata": {"get": {
                "tags": ["metadata"], "summary": "CapabilityStatement", "operationId": "capabilities",
                "security": [], "parameters": [fmt, *headers],
                "responses": {"200": _ok("What this server supports.", _fhir("CapabilityStatement")),
                              **_error_responses(400, 406)},
            }},
            "/fhir/Patient": {"get": {
                "tags": ["patient"], "summary": "Identify a patient abroad (PDQm style)",
                "operationId": "searchPatient", "security": patient_security,
                "description": "Relayed to the patient's country. " + _traits_description(countries)
                               + " Ids of the matches are '<cc>-<id>'.",
                "parameters": search_params,
                "responses": {"200": _ok("Matches (0 or 1).", _fhir("PatientSearchset")),
                              **_error_responses(*_PATIENT_ERRORS)},
            }},
            "/fhir/Patient/{id}/$summary": {"get": {
                "tags": ["patient"], "summary": "The patient summary (IPS document), translated",
                "operationId": "patientSummary", "security": patient_security,
                "parameters": [{"name": "id", "in": "path", "required": True, "description": "Id from the search.",
                                "schema": local_id},
                               language, fmt, *headers,
                               {"name": "Accept-Language", "in": "header", "required": False,
                                "schema": {"type": "string", "maxLength": 200}}],
                "responses": {"200": _ok("IPS document Bundle.", _fhir("DocumentBundle"), _SUMMARY_HEADERS),
                              **_error_responses(*_PATIENT_ERRORS)},
            }},
            "/fhir/Patient/{id}/$original-document": {"get": {
                "tags": ["patient"], "summary": "The original clinical document of the summary (CI-SIS CDA), or a PDF "
                                                "embedded in it",
                "operationId": "patientOriginalDocument", "security": patient_security,
                "description": "As the patient's country sent it. 404 NO_ORIGINAL_DOCUMENT when the summary itself is "
                               "the original (it was not converted from another document).",
                "parameters": [{"name": "id", "in": "path", "required": True, "description": "Id from the search.",
                                "schema": local_id},
                               _q("attachment", "Id of a document embedded in the original (observationMedia ID).",
                                  {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_.\\-]{0,63}$", "maxLength": 64}),
                               fmt, *headers],
                "responses": {"200": _ok("The original document (CDA) or the embedded document (PDF).", {
                    "application/hl7-cda+xml": {"schema": {"type": "string"}},
                    "application/pdf": {"schema": {"type": "string", "format": "binary"}}}),
                              **_error_responses(*_PATIENT_ERRORS)},
            }},
            "/fhir/Patient/$summary": {
                "post": {
                    "tags": ["patient"], "summary": "Identify and fetch the summary in one call",
                    "operationId": "summaryByIdentifier", "security": patient_security,
                    "description": "Parameters, each once: identifier (valueIdentifier, or valueString system|value), "
                                   "country (valueCode; optional: the identifier's system names it), family, given, "
                                   "birthdate, gender, birthplace, language. " + _traits_description(countries)
                                   + " The identifier's check digits are verified by the patient's country "
                                   "(400 INVALID_IDENTIFIER).",
                    "parameters": [language, fmt, *headers],
                    "requestBody": {"required": True, "content": _fhir("SummaryParameters")},
                    "responses": {"200": _ok("IPS document Bundle.", _fhir("DocumentBundle"), _SUMMARY_HEADERS),
                                  **_error_responses(*_PATIENT_ERRORS, 409, 413, 415, 422)},
                },
                "get": {
                    "tags": ["patient"], "summary": "Identify and fetch the summary in one call (query parameters)",
                    "operationId": "summaryByIdentifierGet", "security": patient_security,
                    "description": _traits_description(countries),
                    "parameters": summary_params,
                    "responses": {"200": _ok("IPS document Bundle.", _fhir("DocumentBundle"), _SUMMARY_HEADERS),
                                  **_error_responses(*_PATIENT_ERRORS, 409)},
                },
            },
            "/fhir/CodeSystem/$lookup": {
                method: _terminology_operation("CodeSystem", "lookup", _fit_request_line("/fhir/CodeSystem/$lookup", [
                    _q("system", "Code system URI.", _nonempty(), required=True),
                    _q("code", "Code.", _nonempty(), required=True),
                    _q("displayLanguage", "Language of the designations.", {"type": "string", "enum": languages})]),
                    "Parameters", method) for method in ("get", "post")},
            "/fhir/ConceptMap/$translate": {
                method: _terminology_operation("ConceptMap", "translate", _fit_request_line(
                    "/fhir/ConceptMap/$translate", [
                        _q("system", "Source code system URI.", _nonempty(), required=True),
                        _q("code", "Code.", _nonempty(), required=True),
                        _q("targetsystem", "Target code system URI.")]),
                    "Parameters", method) for method in ("get", "post")},
            "/fhir/ValueSet/$expand": {
                method: _terminology_operation("ValueSet", "expand", _fit_request_line("/fhir/ValueSet/$expand", [
                    _q("url", "Canonical URL of the value set.", _nonempty(), required=True),
                    _q("displayLanguage", "Language of the displays.", {"type": "string", "enum": languages}),
                    _q("filter", "Text filter."),
                    _q("count", "Page size (0-1000).", {"type": "integer", "minimum": 0, "maximum": 1000}),
                    _q("offset", "Page start.", {"type": "integer", "minimum": 0, "maximum": 1_000_000})]),
                    "ValueSet", method) for method in ("get", "post")},
        },
        "components": {
            "securitySchemes": {
                "smart": {"type": "oauth2", "description": "SMART Backend Services (client credentials).",
                          "flows": {"clientCredentials": {"tokenUrl": f"{base}/oauth/token",
                                                          "scopes": {s: s for s in SUPPORTED_SCOPES}}}},
                "clinicianAssertion": {
                    "type": "apiKey", "in": "header", "name": "X-Clinician-Assertion",
                    "description": "ES256 JWT (typ clinician+jwt) signed with a key registered for the client: "
                                   "iss = client_id, sub = clinician id, aud = " + base + "/fhir, exp <= 15 min, "
                                   "name, role (ISCO-08), organization, organization_id, locale, purpose_of_use."},
            },
            "headers": {"RequestId": {"required": True, "schema": {"type": "string", "minLength": 8},
                                      "description": "The request id this NCPeH made (sent on to the foreign NCPeH)."}},
            "responses": {name: _error_component(status) for status, (name, _) in _ERRORS.items()},
            "schemas": schemas.schemas(countries, languages),
        },
    })


def _with_uri_too_long(spec: dict[str, Any]) -> dict[str, Any]:
    """Every GET may be answered 414 by the HTTP server itself, before the API, when its request line is
    longer than gunicorn's limit: a short HTML page, no OperationOutcome (described as it is)."""
    spec["components"]["responses"]["UriTooLong"] = {
        "description": f"Request line longer than {MAX_REQUEST_LINE} bytes: refused by the HTTP server before the API "
                       "(a short HTML page, no OperationOutcome, no X-Request-ID).",
        "content": {"text/html": {"schema": {"type": "string"}}}}
    for item in spec["paths"].values():
        if "get" in item:
            item["get"]["responses"]["414"] = _ref("responses", "UriTooLong")
    return spec
