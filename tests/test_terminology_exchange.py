"""Terminology in the exchange: FR transcodes national codes on release, DE translates for its clinician."""

from __future__ import annotations

import pytest

from terminology import systems

FR_INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
INS = "284057505612387"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"


def fetch_summary(countries, **params):
    session = countries.partner_session("DE")
    base = countries.public("DE") + "/fhir"
    found = session.get(f"{base}/Patient", params={
        "country": "FR", "identifier": f"{FR_INS_SYSTEM}|{INS}", "family": "Dupont", "given": "Marie",
        "birthdate": "1984-05-12", "gender": "female"}, timeout=10).json()
    patient_id = found["entry"][0]["resource"]["id"]
    headers = params.pop("headers", {})
    return session.get(f"{base}/Patient/{patient_id}/$summary", params=params, headers=headers, timeout=10)


def resource(doc, kind):
    return next(e["resource"] for e in doc["entry"] if e["resource"]["resourceType"] == kind)


def translations(element: dict) -> dict[str, str]:
    out = {}
    for ext in (element.get("_display") or {}).get("extension", []):
        if ext["url"] == TRANSLATION:
            parts = {p["url"]: p.get("valueCode") or p.get("valueString") for p in ext["extension"]}
            out[parts["lang"]] = parts["content"]
    return out


def test_national_codes_are_transcoded_and_originals_kept(countries):
    resp = fetch_summary(countries, language="de")
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    condition = resource(doc, "Condition")
    codings = condition["code"]["coding"]
    by_system = {c["system"]: c for c in codings}
    assert by_system[systems.CIM10_FR]["code"] == "E11.9"  # original kept
    assert systems.ICD10 in by_system  # pivot added
    medication = resource(doc, "MedicationStatement")["medicationCodeableConcept"]["coding"]
    assert {c["system"] for c in medication} >= {systems.CIP13_FR, systems.ATC}
    assert resp.headers["X-Terminology-Coverage"].startswith("codings=")


def test_summary_is_translated_into_the_requested_language(countries):
    doc = fetch_summary(countries, language="de").json()
    condition = resource(doc, "Condition")
    icd = next(c for c in condition["code"]["coding"] if c["system"] == systems.ICD10)
    assert "de" in translations(icd)
    titles = [s["title"] for s in resource(doc, "Composition")["section"]]
    assert titles  # original section titles kept
    allergy = resource(doc, "AllergyIntolerance")
    status = allergy["clinicalStatus"]["coding"][0]
    assert translations(status).get("de", "").lower().startswith("aktiv")


def test_accept_language_and_unsupported_language(countries):
    resp = fetch_summary(countries, headers={"Accept-Language": "it-IT,it;q=0.9"})
    assert resp.status_code == 200
    assert resp.headers["Content-Language"] == "it"
    bad = fetch_summary(countries, language="tlh")
    assert bad.status_code == 400
    body = bad.json()
    assert body["issue"][0]["details"]["coding"][0]["code"] == "UNSUPPORTED_LANGUAGE"
    assert "fr" in body["issue"][0]["diagnostics"] and "pl" in body["issue"][0]["diagnostics"]


@pytest.mark.parametrize("language", ["fr", "en", "de", "es", "it", "pt", "nl", "pl"])
def test_every_supported_language_answers(countries, language):
    assert fetch_summary(countries, language=language).status_code == 200


def test_unmapped_national_code_is_kept_and_flagged(countries):
    doc = fetch_summary(countries, language="en").json()
    fatigue = next(r["resource"] for r in doc["entry"] if r["resource"].get("id") == "co-2")
    codings = fatigue["code"]["coding"]
    assert [c["code"] for c in codings] == ["R53.8"]  # nothing dropped, nothing invented
    flags = [ext["url"] for ext in codings[0].get("extension", []) + fatigue["code"].get("extension", [])]
    assert any("no-map" in url or "unmapped" in url or "unknown" in url for url in flags), codings


def partner(countries):
    return countries.partner_session("DE", clinician=None)


def test_lookup_with_display_language(countries):
    resp = partner(countries).get(countries.public("DE") + "/fhir/CodeSystem/$lookup", params={
        "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active",
        "displayLanguage": "de"}, timeout=10)
    assert resp.status_code == 200, resp.text
    params = {p["name"]: p for p in resp.json()["parameter"]}
    assert params["display"]["valueString"].lower().startswith("aktiv")
    languages = {p["part"][0]["valueCode"] for p in resp.json()["parameter"] if p["name"] == "designation"}
    assert {"fr", "de", "es", "it", "pt", "nl", "pl"} <= languages
    unknown = partner(countries).get(countries.public("DE") + "/fhir/CodeSystem/$lookup", params={
        "system": "http://snomed.info/sct", "code": "0000000"}, timeout=10)
    assert unknown.status_code == 404
    bad_lang = partner(countries).get(countries.public("DE") + "/fhir/CodeSystem/$lookup", params={
        "system": "http://snomed.info/sct", "code": "0000000", "displayLanguage": "xx"}, timeout=10)
    assert bad_lang.status_code == 400 and "supported" in bad_lang.text


def test_conceptmap_translate(countries):
    resp = partner(countries).get(countries.public("DE") + "/fhir/ConceptMap/$translate", params={
        "system": systems.CIM10_FR, "code": "E11.9", "targetsystem": systems.ICD10}, timeout=10)
    assert resp.status_code == 200
    params = resp.json()["parameter"]
    assert params[0] == {"name": "result", "valueBoolean": True}
    match = next(p for p in params if p["name"] == "match")
    concept = next(p for p in match["part"] if p["name"] == "concept")["valueCoding"]
    assert concept["system"] == systems.ICD10 and concept["code"].startswith("E11")


def test_valueset_expand_in_a_language(countries):
    resp = partner(countries).post(countries.public("DE") + "/fhir/ValueSet/$expand", json={
        "resourceType": "Parameters", "parameter": [
            {"name": "url", "valueUri": "http://terminology.ehdsi.eu/ValueSet/eHDSIBloodGroup"},
            {"name": "displayLanguage", "valueCode": "pl"}, {"name": "count", "valueInteger": 50}]},
        headers={"Content-Type": "application/fhir+json"}, timeout=10)
    assert resp.status_code == 200, resp.text
    expansion = resp.json()["expansion"]
    assert expansion["total"] >= 8 and len(expansion["contains"]) == expansion["total"]
    missing = partner(countries).get(countries.public("DE") + "/fhir/ValueSet/$expand",
                                     params={"url": "http://example.org/nope"}, timeout=10)
    assert missing.status_code == 404
    no_token = __import__("requests").get(countries.public("DE") + "/fhir/ValueSet/$expand",
                                          params={"url": "x"}, verify=countries.ca(), timeout=10)
    assert no_token.status_code == 401
