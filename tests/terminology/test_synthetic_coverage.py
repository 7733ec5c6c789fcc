"""Every code the synthetic population and the test fixtures use is known and translated.

Issue 11 asks the terminology to "cover every code the synthetic population uses and the common
concepts of real IPS documents", with designations in the 8 supported languages. This test
enumerates every ``(system, code)`` the generator (``gateway/records/synthetic/``) can emit for
each country — the catalogue entries of :mod:`terminology.catalogue`, the codes their properties
point to (pivot ICD-10 / SNOMED CT targets, ATC, EDQM dose forms and routes, vaccine target
diseases, answer codes, UCUM units) and the fixed codes the generator writes itself (statuses,
categories, LOINC section codes, …) — plus every coding of the JSON test fixtures, and checks:

- an international (pivot) code is known and has a designation in every supported language;
- a national code (CIM-10, CIP13, ICD-10-GM, PZN, ICD-9-CM, AIC) has its display in the national
  language and an English designation, and each of its pivot targets has all 8 languages.

All gaps are reported in one failure message. The library itself never imports ``gateway``; only
this test reads the generator, to know what it emits.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import terminology
from gateway.records import synthetic  # the test reads the generator; the library never imports gateway
from terminology import catalogue
from terminology import systems as S
from terminology.bundles.translation import _FIXED_CODES
from terminology.samples import sample_bundle

TESTS = Path(__file__).resolve().parent.parent
FIXTURE_FILES = sorted([*(TESTS / "fixtures").glob("*.json"), *(TESTS / "terminology" / "fixtures").glob("*.json")])
LANGUAGES = terminology.SUPPORTED_LANGUAGES

#: codings that are identity data, not clinical terminology (birthplace codes written by the generator)
NOT_TERMINOLOGY = frozenset({synthetic.FR_INSEE_COMMUNE_SYSTEM, synthetic.IT_BELFIORE_SYSTEM})
#: national code systems of countries without a catalogue here: the HL7 IPS example's Dutch
#: medicinal-product codes (G-Standaard HPK and PRK). The same Medication also carries SNOMED CT and
#: ATC codings, which are checked.
FOREIGN_NATIONAL = frozenset({"urn:oid:2.16.840.1.113883.2.4.4.1", "urn:oid:2.16.840.1.113883.2.4.4.7"})
#: codes a fixture uses on purpose because the terminology does not know them: CIM-10 "R53.8" of
#: tests/fixtures/ips-fr-dupont.json is not an ATIH code (R53 has no ".8" subdivision) and is the
#: unmapped national code of tests/test_terminology_exchange.py::test_unmapped_national_code_is_kept_and_flagged
DELIBERATELY_UNKNOWN = frozenset({(S.CIM10_FR, "R53.8")})

#: codes the generator writes as literals (in addition to the module constants read below)
GENERATOR_LITERALS: tuple[tuple[str, str], ...] = (
    (S.CONDITION_CLINICAL, "active"),
    (S.CONDITION_CLINICAL, "resolved"),
    (S.CONDITION_VER_STATUS, "confirmed"),
    (S.ALLERGY_CLINICAL, "active"),
    (S.ALLERGY_VERIFICATION, "confirmed"),
    (S.ALLERGY_CRITICALITY, "low"),
    (S.ALLERGY_CRITICALITY, "high"),
    (S.LOINC, "60591-5"),  # Composition.type
    (S.LOINC, "75326-9"),  # Condition.category
    (S.LOINC, "882-1"),  # ABO and Rh group
    (S.LOINC, "85354-9"),  # blood pressure panel
    (S.OBSERVATION_CATEGORY, "laboratory"),
    (S.OBSERVATION_CATEGORY, "vital-signs"),
    (S.OBSERVATION_CATEGORY, "social-history"),
)

Origins = dict[tuple[str, str], set[str]]


@pytest.fixture(scope="module")
def shipped() -> terminology.Terminology:
    """The shipped data only (no ``TERMINOLOGY_EXTRA_DIRS`` supplement may hide a gap)."""
    return terminology.load(extra_dirs=())


def _add(found: Origins, system: str | None, code: Any, origin: str) -> None:
    if system and isinstance(code, str) and code and system not in NOT_TERMINOLOGY:
        found[(system, code)].add(origin)


def _walk(node: Any, origin: str, found: Origins) -> None:
    """Every Coding and Quantity code, and the plain codes the translation translates
    (AllergyIntolerance criticality/type/category, reaction severity)."""
    if isinstance(node, dict):
        if isinstance(node.get("system"), str) and isinstance(node.get("code"), str):
            _add(found, node["system"], node["code"], origin)
        rtype = node.get("resourceType")
        for key, system in _FIXED_CODES.get(rtype, {}).items():
            values = node.get(key)
            for value in values if isinstance(values, list) else [values]:
                _add(found, system, value, origin)
        if rtype == "AllergyIntolerance":
            for reaction in node.get("reaction") or ():
                _add(found, S.REACTION_SEVERITY, reaction.get("severity"), origin)
        for key, value in node.items():
            if key != "div":
                _walk(value, origin, found)
    elif isinstance(node, list):
        for item in node:
            _walk(item, origin, found)


def _catalogue_codes(term: terminology.Terminology, found: Origins) -> None:
    for country in catalogue.COUNTRIES:
        for category in catalogue.CATEGORIES:
            origin = f"catalogue {country}/{category}"
            for c in catalogue.entries(country, category):
                _add(found, c.system, c.code, origin)
                p = c.properties
                for target in term.map_targets(c.system, c.code):  # national codes: pivot targets
                    if target.attribute != "strength":
                        _add(found, target.system, target.code, f"{origin} -> {c.code}")
                if category == "allergy_agent":
                    _add(found, S.ALLERGY_CATEGORY, p.get("category"), origin)
                    _add(found, S.ALLERGY_TYPE, p.get("type"), origin)
                elif category == "allergy_reaction":
                    _add(found, S.REACTION_SEVERITY, p.get("severity"), origin)
                elif category == "medication":
                    _add(found, S.ATC, p.get("atc"), origin)
                    _add(found, S.EDQM, p.get("dose_form"), origin)
                    _add(found, S.EDQM, p.get("route"), origin)
                elif category in ("problem", "past_illness"):
                    _add(found, S.ICD10, p.get("icd10"), origin)
                    _add(found, S.SNOMED, p.get("snomed"), origin)
                elif category == "vaccine":
                    _add(found, S.ATC, p.get("atc"), origin)
                    _add(found, S.SNOMED, p.get("target_disease"), origin)
                elif category == "procedure":
                    _add(found, S.SNOMED, p.get("body_site"), origin)
                elif category == "social_history":
                    for code in p.get("value_codes") or ():
                        _add(found, p.get("value_system") or S.SNOMED, code, origin)
                if p.get("unit") and category in ("lab_result", "vital_sign", "social_history"):
                    _add(found, S.UCUM, p["unit"], origin)


def _generator_codes(found: Origins) -> None:
    origin = "generator (fixed code)"
    for code, _display in synthetic.SECTION_CODES.values():
        _add(found, S.LOINC, code, origin)
    for code in synthetic.ABSENT_DISPLAYS:
        _add(found, S.ABSENT_UNKNOWN_UV_IPS, code, origin)
    for code in synthetic.SMOKING_EN:
        _add(found, S.SNOMED, code, origin)
    for code in synthetic.codes.INTERP_DISPLAY:
        _add(found, S.OBSERVATION_INTERPRETATION, code, origin)
    for system, code in GENERATOR_LITERALS:
        _add(found, system, code, origin)


def _generated_documents() -> Iterator[tuple[str, dict[str, Any]]]:
    """A few generated documents per country (all sizes), to catch codes written inline."""
    provider = synthetic.concepts.catalogue_provider
    synthetic.concepts.catalogue_provider = None
    synthetic.reset_caches()
    try:
        for country in synthetic.COUNTRIES:
            for index in range(24):
                size = ("small", "typical", "large", None)[index % 4]
                yield f"generated {country}", synthetic.generate_patient(country, index, 11, size)[1]
            yield f"terminology.samples {country}", sample_bundle(country, 90)
    finally:
        synthetic.concepts.catalogue_provider = provider
        synthetic.reset_caches()


def used_codes(term: terminology.Terminology) -> Origins:
    found: Origins = defaultdict(set)
    _catalogue_codes(term, found)
    _generator_codes(found)
    for origin, bundle in _generated_documents():
        _walk(bundle, origin, found)
    for path in FIXTURE_FILES:
        _walk(json.loads(path.read_text(encoding="utf-8")), f"{path.parent.name}/{path.name}", found)
    return found


def _gap(term: terminology.Terminology, system: str, code: str) -> str | None:
    """What is missing for ``system|code`` (None when nothing is)."""
    if not term.knows(system, code):
        return "unknown code"
    national = S.NATIONAL_LANGUAGE.get(system)
    if national:
        missing = [lang for lang in (national, "en") if term.display(system, code, lang)[1] != lang]
        if missing:
            return f"no display in {', '.join(missing)}"
        return None
    missing = [lang for lang in LANGUAGES if term.display(system, code, lang)[1] != lang]
    return f"no designation in {', '.join(missing)}" if missing else None


@pytest.fixture(scope="module")
def found(shipped) -> Origins:
    return used_codes(shipped)


def test_the_enumeration_finds_what_the_generator_and_fixtures_use(found):
    for national in S.NATIONAL_LANGUAGE:
        assert any(system == national for system, _code in found), national
    assert (S.SNOMED, "764146007") in found  # the penicillin allergy of tests/fixtures/ips-fr-dupont.json
    assert (S.SNOMED, "373270004") in found and (S.UCUM, "mmol/L") in found
    assert DELIBERATELY_UNKNOWN <= set(found)  # drop an exemption once no fixture needs it


def test_deliberately_unknown_codes_stay_unknown(shipped):
    for system, code in DELIBERATELY_UNKNOWN:
        assert not shipped.knows(system, code), (system, code)


def test_every_code_used_is_known_and_translated(shipped, found):
    gaps: dict[str, list[str]] = defaultdict(list)
    for (system, code), origins in sorted(found.items()):
        if system in FOREIGN_NATIONAL or (system, code) in DELIBERATELY_UNKNOWN:
            continue
        problem = _gap(shipped, system, code)
        if problem:
            where = ", ".join(sorted(origins)[:3]) + (" …" if len(origins) > 3 else "")
            gaps[system].append(f"  {code}: {problem}  [{where}]")
    if gaps:
        total = sum(len(v) for v in gaps.values())
        lines = [f"{total} code(s) used by the synthetic population or the fixtures lack terminology:"]
        for system, rows in sorted(gaps.items()):
            lines.append(f"{system} ({len(rows)})")
            lines.extend(rows)
        pytest.fail("\n".join(lines), pytrace=False)
