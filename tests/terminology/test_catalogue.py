from __future__ import annotations

import pytest

import terminology
from terminology import catalogue
from terminology import systems as S
from terminology.tools.check_digits import aic_ok, ean13_ok, pzn_ok

NATIONAL = {"FR": (S.CIM10_FR, S.CIP13_FR, "fr"), "DE": (S.ICD10GM_DE, S.PZN_DE, "de"),
            "IT": (S.ICD9CM_IT, S.AIC_IT, "it")}
CHECK = {"FR": ean13_ok, "DE": pzn_ok, "IT": aic_ok}


def test_italy_is_a_catalogue_country():
    assert catalogue.COUNTRIES == ("FR", "DE", "IT")


@pytest.mark.parametrize("country", catalogue.COUNTRIES)
@pytest.mark.parametrize("category", catalogue.CATEGORIES)
def test_every_category_has_entries(country, category):
    entries = catalogue.entries(country, category)
    assert entries, (country, category)
    assert len({(c.system, c.code) for c in entries}) == len(entries)
    for c in entries:
        assert c.display, (c.system, c.code)


@pytest.mark.parametrize("country", catalogue.COUNTRIES)
def test_national_problems_are_mappable_and_translatable(term, country):
    problem_system, _med, lang = NATIONAL[country]
    entries = catalogue.entries(country, "problem") + catalogue.entries(country, "past_illness")
    assert len({c.code for c in entries}) >= 40
    for c in entries:
        assert c.system == problem_system
        icd = term.map_targets(c.system, c.code, S.ICD10)
        assert icd and term.knows(S.ICD10, icd[0].code), c.code
        assert c.properties["icd10"] == icd[0].code
        for target_lang in terminology.SUPPORTED_LANGUAGES:
            text, _used, _fb = term.display(c.system, c.code, target_lang)
            assert text, (c.code, target_lang)
        assert term.display(c.system, c.code, lang)[2] is False  # national display in its language
        assert term.display(c.system, c.code, "en")[1] == "en"  # English available via the pivot


@pytest.mark.parametrize("country", catalogue.COUNTRIES)
def test_national_medicines_are_mappable_and_translatable(term, country):
    _p, med_system, lang = NATIONAL[country]
    entries = catalogue.entries(country, "medication")
    assert len(entries) >= 40
    check = CHECK[country]
    for c in entries:
        assert c.system == med_system
        assert check(c.code), c.code
        if country == "FR":
            assert c.code.startswith("34009")
        if country == "IT":  # invented AIC product numbers, outside the range AIFA has issued
            assert c.code.startswith("098")
        targets = term.map_targets(c.system, c.code)
        main = [t for t in targets if not t.attribute]
        assert main and main[0].system == S.ATC and term.knows(S.ATC, main[0].code)
        assert {t.attribute for t in targets if t.attribute} == {"doseForm", "route", "strength"}
        for key in ("atc", "dose_form", "route", "strength", "dosage", "dosage_en"):
            assert c.properties[key], (c.code, key)
        assert term.knows(S.EDQM, c.properties["dose_form"]) and term.knows(S.EDQM, c.properties["route"])
        assert term.display(c.system, c.code, "en")[1] == "en"
        assert term.display(c.system, c.code, lang)[0] == c.display


@pytest.mark.parametrize("country", catalogue.COUNTRIES)
@pytest.mark.parametrize("category", [c for c in catalogue.CATEGORIES
                                      if c not in ("problem", "past_illness", "medication")])
def test_shared_categories_are_known_and_displayable(term, country, category):
    for c in catalogue.entries(country, category):
        assert term.knows(c.system, c.code), (category, c.system, c.code)
        for lang in terminology.SUPPORTED_LANGUAGES:
            assert term.display(c.system, c.code, lang)[0]
        if category == "vaccine":
            assert term.knows(S.ATC, c.properties["atc"])
            assert term.knows(S.SNOMED, c.properties["target_disease"])
        if category in ("lab_result", "vital_sign"):
            p = c.properties
            assert p["unit"] and p["min"] is not None and p["max"] is not None and p["min"] < p["max"]
            assert term.knows(S.LOINC, c.code)


def test_lab_units_are_ucum_codes_the_catalogue_knows():
    units = {c.properties["unit"] for c in catalogue.entries("FR", "lab_result")}
    assert "mmol/L" in units and "g/dL" in units


def test_shared_entries_use_the_country_language_where_curated(term):
    fr = catalogue.entry("FR", "blood_group", "278147001")
    de = catalogue.entry("DE", "blood_group", "278147001")
    it = catalogue.entry("IT", "blood_group", "278147001")
    assert fr.display == term.display(S.SNOMED, "278147001", "fr")[0]
    assert de.display == term.display(S.SNOMED, "278147001", "de")[0]
    assert it.display == term.display(S.SNOMED, "278147001", "it")[0]
    assert len({fr.display, de.display, it.display}) == 3


def test_italian_problems_are_icd9cm_mapped_to_icd10(term):
    """ICD-9-CM codes are not ICD-10 codes: each maps 'equivalent' or 'wider', never 'equal'."""
    entries = catalogue.entries("IT", "problem") + catalogue.entries("IT", "past_illness")
    assert len(entries) >= 50
    for c in entries:
        assert c.code[0].isdigit() or c.code[0] == "V", c.code  # ICD-9-CM diseases 001-999, V codes
        (target,) = term.map_targets(S.ICD9CM_IT, c.code, S.ICD10)
        assert target.equivalence in ("equivalent", "wider"), (c.code, target)
    hypertension = catalogue.entry("IT", "problem", "401.9")
    assert hypertension.display == "Ipertensione essenziale non specificata"
    assert hypertension.properties["icd10"] == "I10" and hypertension.properties["snomed"] == "38341003"
    assert term.map_targets(S.ICD9CM_IT, "427.31", S.ICD10)[0].code == "I48"


def test_italian_medicines_carry_italian_names_and_dosages(term):
    med = next(c for c in catalogue.entries("IT", "medication") if c.properties["atc"] == "A10BA02")
    assert med.display == "METFORMINA EUROGEN 1000 mg compresse rivestite con film"
    assert med.properties["dosage"] == "1 compressa 2 volte al giorno ai pasti"
    assert med.properties["dose_form_display"] == term.display(S.EDQM, "10221000", "it")[0]
    assert med.designations["en"] == "metformin 1000 mg, film-coated tablet"


def test_entries_are_copies():
    a = catalogue.entries("FR", "problem")
    a[0].properties["icd10"] = "changed"
    assert catalogue.entries("FR", "problem")[0].properties["icd10"] != "changed"
