"""Synthetic population: determinism, validity, national codes and clinical plausibility."""

from __future__ import annotations

from datetime import date
from itertools import islice

import orjson
import pytest

from gateway.records import _population_data as data
from gateway.records.identifiers import (
    CODICE_FISCALE_SYSTEM,
    INS_NIR_SYSTEM,
    KVNR_SYSTEM,
    _cf_name_part,
    make_codice_fiscale,
    parse_nir,
    validate_codice_fiscale,
    validate_kvnr,
)
from gateway.records.ips_validation import validate_ips
from gateway.records.synthetic import (
    COUNTRIES,
    IT_FAMILY_CODES,
    REFERENCE_DATE,
    SIZES,
    document_bytes,
    generate_patient,
    iter_population,
)
from gateway.records.synthetic.identity import permute
from terminology import catalogue, systems

SYSTEM = {"FR": INS_NIR_SYSTEM, "DE": KVNR_SYSTEM, "IT": CODICE_FISCALE_SYSTEM}
BELFIORE = {code: name for code, name in data.IT_BIRTHPLACES}


def resources(doc, rtype=None):
    for entry in doc["entry"]:
        if rtype is None or entry["resource"]["resourceType"] == rtype:
            yield entry["resource"]


def sections(doc):
    return {s["code"]["coding"][0]["code"]: s for s in doc["entry"][0]["resource"]["section"]}


@pytest.fixture(scope="module")
def sample():
    """A few hundred patients across the three countries and every size."""
    out = []
    for country in COUNTRIES:
        for size in ("small", "typical", "large", None):
            count = 25 if size == "large" else 60
            out.extend((country, size, *generate_patient(country, i, 2024, size)) for i in range(count))
    return out


def test_countries():
    assert COUNTRIES == ("FR", "DE", "IT") == catalogue.COUNTRIES


def test_deterministic():
    for country in COUNTRIES:
        for size in (None, "small", "large"):
            a = generate_patient(country, 123, 7, size)
            b = generate_patient(country.lower(), 123, 7, size)
            assert a[0] == b[0]
            assert document_bytes(a[1]) == document_bytes(b[1])


def test_seed_and_index_change_the_person():
    base = generate_patient("FR", 5, 1)[0]
    assert generate_patient("FR", 6, 1)[0].identifier_value != base.identifier_value
    assert generate_patient("FR", 5, 2)[0].identifier_value != base.identifier_value


def test_same_person_whatever_the_size():
    small, large = generate_patient("DE", 9, 3, "small")[0], generate_patient("DE", 9, 3, "large")[0]
    assert (small.identifier_value, small.family, small.given, small.birthdate) == (
        large.identifier_value, large.family, large.given, large.birthdate)


def test_iter_population_matches_generate_patient():
    got = list(iter_population("FR", 3, 11, start=40))
    assert [t.identifier_value for t, _ in got] == [generate_patient("FR", i, 11)[0].identifier_value
                                                    for i in range(40, 43)]


@pytest.mark.parametrize("country", COUNTRIES)
def test_identifiers_unique(country):
    values = [t.identifier_value for t, _ in islice(iter_population(country, 3000, 99, size="small"), 3000)]
    assert len(set(values)) == len(values)


def test_permutation_is_a_bijection():
    space = 12 * 113 * 999
    sample = [permute(i, space, 5, "fr-nir") for i in range(0, space, 997)]
    assert len(set(sample)) == len(sample)
    small = 26 * 1000
    assert sorted(permute(i, small, 3, "x") for i in range(small)) == list(range(small))


def test_every_document_is_a_valid_ips(sample):
    for country, _size, traits, doc in sample:
        problems = validate_ips(doc, country_identifier_system=SYSTEM[country])
        assert problems == [], (traits, problems[:5])


def test_documents_round_trip_through_json(sample):
    for _c, _s, _t, doc in sample[:50]:
        assert orjson.loads(document_bytes(doc)) == doc


def test_sizes(sample):
    off = 0
    for _country, size, traits, doc in sample:
        n = len(doc["entry"])
        assert traits.entries == n
        if size is None:
            assert 9 <= n <= 190
        else:
            lo, hi = SIZES[size]
            assert n <= hi + 3, (size, n)
            # a newborn has too short a history to fill a large summary: allow a few short ones
            if n < lo - 2:
                off += 1
                assert n >= min(lo, 9), (size, n, traits.birthdate)
    assert off <= len(sample) // 50
    free = [len(doc["entry"]) for _c, size, _t, doc in sample if size is None]
    assert min(free) < 25 and max(free) > 80  # a real spread


