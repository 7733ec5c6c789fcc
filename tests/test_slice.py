"""The foundation slice: DE retrieves a French patient's summary from FR over mutual TLS."""

from __future__ import annotations

import ssl

import pytest
import requests

from tests.conftest import CLINICIAN, load_fixture

INS = "284057505612387"
FR_INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"


def test_de_retrieves_french_summary_over_mutual_tls(countries):
    session = countries.partner_session("DE")
    base = countries.public("DE") + "/fhir"
    found = session.get(f"{base}/Patient", params={
        "country": "FR", "identifier": f"{FR_INS_SYSTEM}|{INS}", "family": "Dupont", "given": "Marie",
        "birthdate": "1984-05-12", "gender": "female"}, timeout=10)
    assert found.status_code == 200, found.text
    assert found.headers["Content-Type"].startswith("application/fhir+json")
    bundle = found.json()
    assert bundle["type"] == "searchset" and bundle["total"] == 1
    patient = bundle["entry"][0]["resource"]
    assert patient["id"].startswith("fr-")
    assert patient["identifier"][0]["value"] == INS

    summary = session.get(f"{base}/Patient/{patient['id']}/$summary", timeout=10)
    assert summary.status_code == 200, summary.text
    doc = summary.json()
    original = load_fixture("ips-fr-dupont.json")
    assert doc["type"] == "document"
    assert doc["entry"][0]["resource"]["resourceType"] == "Composition"
    assert doc["identifier"] == original["identifier"]
    assert [s["code"]["coding"][0]["code"] for s in doc["entry"][0]["resource"]["section"]] == [
        "48765-2", "10160-0", "11450-4"]


def test_request_id_travels_and_is_returned(countries):
    session = countries.partner_session("DE")
    resp = session.get(countries.public("DE") + "/fhir/Patient", params={
        "country": "FR", "identifier": INS, "family": "X", "given": "Y", "birthdate": "1984-05-12",
        "gender": "female"}, headers={"X-Request-ID": "corr-0123456789"}, timeout=10)
    assert resp.status_code == 200
    assert resp.json()["total"] == 0  # a trait that does not match gives no match
    # Germany makes its own id for the exchange, known by it on both sides; the partner's is recorded beside
    request_id = resp.headers["X-Request-ID"]
    assert request_id != "corr-0123456789"
    fr, de = countries.store("FR"), countries.store("DE")
    try:
        assert len(fr.audit.by_request_id(request_id)) == 1
        (at_de,) = de.audit.by_request_id(request_id)
        assert at_de.detail["partner_request_id"] == "corr-0123456789"
    finally:
        fr.close()
        de.close()


@pytest.mark.parametrize("listener", ["public", "ncp"])
@pytest.mark.parametrize("code", ["FR", "DE"])
def test_status_on_every_listener(countries, code, listener):
    cfg = countries.configs[code]
    url = (cfg.ncp.url if listener == "ncp" else cfg.public.url) + "/_status"
    cert = (str(cfg.certs.client_cert), str(cfg.certs.client_key)) if listener == "ncp" else None
    resp = requests.get(url, verify=countries.ca(), cert=cert, timeout=10)
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "warning"  # the default layout's warnings (docs/trust-and-assertions.md)
    warned = {name: check.get("code") for name, check in body["checks"].items() if check["status"] != "ok"}
    assert warned == {"audit_anchor": "AUDIT_ANCHOR_WEAK", **({"totp_key": "TOTP_KEY_IN_DATA_DIR"}
                                                              if listener == "public" else {})}
    assert body["country"] == code and body["listener"] == listener
    assert body["version"]
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["server_certificate"]["days_left"] > 300
    assert body["checks"]["trust_list"]["loaded"] is True
    assert body["checks"]["trust_list"]["countries"] == ["DE", "FR"]


def test_ncp_listener_requires_a_client_certificate(countries):
    with pytest.raises(requests.exceptions.RequestException):
        requests.get(countries.ncp("FR") + "/fhir/Patient", verify=countries.ca(), timeout=5)


