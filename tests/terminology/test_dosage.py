"""Structured FHIR Dosage as a sentence in the reader's language (terminology.dosage).

Expected texts are built from the phrase tables, the terminology's designations and what the pinned
Babel itself renders (CLDR plural forms, weekday names, times), never from literal CLDR strings.
"""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from babel import Locale
from babel.dates import format_time
from babel.units import format_unit

import terminology
from gateway.records.dosage_patterns import FREE_TEXT_ONLY, STRUCTURED
from gateway.records.synthetic import generate_patient
from terminology import catalogue
from terminology import dosage_phrases as P
from terminology import systems as S
from terminology.dosage import render_dosage
from terminology.model import SUPPORTED_LANGUAGES

from .conftest import resources

TABLET = {"value": 1, "unit": "tablet", "system": S.EDQM, "code": "15054000"}
ORAL = {"coding": [{"system": S.EDQM, "code": "20053000"}]}
TWICE_DAILY = {"text": "1 comprimé matin et soir", "route": ORAL, "doseAndRate": [{"doseQuantity": TABLET}],
               "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d", "when": ["MORN", "EVE"]}}}


def designation(system: str, code: str, lang: str) -> str:
    text, used, fell_back = terminology.load().display(system, code, lang)
    assert text and used == lang and not fell_back
    return text


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_a_whole_dosage_in_each_language(lang):
    tablet = designation(S.EDQM, "15054000", lang)
    expected = [f"1 × {tablet}", f"{P.TIMES[lang][1]} {P.PER[lang]['d']}", P.WHEN["MORN"][lang],
                P.WHEN["EVE"][lang], designation(S.EDQM, "20053000", lang)]
    assert render_dosage(TWICE_DAILY, lang) == ", ".join(expected)


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_periods_durations_days_and_times_use_cldr(lang):
    dosage = {"timing": {"repeat": {"frequency": 1, "period": 8, "periodUnit": "h", "dayOfWeek": ["mon", "thu"],
                                    "timeOfDay": ["08:00:00"],
                                    "boundsDuration": {"value": 7, "system": S.UCUM, "code": "d"}}},
              "asNeededBoolean": True}
    every = (P.EVERY_FR["h"] if lang == "fr" else P.EVERY[lang]).format(d=format_unit(8, "duration-hour", locale=lang))
    days = Locale.parse(lang).days["format"]["wide"]
    at = P.AT_TIME[lang].format(t=format_time(dt.time(8, 0), "short", locale=lang))
    expected = [every, f"{days[0]}, {days[3]}", at, P.FOR[lang].format(d=format_unit(7, "duration-day", locale=lang)),
                P.AS_NEEDED[lang]]
    assert render_dosage(dosage, lang) == ", ".join(expected)


def test_ranges_maximum_per_period_timing_codes_and_plain_units():
    de = "de"
    tablet = designation(S.EDQM, "15054000", de)
    ranged = {"doseAndRate": [{"doseRange": {"low": {**TABLET}, "high": {**TABLET, "value": 2}}}],
              "timing": {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation",
                                              "code": "TID"}]}},
              "maxDosePerPeriod": {"numerator": {**TABLET, "value": 6},
                                   "denominator": {"value": 1, "system": S.UCUM, "code": "d"}}}
    assert render_dosage(ranged, de) == ", ".join([
        P.RANGE[de].format(a="1", b="2") + f" × {tablet}", f"{P.TIMES[de][2].format(n=3)} {P.PER[de]['d']}",
        P.MAX_PER[de].format(q=f"6 × {tablet}", per=P.PER[de]["d"])])
    annotated = {"doseAndRate": [{"doseQuantity": {"value": 1, "unit": "{tablet}", "system": S.UCUM, "code": "{tablet}"}}]}
    assert render_dosage(annotated, de) == f"1 × {tablet}"  # as CI-SIS CDA documents write it
    milligrams = {"doseAndRate": [{"doseQuantity": {"value": 500, "unit": "mg", "system": S.UCUM, "code": "mg"}}]}
    assert render_dosage(milligrams, de) == "500 mg"


