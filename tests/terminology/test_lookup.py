from __future__ import annotations

import pytest

import terminology
from terminology import systems as S


def test_load_is_complete(tmp_path):
    fresh = terminology.Terminology()  # its load time is measured by benchmarks/terminology_bench.py
    mvc = [u for u in fresh.valueset_urls if u.startswith("http://terminology.ehdsi.eu/ValueSet/")]
    assert len(mvc) == 59
    n = sum(len(inc["concept"]) for u in mvc for inc in fresh.valueset(u)["compose"]["include"])
    assert n == 39648
    for system in (S.CIM10_FR, S.CIP13_FR, S.ICD10GM_DE, S.PZN_DE, S.SNOMED, S.LOINC, S.ATC, S.EDQM, S.UCUM):
        assert fresh.knows_system(system), system


def test_load_is_cached(term):
    assert terminology.load() is term


def test_lookup_international_code_in_several_languages(term):
    c = term.lookup(S.LOINC, "11450-4")
    assert c is not None and c.display == "Problem list - Reported"
    assert {"fr", "de", "es", "it", "pt", "nl", "pl"} <= set(c.designations)
    fr = term.lookup(S.LOINC, "11450-4", "fr")
    assert fr.display == c.designations["fr"] != c.display


def test_lookup_national_codes_with_national_displays(term):
    cim = term.lookup(S.CIM10_FR, "I10")
    assert cim.display == "Hypertension essentielle (primitive)"
    assert cim.designations["en"] == "Essential (primary) hypertension"  # from the equal ICD-10 map
    gm = term.lookup(S.ICD10GM_DE, "E11.90")
    assert gm.display.startswith("Diabetes mellitus Typ 2")
    # the pivot ICD-10 concept gets the French display of the *equal* CIM-10 code
    assert term.lookup(S.ICD10, "I10").designations["fr"] == "Hypertension essentielle (primitive)"


def test_lookup_medicinal_product_has_properties_and_english_text(term):
    entry = terminology.catalogue.entries("FR", "medication")[0]
    c = term.lookup(S.CIP13_FR, entry.code)
    assert c.properties["atc"]["system"] == S.ATC
    assert c.properties["doseForm"]["system"] == S.EDQM
    assert c.properties["strength"]
    assert c.designations["en"].startswith(c.properties["atc"]["display"])


def test_display_fallback_chain(term):
    # requested language present
    text, used, fell_back = term.display(S.CIM10_FR, "I10", "fr")
    assert (used, fell_back) == ("fr", False) and text.startswith("Hypertension")
    # requested language missing -> English
    text, used, fell_back = term.display(S.CIM10_FR, "I10", "pl")
    assert (text, used, fell_back) == ("Essential (primary) hypertension", "en", True)
    # English requested and only the original display
    text, used, fell_back = term.display(S.ICD10, "A00", "en")
    assert used == "en" and fell_back is False and text
    # unknown concept
    assert term.display(S.SNOMED, "0000000", "de") == (None, None, True)


def test_display_falls_back_to_original_national_display(tmp_path):
    (tmp_path / "cs.json").write_text(
        '{"resourceType":"CodeSystem","url":"urn:x:nat","language":"fr","content":"complete",'
        '"concept":[{"code":"A","display":"Affection A"}]}', encoding="utf-8")
    t = terminology.Terminology(tmp_path)
    assert t.display("urn:x:nat", "A", "de") == ("Affection A", "fr", True)
    assert t.display("urn:x:nat", "A", "fr") == ("Affection A", "fr", False)


def test_supplement_designations_are_applied(tmp_path):
    (tmp_path / "cs.json").write_text(
        '{"resourceType":"CodeSystem","url":"urn:x:cs","content":"fragment","concept":[{"code":"1","display":"One"}]}',
        encoding="utf-8")
    (tmp_path / "sup.json").write_text(
        '{"resourceType":"CodeSystem","url":"urn:x:sup","content":"supplement","supplements":"urn:x:cs",'
        '"concept":[{"code":"1","designation":[{"language":"de","value":"Eins"},{"language":"fr-BE","value":"Un"}]}]}',
        encoding="utf-8")
    t = terminology.Terminology(tmp_path)
    assert t.lookup("urn:x:cs", "1", "de").display == "Eins"
    assert t.lookup("urn:x:cs", "1", "fr").display == "Un"
    assert t.display("urn:x:cs", "1", "it") == ("One", "en", True)


