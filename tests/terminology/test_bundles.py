from __future__ import annotations

import copy

import pytest

import terminology
from terminology import systems as S

from .conftest import resources, translation, walk_codings


def _ext(element, url):
    return [e for e in element.get("extension", ()) if e["url"] == url]


def test_transcode_adds_pivot_and_keeps_original(fr_bundle):
    original = copy.deepcopy(fr_bundle)
    bundle, report = terminology.transcode(fr_bundle, "FR")
    assert bundle is fr_bundle
    for before, after in zip(resources(original, "Condition"), resources(bundle, "Condition"), strict=True):
        old = before["code"]["coding"]
        new = after["code"]["coding"]
        assert new[: len(old)] == [{**c} for c in old] or new[0]["code"] == old[0]["code"]
        systems = [c["system"] for c in new]
        assert systems[0] == S.CIM10_FR and S.ICD10 in systems
        pivot = next(c for c in new if c["system"] == S.ICD10)
        assert _ext(pivot, S.EXT_TRANSCODED)
    assert report.unmapped == []
    assert report.to_dict()[S.CIM10_FR]["mapped"] == report.to_dict()[S.CIM10_FR]["seen"] > 0


def test_transcode_medication_gets_atc_dose_form_route_strength(fr_bundle):
    bundle, _ = terminology.transcode(fr_bundle, "FR")
    med = resources(bundle, "Medication")[0]
    codings = med["code"]["coding"]
    assert codings[0]["system"] == S.CIP13_FR
    assert any(c["system"] == S.ATC for c in codings)
    attrs = _ext(med["code"], S.EXT_MAP_ATTRIBUTE)[0]["extension"]
    names = {a["url"] for a in attrs}
    assert names == {"doseForm", "route", "strength"}
    assert med["form"]["coding"][0]["system"] == S.EDQM


def test_transcode_flags_unmapped_and_never_drops(fr_bundle):
    cond = resources(fr_bundle, "Condition")[0]
    cond["code"]["coding"].append({"system": S.CIM10_FR, "code": "Z99.9X", "display": "Code inconnu"})
    cond["note"] = [{"text": "x"}]
    local = {"system": "urn:oid:1.2.3.4.5", "code": "LOC1", "display": "local only"}
    resources(fr_bundle, "Procedure")[0]["code"] = {"coding": [dict(local)], "text": "local only"}
    n_before = sum(1 for _ in walk_codings(fr_bundle))
    bundle, report = terminology.transcode(fr_bundle, "FR")
    flagged = [c for c in walk_codings(bundle) if _ext(c, S.EXT_UNMAPPED)]
    assert {(c["system"], c["code"]) for c in flagged} == {(S.CIM10_FR, "Z99.9X"), ("urn:oid:1.2.3.4.5", "LOC1")}
    assert _ext(flagged[0], S.EXT_UNMAPPED)[0]["valueCode"] in {"no-map", "unknown-code"}
    assert (S.CIM10_FR, "Z99.9X") in report.unmapped
    assert sum(1 for _ in walk_codings(bundle)) > n_before  # pivots added, nothing removed
    assert cond["note"] == [{"text": "x"}]


@pytest.mark.parametrize("system, code", [
    (S.SNOMED, "999999999999"), (S.LOINC, "99999-9"), (S.ATC, "Z99ZZ99"), (S.REFERENCE_RANGE_MEANING, "not-in-catalogue"),
    ("http://hl7.org/fhir/observation-category", "laboratory-x"), ("urn:oid:2.16.840.1.113883.6.96", "999999999999"),
])
def test_a_standard_code_the_catalogue_lacks_is_not_flagged_unmapped(fr_bundle, system, code):
    """A SNOMED CT, LOINC, ATC or HL7 code is a European code already: "not translated" at B, not "no European code"."""
    coding = {"system": system, "code": code, "display": "as sent"}
    resources(fr_bundle, "Procedure")[0]["code"] = {"coding": [dict(coding)]}
    bundle, report = terminology.transcode(fr_bundle, "FR")
    sent = resources(bundle, "Procedure")[0]["code"]["coding"]
    assert sent == [coding] and (system, code) not in report.unmapped
    translated, translation_report = terminology.translate(bundle, "de")
    received = resources(translated, "Procedure")[0]["code"]["coding"][0]
    assert not _ext(received, S.EXT_UNMAPPED)
    assert (system, code) in translation_report.untranslated  # what the clinician sees flagged: not translated