def test_traits_match_the_patient(sample):
    for country, _size, traits, doc in sample:
        patient = next(resources(doc, "Patient"))
        official = patient["name"][0]
        assert official["use"] == "official" and official["family"] == traits.family
        assert " ".join(official["given"]) == traits.given
        assert patient["birthDate"] == traits.birthdate and patient["gender"] == traits.gender
        ident = patient["identifier"][0]
        assert (ident["system"], ident["value"]) == (traits.identifier_system, traits.identifier_value)
        assert doc["entry"][0]["resource"]["subject"]["reference"] == doc["entry"][1]["fullUrl"]
        if country == "FR":
            nir = parse_nir(traits.identifier_value)
            assert nir.sex == traits.gender
            assert nir.year == traits.birthdate[2:4] and nir.month == traits.birthdate[5:7]
            assert nir.birthplace == traits.birthplace
            insee = patient["extension"][0]["valueAddress"]["extension"][0]["valueCoding"]["code"]
            assert insee == traits.birthplace
            if traits.birthplace[:2] in ("2A", "2B"):
                assert traits.birthdate >= "1976"
        elif country == "DE":
            assert validate_kvnr(traits.identifier_value)
        else:
            cf = validate_codice_fiscale(traits.identifier_value)
            assert cf == make_codice_fiscale(traits.family, traits.given, traits.gender, traits.birthdate,
                                             traits.birthplace)
            assert traits.birthplace_name == BELFIORE[traits.birthplace]
            assert cf[11:15] == traits.birthplace and traits.usual_family is None
            place = patient["extension"][0]["valueAddress"]
            assert place["extension"][0]["valueCoding"]["code"] == traits.birthplace
            assert place["city"] == traits.birthplace_name
            assert place.get("country") == (None if traits.birthplace.startswith("Z") else "IT")


def test_italian_surnames_have_distinct_codice_fiscale_codes():
    codes = [_cf_name_part(name, given=False) for name in IT_FAMILY_CODES]
    assert len(set(codes)) == len(codes) >= 80
    assert set(IT_FAMILY_CODES) <= set(data.IT_FAMILY)
    assert len({code for code, _ in data.IT_BIRTHPLACES}) == len(data.IT_BIRTHPLACES)


def test_codice_fiscale_encodes_the_traits():
    """Women: day + 40; compound and multiple given names; surnames with particles and apostrophes."""
    seen_female = seen_abroad = seen_two_names = False
    for i in range(400):
        t, _ = generate_patient("IT", i, 5, "small")
        cf = t.identifier_value
        day = int(cf[9:11])
        assert day == int(t.birthdate[8:10]) + (40 if t.gender == "female" else 0)
        assert cf[8] == "ABCDEHLMPRST"[int(t.birthdate[5:7]) - 1] and cf[6:8] == t.birthdate[2:4]
        seen_female |= t.gender == "female"
        seen_abroad |= t.birthplace.startswith("Z")
        seen_two_names |= len(t.given_names) > 1
    assert seen_female and seen_abroad and seen_two_names
    assert make_codice_fiscale("Rossi", "Mario", "male", "1985-12-10", "A562") == "RSSMRA85T10A562S"


def test_corsica_before_1976_uses_department_20():
    found = set()
    for i in range(6000):
        t, _ = generate_patient("FR", i, 1, "small")
        if t.birthplace.startswith(("20", "2A", "2B")):
            found.add(t.birthplace[:2])
            assert (t.birthplace[:2] == "20") == (t.birthdate < "1976")
        if len(found) == 3:
            break
    assert found >= {"20"} and found & {"2A", "2B"}


def test_required_sections_and_absent_unknown(sample):
    absent_codes = set()
    for _c, _s, _t, doc in sample:
        secs = sections(doc)
        for code in ("48765-2", "10160-0", "11450-4"):
            assert secs[code]["entry"], code
        for res in resources(doc):
            for key in ("code", "medicationCodeableConcept"):
                for coding in res.get(key, {}).get("coding", []) if isinstance(res.get(key), dict) else []:
                    if coding["system"] == systems.ABSENT_UNKNOWN_UV_IPS:
                        absent_codes.add(coding["code"])
    assert {"no-known-allergies", "no-known-medications", "no-known-problems"} <= absent_codes


def test_recommended_sections_vary(sample):
    seen = set()
    for _c, _s, _t, doc in sample:
        seen.update(sections(doc))
    # immunizations, procedures, results, vital signs, devices, past illness, plan of care,
    # pregnancy, social history
    assert {"11369-6", "47519-4", "30954-2", "8716-3", "46264-8", "11348-0", "18776-5", "10162-6",
            "29762-2"} <= seen