@pytest.mark.parametrize("dosage", [
    {"text": "1 comprimé matin et soir"},  # free text only: nothing to render
    {"route": ORAL},  # a route alone (e.g. a tapering whose doses the CDA import could not map) is no dosage
    {**TWICE_DAILY, "timing": {"event": ["2026-01-01"]}},  # an element the sentence cannot say
    {**TWICE_DAILY, "maxDosePerAdministration": {"value": 1}},
    {**TWICE_DAILY, "route": {"coding": [{"system": S.EDQM, "code": "99999999"}]}},  # a route it cannot name
    {**TWICE_DAILY, "timing": {"repeat": {"frequency": 2, "periodUnit": "fortnight"}}},
    {**TWICE_DAILY, "timing": {"repeat": {"when": ["SOMETIME"]}}},
    {**TWICE_DAILY, "doseAndRate": [{"doseQuantity": {"value": -1, "system": S.UCUM, "code": "mg"}}]},
    {**TWICE_DAILY, "doseAndRate": "not a list"},
    {**TWICE_DAILY, "timing": {"repeat": {"boundsPeriod": {"start": "2026"}}}},  # partial dates: not in a sentence
])
def test_what_cannot_be_said_completely_gives_nothing(dosage):
    assert render_dosage(dosage, "de") is None


def test_the_phrase_tables_have_every_language():
    tables = [P.TIMES, P.TIMES_RANGE, P.PER, P.AT_TIME, P.FOR, P.FOR_AT_MOST, P.FROM_TO, P.FROM, P.UNTIL, P.OVER,
              P.COUNT, P.AS_NEEDED, P.MAX_PER, P.PER_DURATION, P.RATE, P.RANGE, *P.WHEN.values()]
    for table in tables:
        assert set(table) == set(SUPPORTED_LANGUAGES)
    assert set(P.EVERY) | {"fr"} == set(SUPPORTED_LANGUAGES) and set(P.EVERY_FR) == set(P.CLDR_UNIT)
    assert all(set(units) == set(P.CLDR_UNIT) for units in P.PER.values())


def test_translate_adds_the_sentence_to_dosage_text_and_keeps_the_original(fr_bundle):
    statement = resources(fr_bundle, "MedicationStatement")[0]
    statement["dosage"] = [copy.deepcopy(TWICE_DAILY), {"text": "selon besoin"}]
    bundle, _ = terminology.translate(fr_bundle, "de")
    structured, free = resources(bundle, "MedicationStatement")[0]["dosage"]
    assert structured["text"] == "1 comprimé matin et soir"
    (translation,) = [e for e in structured["_text"]["extension"] if e["url"] == S.EXT_TRANSLATION]
    parts = {p["url"]: p for p in translation["extension"]}
    assert parts["lang"]["valueCode"] == "de" and parts["content"]["valueString"] == render_dosage(TWICE_DAILY, "de")
    assert S.EXT_TRANSLATION_FALLBACK not in parts
    assert free == {"text": "selon besoin"}  # free text stays as sent, untranslated


def test_every_dosage_of_the_catalogue_is_structured_or_deliberately_free_text():
    used = {e.properties["dosage_en"] for c in catalogue.COUNTRIES for e in catalogue.entries(c, "medication")}
    assert used <= set(STRUCTURED) | FREE_TEXT_ONLY, used - set(STRUCTURED) - FREE_TEXT_ONLY
    for text, dosage in STRUCTURED.items():
        for lang in SUPPORTED_LANGUAGES:
            assert render_dosage(dosage, lang), (text, lang)


def test_synthetic_summaries_carry_structured_dosage_beside_the_national_text():
    documents = [generate_patient(country, index, 7, "large")[1] for country in ("FR", "DE", "IT") for index in range(4)]
    dosages = [d for doc in documents for r in resources(doc, "MedicationStatement") for d in r.get("dosage", ())]
    assert dosages and all(d.get("text") for d in dosages)
    structured = [d for d in dosages if "timing" in d or "doseAndRate" in d or "asNeededBoolean" in d]
    assert len(structured) >= len(dosages) // 2
    assert all(render_dosage(d, "de") for d in structured)