@pytest.mark.parametrize("system", [S.ICD9CM_IT, "http://hl7.org/fhir/sid/icpc-2", "http://hl7.org/fhir/sid/cvx"])
def test_national_systems_named_by_fhir_are_not_standard(system):
    assert not S.is_standard_system(system)
    assert S.is_standard_system(S.ICD10) and S.is_standard_system(S.REFERENCE_RANGE_MEANING)


def test_unknown_coding_next_to_a_known_one_is_not_flagged(ips_bundle):
    bundle, report = terminology.transcode(ips_bundle, "FR")
    med = resources(bundle, "Medication")[0]
    assert not any(_ext(c, S.EXT_UNMAPPED) for c in med["code"]["coding"])
    assert report.unmapped == []


def test_transcode_is_idempotent(de_bundle):
    once, _ = terminology.transcode(de_bundle, "DE")
    snapshot = copy.deepcopy(once)
    twice, _ = terminology.transcode(once, "DE")
    assert twice == snapshot


def test_transcode_italian_bundle():
    bundle, report = terminology.transcode(terminology.samples.sample_bundle("IT", 90), "IT")
    data = report.to_dict()
    assert data[S.ICD9CM_IT]["seen"] == data[S.ICD9CM_IT]["mapped"] > 0
    assert data[S.AIC_IT]["seen"] == data[S.AIC_IT]["mapped"] > 0
    cond = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Condition")
    systems = [c["system"] for c in cond["code"]["coding"]]
    assert systems[0] == S.ICD9CM_IT and S.ICD10 in systems
    pivot = next(c for c in cond["code"]["coding"] if c["system"] == S.ICD10)
    assert _ext(pivot, S.EXT_TRANSCODED)[0]["valueCode"] in ("equivalent", "wider")
    med = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Medication")
    assert [c["system"] for c in med["code"]["coding"]] == [S.AIC_IT, S.ATC]
    assert med["form"]["coding"][0]["system"] == S.EDQM
    translated, _ = terminology.translate(bundle, "de")
    cond = next(e["resource"] for e in translated["entry"] if e["resource"]["resourceType"] == "Condition")
    assert translation(cond["code"]["coding"][0], "display")["content"]


def test_transcode_unknown_country(fr_bundle):
    with pytest.raises(terminology.UnknownCountryError):
        terminology.transcode(fr_bundle, "XX")


def test_translate_adds_translation_extensions(fr_bundle):
    bundle, _ = terminology.transcode(fr_bundle, "FR")
    bundle, report = terminology.translate(bundle, "de")
    for coding in walk_codings(bundle):
        tr = translation(coding, "display")
        assert tr is not None, coding
        assert coding["display"]  # original display kept (or filled from the code system)
    status = resources(bundle, "Condition")[0]["clinicalStatus"]["coding"][0]
    assert translation(status, "display") == {"lang": "de", "content": "Aktiv", "fallback": None}
    assert report.to_dict()[S.CIM10_FR]["seen"] > 0


def test_translate_fallback_is_flagged(fr_bundle):
    bundle, _ = terminology.translate(fr_bundle, "pl")
    cim = resources(bundle, "Condition")[0]["code"]["coding"][0]
    assert cim["system"] == S.CIM10_FR
    tr = translation(cim, "display")
    assert tr["lang"] == "en" and tr["fallback"] == "pl"
    assert tr["content"] == terminology.load().lookup(S.CIM10_FR, cim["code"]).designations["en"]


def test_translate_codeable_concept_text_from_known_code(fr_bundle):
    cond = resources(fr_bundle, "Condition")[0]
    proc = resources(fr_bundle, "Procedure")[0]
    proc["code"]["text"] = "free text written by the GP"
    bundle, _ = terminology.translate(fr_bundle, "fr")
    tr = translation(cond["code"], "text")
    assert tr is not None and tr["content"] == cond["code"]["coding"][0]["display"]
    assert "_text" not in proc["code"]  # free text is never (machine-)translated