def test_unknown_system_and_code(term):
    assert term.lookup("urn:x:nope", "1") is None
    assert term.lookup(S.SNOMED, "not-a-code") is None
    assert term.map_targets("urn:x:nope", "1") == []
    params = term.translate_code("urn:x:nope", "1")
    assert params["parameter"][0] == {"name": "result", "valueBoolean": False}
    assert "unknown code system" in params["parameter"][1]["valueString"]


@pytest.mark.parametrize("language", ["xx", "ja", "", "english"])
def test_unsupported_language_lists_supported_ones(term, language):
    with pytest.raises(terminology.UnsupportedLanguageError) as info:
        term.display(S.LOINC, "11450-4", language)
    message = str(info.value)
    for lang in terminology.SUPPORTED_LANGUAGES:
        assert lang in message
    with pytest.raises(terminology.UnsupportedLanguageError):
        term.lookup(S.LOINC, "11450-4", language or "zz")


def test_language_tags_with_region_are_accepted(term):
    assert term.display(S.LOINC, "11450-4", "fr-BE")[1] == "fr"
    assert terminology.check_language("DE") == "de"


def test_translate_code_parameters(term):
    med = terminology.catalogue.entries("DE", "medication")[0]
    params = term.translate_code(S.PZN_DE, med.code)
    by_name = {}
    for p in params["parameter"]:
        by_name.setdefault(p["name"], []).append(p)
    assert by_name["result"][0]["valueBoolean"] is True
    match = by_name["match"][0]["part"]
    concept = next(p["valueCoding"] for p in match if p["name"] == "concept")
    assert concept == {"system": S.ATC, "code": med.properties["atc"], "display": med.properties["atc_display"]}
    elements = {pp["valueString"] for p in match if p["name"] == "product" for pp in p["part"]
                if pp["name"] == "element"}
    assert elements == {"doseForm", "route", "strength"}
    # restricted to a target system without a mapping
    assert term.translate_code(S.CIM10_FR, "I10", S.ATC)["parameter"][0]["valueBoolean"] is False
    assert term.translate_code(S.CIM10_FR, "I10", S.SNOMED)["parameter"][0]["valueBoolean"] is True


def test_expand_with_language_filter_and_paging(term):
    url = "http://terminology.ehdsi.eu/ValueSet/eHDSIBloodGroup"
    full = term.expand(url)
    assert full["expansion"]["total"] == 12 and len(full["expansion"]["contains"]) == 12
    de = term.expand(url, display_language="de")
    assert all(c["display"] for c in de["expansion"]["contains"])
    assert any("Blutgruppe" in c["display"] for c in de["expansion"]["contains"])
    page = term.expand(url, count=5, offset=10)
    assert page["expansion"]["total"] == 12 and len(page["expansion"]["contains"]) == 2
    filtered = term.expand(url, filter="AB Rh")
    assert {c["code"] for c in filtered["expansion"]["contains"]} == {"278154007", "278151004"}
    with pytest.raises(terminology.UnknownValueSetError):
        term.expand("http://example.org/ValueSet/none")
    with pytest.raises(terminology.UnsupportedLanguageError):
        term.expand(url, display_language="tlh")


def test_valueset_coverage_and_display_labels(term):
    cov = term.valueset_coverage(["en", "fr"])
    section = cov["http://terminology.ehdsi.eu/ValueSet/eHDSISection"]
    assert section["concepts"] == 18 and section["translated"]["en"] == 18
    assert set(section["translated"]) == {"en", "fr"}
    label = next(iter(term._display[terminology.systems.EHDSI_DISPLAY_LABEL]))
    assert term.display_label(label, "en")