def test_national_codes_come_from_the_terminology(sample):
    national = {
        "FR": {"problem": systems.CIM10_FR, "medication": systems.CIP13_FR},
        "DE": {"problem": systems.ICD10GM_DE, "medication": systems.PZN_DE},
        "IT": {"problem": systems.ICD9CM_IT, "medication": systems.AIC_IT},
    }
    known = {
        (country, cat): {c.code for c in catalogue.entries(country, cat)}
        for country in COUNTRIES for cat in ("problem", "past_illness", "medication")
    }
    for country, _s, _t, doc in sample:
        for res in resources(doc, "Condition"):
            coding = res["code"]["coding"][0]
            if coding["system"] != systems.ABSENT_UNKNOWN_UV_IPS:
                assert coding["system"] == national[country]["problem"]
                assert coding["code"] in known[(country, "problem")] | known[(country, "past_illness")]
        for res in resources(doc, "Medication"):
            coding = res["code"]["coding"][0]
            assert coding["system"] == national[country]["medication"]
            assert coding["code"] in known[(country, "medication")]
        for res in resources(doc, "Observation"):
            assert res["code"]["coding"][0]["system"] == systems.LOINC


def test_national_language(sample):
    for country, _s, traits, doc in sample:
        comp = doc["entry"][0]["resource"]
        titles = {s["title"] for s in comp["section"]}
        if country == "FR":
            assert doc["language"] == "fr-FR" and traits.language == "fr"
            assert "Allergies et intolérances" in titles and "Traitements en cours" in titles
        elif country == "DE":
            assert doc["language"] == "de-DE" and traits.language == "de"
            assert "Allergien und Unverträglichkeiten" in titles and "Aktuelle Medikation" in titles
        else:
            assert doc["language"] == "it-IT" and traits.language == "it"
            assert comp["title"] == "Profilo sanitario sintetico"
            assert "Allergie e intolleranze" in titles and "Terapie" in titles


def test_italian_narratives_and_texts(sample):
    words = {"Problema", "Farmaco", "Posologia", "Agente", "Esame", "Valore", "Vaccino", "Data"}
    seen, dosages, bp = set(), set(), False
    for country, _s, _t, doc in sample:
        if country != "IT":
            continue
        comp = doc["entry"][0]["resource"]
        for section in comp["section"]:
            div = section["text"]["div"]
            seen |= {w for w in words if f"<th>{w}</th>" in div}
            assert "Comprimé" not in div and "Tablette" not in div
        for res in resources(doc, "MedicationStatement"):
            dosages |= {d["text"] for d in res.get("dosage", ())}
        for res in resources(doc, "Observation"):
            if res["code"]["coding"][0]["code"] == "85354-9":
                assert res["code"]["text"] == "Pressione arteriosa"
                bp = True
        for res in resources(doc, "Practitioner"):
            assert res["name"][0]["prefix"][0] in ("Dott.", "Dott.ssa")
    assert seen == words and bp
    assert "1 compressa 2 volte al giorno ai pasti" in dosages or any("al giorno" in d for d in dosages)


def _age_at(birthdate: str, when: date) -> int:
    born = date.fromisoformat(birthdate)
    return when.year - born.year - ((when.month, when.day) < (born.month, born.day))


def test_clinical_plausibility(sample):
    female_only = ("N7", "N8", "N9", "O", "C5")
    male_only = ("N40", "C61", "C62")
    for _c, _s, traits, doc in sample:
        age = _age_at(traits.birthdate, REFERENCE_DATE)
        assert 0 <= age <= 100
        for res in resources(doc, "Observation"):
            code = res["code"]["coding"][0]["code"]
            if code in ("82810-3", "11778-8"):  # pregnancy status / EDD
                assert traits.gender == "female" and 15 <= age <= 49, (traits, code)
            if code == "29463-7" and age >= 18:
                assert 25 <= res["valueQuantity"]["value"] <= 200
        for res in resources(doc, "Condition"):
            code = res["code"]["coding"][0]["code"]
            if traits.gender == "male":
                assert not code.startswith(female_only), (traits, code)
            else:
                assert not code.startswith(male_only), (traits, code)
            if age < 50:
                assert not code.startswith(("G30", "F00", "F03")), (traits, code)
        # nothing happens before birth or after the summary date
        for res in resources(doc):
            for key in ("onsetDateTime", "performedDateTime", "occurrenceDateTime", "effectiveDateTime",
                        "abatementDateTime"):
                if key in res and res["resourceType"] != "MedicationStatement":
                    value = res[key][:10]
                    assert traits.birthdate[: len(value)] <= value <= REFERENCE_DATE.isoformat(), (key, value)


def test_partial_dates_are_used(sample):
    lengths = set()
    for _c, _s, _t, doc in sample:
        for res in resources(doc, "Condition"):
            if "onsetDateTime" in res:
                lengths.add(len(res["onsetDateTime"]))
    assert lengths == {4, 7, 10}


def test_unknown_country_and_size():
    with pytest.raises(ValueError, match="country"):
        generate_patient("XX", 1, 1)
    with pytest.raises(ValueError, match="size"):
        generate_patient("FR", 1, 1, size="huge")
