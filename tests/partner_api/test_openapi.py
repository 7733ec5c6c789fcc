"""The served /openapi.json is true: real responses of the running API, successes and errors, validate
against it (openapi-core: status declared, body schema, content type, required headers)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
import requests
from openapi_core import OpenAPI
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec

from tests.conftest import OPPOSED_INS, Running
from tests.partner_api.conftest import (
    DUPONT,
    FHIR_JSON,
    FR_INS_SYSTEM,
    INS,
    Partner,
    add_partner,
    code_of,
    conforms,
    plain,
    served_openapi,
)


@pytest.fixture(scope="module")
def served(countries: Running) -> tuple[dict, OpenAPI]:
    return served_openapi(countries)


@pytest.fixture(scope="module")
def spec(served: tuple[dict, OpenAPI]) -> dict:
    return served[0]


@pytest.fixture(scope="module")
def api(served: tuple[dict, OpenAPI]) -> OpenAPI:
    return served[1]


def parameters(*items: tuple[str, str, Any]) -> dict:
    return {"resourceType": "Parameters", "parameter": [{"name": n, kind: v} for n, kind, v in items]}


DUPONT_BODY = parameters(("identifier", "valueIdentifier", {"system": FR_INS_SYSTEM, "value": INS}),
                         ("family", "valueString", "Dupont"), ("given", "valueString", "Marie"),
                         ("birthdate", "valueDate", "1984-05-12"), ("gender", "valueCode", "female"))


def post_json(session: requests.Session, url: str, body: Any, content_type: str = FHIR_JSON, **kwargs) -> requests.Response:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return session.post(url, data=data, headers={"Content-Type": content_type}, timeout=15, **kwargs)


def test_openapi_json_is_a_valid_openapi_3_1_document(countries, spec):
    validate_spec(spec)  # raises on any violation of the OpenAPI 3.1 meta-schema
    assert spec["openapi"] == "3.1.0"
    assert spec["servers"][0]["url"] == countries.public("DE")
    token_url = spec["components"]["securitySchemes"]["smart"]["flows"]["clientCredentials"]["tokenUrl"]
    assert token_url == countries.public("DE") + "/oauth/token"


def _patient_id(partner: Partner) -> str:
    found = partner.session().get(partner.fhir + "/Patient", params={"country": "FR", **DUPONT}, timeout=10)
    assert found.status_code == 200, found.text
    return found.json()["entry"][0]["resource"]["id"]


SUCCESSES: dict[str, Callable[[Partner], requests.Response]] = {
    "metadata": lambda p: plain(p.running).get(p.fhir + "/metadata", timeout=10),
    "metadata _format=json": lambda p: plain(p.running).get(p.fhir + "/metadata", params={"_format": "json"},
                                                            timeout=10),
    "smart-configuration": lambda p: plain(p.running).get(p.base + "/.well-known/smart-configuration", timeout=10),
    "openapi.json": lambda p: plain(p.running).get(p.base + "/openapi.json", timeout=10),
    "token (private_key_jwt)": lambda p: p.token_response(scope="system/Patient.read"),
    "token (client secret)": lambda p: plain(p.running).post(
        p.token_url, data={"grant_type": "client_credentials"},
        auth=(p.running.partner_credentials("DE")["client_id"], p.running.partner_credentials("DE")["client_secret"]),
        timeout=10),
    "Patient search, one match": lambda p: p.session().get(p.fhir + "/Patient", params={"country": "FR", **DUPONT},
                                                           timeout=10),
    "Patient search, no match": lambda p: p.session().get(
        p.fhir + "/Patient", params={"country": "FR", **DUPONT, "family": "Martin"}, timeout=10),
    "GET Patient/{id}/$summary": lambda p: p.session().get(
        p.fhir + f"/Patient/{_patient_id(p)}/$summary", params={"language": "en"}, timeout=15),
    "GET Patient/{id}/$summary (Accept-Language)": lambda p: p.session().get(
        p.fhir + f"/Patient/{_patient_id(p)}/$summary", headers={"Accept-Language": "it-IT, en;q=0.5"}, timeout=15),
    "GET Patient/$summary": lambda p: p.session().get(p.fhir + "/Patient/$summary", params={**DUPONT, "language": "fr"},
                                                      timeout=15),
    "POST Patient/$summary": lambda p: post_json(p.session(), p.fhir + "/Patient/$summary", DUPONT_BODY),
    "GET CodeSystem/$lookup": lambda p: p.session().get(
        p.fhir + "/CodeSystem/$lookup", params={"system": "http://loinc.org", "code": "48765-2", "displayLanguage": "de"},
        timeout=10),
    "POST CodeSystem/$lookup": lambda p: post_json(p.session(), p.fhir + "/CodeSystem/$lookup", parameters(
        ("coding", "valueCoding", {"system": "http://loinc.org", "code": "48765-2"}))),
    "GET ConceptMap/$translate": lambda p: p.session().get(
        p.fhir + "/ConceptMap/$translate", params={"system": "http://loinc.org", "code": "48765-2"}, timeout=10),
    "POST ConceptMap/$translate": lambda p: post_json(p.session(), p.fhir + "/ConceptMap/$translate", parameters(
        ("system", "valueUri", "http://loinc.org"), ("code", "valueCode", "48765-2"))),
    "GET ValueSet/$expand": lambda p: p.session().get(
        p.fhir + "/ValueSet/$expand", params={"url": "http://terminology.ehdsi.eu/ValueSet/eHDSIBloodGroup",
                                              "displayLanguage": "pl", "count": "3"}, timeout=10),
    "POST ValueSet/$expand": lambda p: post_json(p.session(), p.fhir + "/ValueSet/$expand", parameters(
        ("url", "valueUri", "http://terminology.ehdsi.eu/ValueSet/eHDSIBloodGroup"), ("filter", "valueString", "A"))),
}


@pytest.mark.parametrize("name", list(SUCCESSES))
def test_successful_responses_conform(api, partner, name):
    resp = SUCCESSES[name](partner)
    assert resp.status_code == 200, resp.text
    conforms(api, resp)


def _rate_limited(p: Partner) -> requests.Response:
    limited = add_partner(p.running, rate=2).session()
    for _ in range(6):
        resp = limited.get(p.fhir + "/CodeSystem/$lookup", params={"system": "http://loinc.org", "code": "48765-2"},
                           timeout=10)
        if resp.status_code == 429:
            return resp
    raise AssertionError("never rate limited")


def _no_scope(p: Partner) -> requests.Response:
    other = add_partner(p.running, scopes=("system/AuditEvent.read",))
    return other.session().get(p.fhir + "/Patient", params={"country": "FR", **DUPONT}, timeout=10)


OPPOSED_BODY = parameters(("identifier", "valueString", f"{FR_INS_SYSTEM}|{OPPOSED_INS}"), ("family", "valueString", "Leroy"),
                          ("given", "valueString", "Jean"), ("birthdate", "valueDate", "1970-02-13"),
                          ("gender", "valueCode", "male"))

#: (status, code in the OperationOutcome or the OAuth error, the call)
ERRORS: dict[str, tuple[int, str, Callable[[Partner], requests.Response]]] = {
    "missing country": (400, "MISSING_PARAMETER", lambda p: p.session().get(p.fhir + "/Patient", params=DUPONT,
                                                                            timeout=10)),
    "missing trait": (400, "MISSING_TRAIT", lambda p: p.session().get(
        p.fhir + "/Patient", params={"country": "FR", "identifier": DUPONT["identifier"]}, timeout=10)),
    "invalid identifier": (400, "INVALID_IDENTIFIER", lambda p: p.session().get(
        p.fhir + "/Patient", params={"country": "FR", **DUPONT, "identifier": f"{FR_INS_SYSTEM}|284057505612300"},
        timeout=10)),
    "malformed JSON": (400, "MALFORMED_JSON", lambda p: post_json(p.session(), p.fhir + "/Patient/$summary", "{")),
    "token: wrong grant": (400, "unsupported_grant_type", lambda p: plain(p.running).post(
        p.token_url, data={"grant_type": "password"}, timeout=10)),
    "no token": (401, "NO_TOKEN", lambda p: plain(p.running).get(p.fhir + "/Patient", params={"country": "FR", **DUPONT},
                                                                 timeout=10)),
    "no clinician": (401, "CLINICIAN_ASSERTION_MISSING", lambda p: p.session(clinician=False).get(
        p.fhir + "/Patient", params={"country": "FR", **DUPONT}, timeout=10)),
    "token: wrong secret": (401, "invalid_client", lambda p: plain(p.running).post(
        p.token_url, data={"grant_type": "client_credentials"}, auth=(p.client_id, "wrong"), timeout=10)),
    "insufficient scope": (403, "INSUFFICIENT_SCOPE", _no_scope),
    "consent refused": (403, "ACCESS_REFUSED", lambda p: post_json(p.session(), p.fhir + "/Patient/$summary",
                                                                   OPPOSED_BODY)),
    "unknown country": (404, "UNKNOWN_COUNTRY", lambda p: p.session().get(
        p.fhir + "/Patient", params={**DUPONT, "country": "ZZ"}, timeout=10)),
    "unknown patient": (404, "UNKNOWN_PATIENT", lambda p: p.session().get(p.fhir + "/Patient/fr-nobody/$summary",
                                                                          timeout=10)),
    "no match for $summary": (404, "UNKNOWN_PATIENT", lambda p: p.session().get(
        p.fhir + "/Patient/$summary", params={**DUPONT, "given": "Claire"}, timeout=10)),
    "unknown code": (404, "UNKNOWN_CODE", lambda p: p.session().get(
        p.fhir + "/CodeSystem/$lookup", params={"system": "http://snomed.info/sct", "code": "0000000"}, timeout=10)),
    "_format=xml": (406, "UNSUPPORTED_FORMAT", lambda p: plain(p.running).get(p.fhir + "/metadata",
                                                                              params={"_format": "xml"}, timeout=10)),
    "oversized body": (413, "PAYLOAD_TOO_LARGE", lambda p: post_json(
        p.session(), p.fhir + "/Patient/$summary",
        {**DUPONT_BODY, "parameter": [*DUPONT_BODY["parameter"], {"name": "x", "valueString": "x" * 70_000}]})),
    "wrong content type": (415, "UNSUPPORTED_MEDIA_TYPE", lambda p: post_json(
        p.session(), p.fhir + "/Patient/$summary", DUPONT_BODY, content_type="text/plain")),
    "not a Parameters body": (422, "INVALID_PARAMETERS", lambda p: post_json(
        p.session(), p.fhir + "/Patient/$summary", {"resourceType": "Patient"})),
    "rate limited": (429, "RATE_LIMITED", _rate_limited),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_error_responses_conform(api, partner, name):
    status, code, call = ERRORS[name]
    resp = call(partner)
    assert resp.status_code == status, resp.text
    assert len(resp.headers.get("X-Request-ID", "")) >= 8
    if resp.request.path_url.startswith("/oauth/"):
        assert resp.json()["error"] == code
    else:
        assert resp.headers["Content-Type"].startswith(FHIR_JSON)
        assert code_of(resp) == code
    if status == 401:
        assert resp.headers["WWW-Authenticate"]
    if status == 429:
        assert int(resp.headers["Retry-After"]) >= 1
    conforms(api, resp)


def test_405_conforms_to_the_declared_component(spec, partner):
    """A method the path does not serve has no operation to validate against: check the component."""
    resp = partner.session().delete(partner.fhir + "/Patient", timeout=10)
    assert resp.status_code == 405 and resp.headers["Allow"] == "GET"
    component = spec["components"]["responses"]["MethodNotAllowed"]
    assert set(component["headers"]) == {"X-Request-ID", "Allow"}
    assert all(name in resp.headers for name in component["headers"])
    schema_ref = component["content"][FHIR_JSON]["schema"]["$ref"].rsplit("/", 1)[-1]
    OAS31Validator(spec["components"]["schemas"][schema_ref]).validate(resp.json())


def test_the_validation_is_not_vacuous(api, partner):
    """The same real answer, altered: a wrong body, a missing required header, an undeclared status."""
    resp = conforms(api, partner.session().get(partner.fhir + "/Patient", params={"country": "FR", **DUPONT},
                                               timeout=10))
    for alter in ("body", "header", "status"):
        bad = copy.copy(resp)
        bad.headers = copy.copy(resp.headers)
        if alter == "body":
            bad._content = json.dumps({**resp.json(), "type": "collection"}).encode()
        elif alter == "header":
            del bad.headers["X-Request-ID"]
        else:
            bad.status_code = 418
        with pytest.raises(Exception) as caught:  # noqa: B017 - openapi-core raises one class per finding
            conforms(api, bad)
        assert "openapi_core" in type(caught.value).__module__, (alter, caught.value)