def test_ncp_listener_answers_a_trusted_peer(countries):
    hcp = countries.signer("DE").hcp(CLINICIAN, "TREATMENT", countries.ncp("FR"))
    resp = countries.peer_session("DE").get(countries.ncp("FR") + "/fhir/Patient", params={
        "identifier": f"{FR_INS_SYSTEM}|{INS}", "family": "DUPONT", "given": "Marie",
        "birthdate": "1984-05-12", "gender": "female"}, headers={"Authorization": f"Bearer {hcp}"}, timeout=10)
    assert resp.status_code == 200
    assert resp.json()["total"] == 1


def test_public_listener_does_not_serve_the_ncp_api_without_token(countries):
    resp = requests.get(countries.public("FR") + "/fhir/Patient", params={"country": "DE"},
                        verify=countries.ca(), timeout=5)
    assert resp.status_code == 401
    assert "WWW-Authenticate" in resp.headers
    assert resp.json()["resourceType"] == "OperationOutcome"


def test_tls_versions_below_1_2_refused(countries):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(countries.ca())
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    host, port = countries.configs["FR"].public.host, countries.configs["FR"].public.port
    import socket

    with pytest.raises((ssl.SSLError, OSError)), socket.create_connection((host, port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost"):
            pass


def test_opposed_patient_is_refused_without_revealing_more(countries):
    from tests.conftest import OPPOSED_INS

    session = countries.partner_session("DE")
    base = countries.public("DE") + "/fhir"
    found = session.get(f"{base}/Patient", params={
        "country": "FR", "identifier": f"{FR_INS_SYSTEM}|{OPPOSED_INS}", "family": "Leroy", "given": "Jean",
        "birthdate": "1970-02-13", "gender": "male"}, timeout=10).json()
    patient_id = found["entry"][0]["resource"]["id"]
    resp = session.get(f"{base}/Patient/{patient_id}/$summary", timeout=10)
    assert resp.status_code == 403
    outcome = resp.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["details"]["coding"][0]["code"] == "ACCESS_REFUSED"
    assert "Allerg" not in resp.text and "Leroy" not in resp.text


@pytest.mark.parametrize("params, status, code", [
    ({"country": "ZZ", "identifier": "1"}, 404, "UNKNOWN_COUNTRY"),
    ({"country": "DE", "identifier": "1"}, 400, "OWN_COUNTRY"),
    ({"country": "FR", "identifier": INS}, 400, "MISSING_TRAIT"),
    ({"country": "FR", "identifier": "284057505612300", "family": "D", "given": "M", "birthdate": "1984-05-12",
      "gender": "female"}, 400, "INVALID_IDENTIFIER"),
    ({"country": "FR", "identifier": INS, "family": "D", "given": "M", "birthdate": "12/05/1984",
      "gender": "female"}, 400, "INVALID_TRAIT"),
])
def test_partner_api_errors_are_operation_outcomes(countries, params, status, code):
    resp = countries.partner_session("DE").get(countries.public("DE") + "/fhir/Patient", params=params, timeout=10)
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["details"]["coding"][0]["code"] == code
    assert resp.headers["X-Request-ID"]
    assert "Traceback" not in resp.text


def test_missing_trait_is_named(countries):
    resp = countries.partner_session("DE").get(countries.public("DE") + "/fhir/Patient", params={
        "country": "FR", "identifier": INS, "family": "Dupont", "given": "Marie", "gender": "female"}, timeout=10)
    assert resp.status_code == 400
    assert "birthdate" in resp.json()["issue"][0]["diagnostics"]


def test_unknown_summary_id(countries):
    session = countries.partner_session("DE")
    for bad_id, status in (("fr-doesnotexist", 404), ("nonsense", 404), ("zz-abc", 404)):
        resp = session.get(countries.public("DE") + f"/fhir/Patient/{bad_id}/$summary", timeout=10)
        assert resp.status_code == status
        assert resp.json()["resourceType"] == "OperationOutcome"