def test_translate_section_titles_and_narratives(fr_bundle):
    bundle, _ = terminology.translate(fr_bundle, "es")
    composition = resources(bundle, "Composition")[0]
    for section in composition["section"]:
        code = section["code"]["coding"][0]["code"]
        tr = translation(section, "title")
        assert tr is not None and tr["content"], code
        assert tr["content"] == terminology.load().display(S.LOINC, code, "es")[0]
        lang = _ext(section["text"], S.EXT_NARRATIVE_LANGUAGE)
        assert lang and lang[0]["valueCode"] == "fr"
    problems = next(s for s in composition["section"] if s["code"]["coding"][0]["code"] == "11450-4")
    assert translation(problems, "title")["fallback"] is None
    cond = resources(bundle, "Condition")[0]
    assert "Hypertension" in cond["text"]["div"]  # narrative untouched


def test_translate_fixed_allergy_codes(fr_bundle):
    bundle, _ = terminology.translate(fr_bundle, "de")
    allergy = resources(bundle, "AllergyIntolerance")[0]
    assert translation(allergy, "criticality") is not None
    assert allergy["_category"][0] is not None
    assert translation(allergy["reaction"][0], "severity") is not None


def test_translate_twice_replaces_not_duplicates(fr_bundle):
    once, _ = terminology.translate(fr_bundle, "it")
    snapshot = copy.deepcopy(once)
    twice, _ = terminology.translate(once, "it")
    assert twice == snapshot
    both, _ = terminology.translate(twice, "nl")
    status = resources(both, "Condition")[0]["clinicalStatus"]["coding"][0]
    langs = [p["valueCode"] for e in status["_display"]["extension"] for p in e["extension"] if p["url"] == "lang"]
    assert langs == ["it", "nl"]


def test_translate_unknown_code_is_flagged_and_counted(fr_bundle):
    resources(fr_bundle, "Procedure")[0]["code"]["coding"][0]["code"] = "999999999999"
    bundle, report = terminology.translate(fr_bundle, "de")
    coding = resources(bundle, "Procedure")[0]["code"]["coding"][0]
    assert _ext(coding, S.EXT_UNKNOWN_CODE)
    assert "999999999999" in report.to_dict()[S.SNOMED]["untranslated"]


def test_translate_unsupported_language(fr_bundle):
    with pytest.raises(terminology.UnsupportedLanguageError) as info:
        terminology.translate(fr_bundle, "sv")
    assert "en, fr, de, es, it, pt, nl, pl" in str(info.value)


def test_coverage_json_shape_and_table(fr_bundle, de_bundle):
    data = terminology.coverage([fr_bundle, de_bundle], languages=["de", "fr"], source_country=None)
    assert fr_bundle == terminology.samples.sample_bundle("FR", 180)  # not modified
    for system, entry in data.items():
        assert set(entry) == {"seen", "mapped", "translated", "untranslated"}, system
        assert isinstance(entry["seen"], int) and isinstance(entry["mapped"], int)
        assert set(entry["translated"]) == {"de", "fr"}
        assert entry["untranslated"] == sorted(entry["untranslated"])
    assert data[S.CIM10_FR]["translated"]["fr"] == data[S.CIM10_FR]["seen"]
    assert data[S.ICD10GM_DE]["translated"]["de"] == data[S.ICD10GM_DE]["seen"]
    table = terminology.render_table(data)
    assert S.CIM10_FR in table and "untranslated" in table.splitlines()[0]


def test_coverage_mapped_for_national_systems(fr_bundle):
    resources(fr_bundle, "Condition")[0]["code"]["coding"][0]["code"] = "Z99.9X"
    data = terminology.coverage([fr_bundle], languages=["en"], source_country="FR")
    assert data[S.CIM10_FR]["mapped"] == data[S.CIM10_FR]["seen"] - 1


def test_180_entry_summary_is_transcoded_and_translated_whole(fr_bundle):
    """Every entry of a large summary comes through (its speed is measured by benchmarks/terminology_bench.py)."""
    entries = len(fr_bundle["entry"])
    bundle, _ = terminology.transcode(fr_bundle, "FR")
    translated, report = terminology.translate(bundle, "de")
    assert entries > 180 and len(translated["entry"]) == entries
    assert [e["resource"]["resourceType"] for e in translated["entry"]] == \
        [e["resource"]["resourceType"] for e in fr_bundle["entry"]]
