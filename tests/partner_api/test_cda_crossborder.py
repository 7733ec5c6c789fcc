"""A patient whose summary France imported from the DMP's own CDA document, queried from Germany: the
IPS in German through the partner API, and the original CDA (and a PDF embedded in it) on request."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import orjson
import pytest

from gateway import audit_trail as trail
from gateway import storage
from gateway.services.population import import_paths, store_documents
from tests.conftest import CLINICIAN, load_fixture, make_topology, started

CDA = Path(__file__).resolve().parents[1] / "fixtures" / "cda"
FR_INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
DOMINIQUE = {"identifier": f"{FR_INS_SYSTEM}|279035121518989", "family": "PAT-TROIS", "given": "DOMINIQUE",
             "birthdate": "1979-03-28", "gender": "female"}
ELISE = {"identifier": f"{FR_INS_SYSTEM}|261076912341774", "family": "MARCHAND", "given": "ÉLISE",
         "birthdate": "1961-07-03", "gender": "female"}


@pytest.fixture(scope="module")
def cda_countries(tmp_path_factory):
    """FR (the two ANS examples and the synthetic summary imported as CDA) and DE."""
    topo = make_topology(tmp_path_factory.mktemp("cda-countries"), ["FR", "DE"])
    topo.prepare(patients=0)
    store = storage.open_store(topo.configs["FR"].database_path)
    report = import_paths(store, topo.configs["FR"], [CDA / "VSM_1.4_2022.01.xml", CDA / "IPS-FR_2024.01_DLU.xml",
                                                      CDA / "synthetic-ips-fr.xml"], processes=1)
    assert not report.rejected, report.rejected
    store_documents(store, topo.configs["FR"], [load_fixture("ips-fr-dupont.json")])  # imported as FHIR
    store.close()
    with started(topo) as running:
        yield running


def summary_de(running, traits):
    session = running.partner_session("DE")
    resp = session.get(running.public("DE") + "/fhir/Patient/$summary", params={**traits, "language": "de"},
                       timeout=30)
    assert resp.status_code == 200, resp.text
    return session, resp


def found_id(running, session, traits) -> str:
    resp = session.get(running.public("DE") + "/fhir/Patient", params={"country": "FR", **traits}, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()["entry"][0]["resource"]["id"]


def test_summary_of_a_cda_imported_patient_in_german(cda_countries):
    _session, resp = summary_de(cda_countries, ELISE)
    assert resp.headers["Content-Language"] == "de"
    bundle = resp.json()
    composition = bundle["entry"][0]["resource"]
    resources = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    patient = resources[composition["subject"]["reference"]]
    assert patient["name"][0]["family"] == "MARCHAND" and patient["birthDate"] == "1961-07-03"
    sections = {s["code"]["coding"][0]["code"]: s for s in composition["section"]}
    conditions = [resources[r["reference"]] for r in sections["11450-4"]["entry"]]
    diabetes = next(c for c in conditions if any(x.get("code") == "E11.9" for x in c["code"]["coding"]))
    codings = diabetes["code"]["coding"]
    # the CIM-10 code as the DMP sent it, the pivot code France added on release, displays in German
    assert {"system": "https://smt.esante.gouv.fr/terminologie-cim-10/", "code": "E11.9"}.items() <= codings[0].items()
    assert any(c["system"] == "http://hl7.org/fhir/sid/icd-10" for c in codings[1:]), codings
    translated = [e for c in codings for e in c.get("_display", {}).get("extension", [])
                  if e["url"] == "http://hl7.org/fhir/StructureDefinition/translation"]
    assert any(part.get("valueCode") == "de" for ext in translated for part in ext["extension"]), codings
    # the narrative is the DMP's own, the IPS points to the CDA it was converted from
    assert "Diabète de type 2" in sections["11450-4"]["text"]["div"]
    assert composition["relatesTo"][0]["code"] == "transforms"


def test_original_cda_and_embedded_pdf_through_the_partner_api(cda_countries):
    session, resp = summary_de(cda_countries, DOMINIQUE)
    assert resp.json()["entry"][0]["resource"]["title"] == "SYNTHESE MEDICALE"  # the IPS-FR, version 2
    patient_id = found_id(cda_countries, session, DOMINIQUE)
    base = cda_countries.public("DE") + f"/fhir/Patient/{patient_id}/$original-document"
    original = session.get(base, timeout=30)
    assert original.status_code == 200, original.text
    assert original.headers["Content-Type"].startswith("application/hl7-cda+xml")
    assert original.content == (CDA / "IPS-FR_2024.01_DLU.xml").read_bytes()
    pdf = session.get(base, params={"attachment": "doc-1"}, timeout=30)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["Content-Type"] == "application/pdf"
    source = (CDA / "IPS-FR_2024.01_DLU.xml").read_text(encoding="utf-8")
    encoded = re.search(r'ID="doc-1">\s*<value[^>]*>([^<]+)</value>', source).group(1)
    assert pdf.content == base64.b64decode("".join(encoded.split()))
    missing = session.get(base, params={"attachment": "nope"}, timeout=30)
    assert missing.status_code == 404
    assert missing.json()["issue"][0]["details"]["coding"][0]["code"] == "NO_ORIGINAL_DOCUMENT"
    bad = session.get(base, params={"attachment": "../../etc/passwd"}, timeout=30)
    assert bad.status_code == 400 and bad.json()["resourceType"] == "OperationOutcome"


def test_original_requests_are_audited_on_both_sides(cda_countries):
    session, _resp = summary_de(cda_countries, ELISE)
    patient_id = found_id(cda_countries, session, ELISE)
    resp = session.get(cda_countries.public("DE") + f"/fhir/Patient/{patient_id}/$original-document", timeout=30)
    assert resp.status_code == 200
    digest = hashlib.sha256(resp.content).hexdigest()
    for code in ("FR", "DE"):
        store = cda_countries.store(code)
        rows = store.db.execute("SELECT detail FROM audit_events ORDER BY seq DESC LIMIT 20").fetchall()
        details = [orjson.loads(r[0]) for r in rows if r[0]]
        assert any(d.get("original_document") == "cda" and d.get("document_sha256") == digest for d in details), code
        store.close()


DUPONT = {"identifier": f"{FR_INS_SYSTEM}|284057505612387", "family": "DUPONT", "given": "Marie",
          "birthdate": "1984-05-12", "gender": "female"}


def test_a_summary_imported_as_fhir_has_no_other_original(cda_countries):
    session = cda_countries.partner_session("DE")
    patient_id = found_id(cda_countries, session, DUPONT)
    resp = session.get(cda_countries.public("DE") + f"/fhir/Patient/{patient_id}/$original-document", timeout=30)
    assert resp.status_code == 404, resp.text
    assert resp.json()["issue"][0]["details"]["coding"][0]["code"] == "NO_ORIGINAL_DOCUMENT"


def test_country_a_releases_the_original_only_with_hcp_and_trc_assertions(cda_countries):
    fr = cda_countries.configs["FR"]
    store = cda_countries.store("FR")
    patient = store.records.find_by_identifier(FR_INS_SYSTEM, "279035121518989")
    store.close()
    url = f"{fr.ncp.url}/fhir/Patient/{patient.id}/$original-document"
    session = cda_countries.peer_session("DE")
    signer = cda_countries.signer("DE")
    hcp_only = session.get(url, headers={"Authorization": "Bearer " + signer.hcp(CLINICIAN, "TREATMENT", fr.ncp.url)},
                           timeout=30)
    assert hcp_only.status_code == 403, hcp_only.text  # a missing TRC is an authorisation refusal (docs: step 7)
    assert hcp_only.json()["issue"][0]["details"]["coding"][0]["code"] == "TRC_ASSERTION_MISSING"
    both = session.get(url, headers={
        "Authorization": "Bearer " + signer.hcp(CLINICIAN, "TREATMENT", fr.ncp.url),
        "X-TRC-Assertion": signer.trc(CLINICIAN, "TREATMENT", patient.id, fr.ncp.url)}, timeout=30)
    assert both.status_code == 200
    assert both.content == (CDA / "IPS-FR_2024.01_DLU.xml").read_bytes()


def test_no_original_for_a_patient_who_opposed_cross_border_access(cda_countries):
    session = cda_countries.partner_session("DE")
    patient_id = found_id(cda_countries, session, ELISE)
    store = cda_countries.store("FR")
    local = store.records.find_by_identifier(FR_INS_SYSTEM, "261076912341774")
    store.records.set_consent(local.id, "opposed", audit=trail.consent_draft("FR", local.id, "opposed"))
    try:
        resp = session.get(cda_countries.public("DE") + f"/fhir/Patient/{patient_id}/$original-document", timeout=30)
    finally:
        store.records.set_consent(local.id, "allowed", audit=trail.consent_draft("FR", local.id, "allowed"))
        store.close()
    assert resp.status_code == 403, resp.text
    assert resp.json()["issue"][0]["details"]["coding"][0]["code"] == "ACCESS_REFUSED"
    assert b"ClinicalDocument" not in resp.content
