"""Deterministic, clinically plausible synthetic population of IPS documents.

``generate_patient(country, index, seed, size=None)`` returns ``(PatientTraits, bundle_dict)``;
the same arguments always give the same output, different indexes give different people (their
national identifiers are unique for the first million or so indexes of a seed: the identifier is
built from a permutation of the index, not drawn at random).

Countries: France (INS-NIR), Germany (KVNR) and Italy (codice fiscale, computed from the person's
name, sex, birth date and the Belfiore code of the birthplace).

Codes come from :func:`terminology.catalogue.entries` (problems in CIM-10 / ICD-10-GM / ICD-9-CM,
medicines in CIP13 / PZN / AIC, allergies, vaccines, procedures and devices in SNOMED CT, results and vital signs in
LOINC + UCUM), so the generator and the terminology always agree. Narratives are in the country's
language. Plain dicts only (no pydantic) for speed; serialise with :func:`document_bytes` (orjson).

Sizes: ``"small"`` ≈ 10 bundle entries, ``"typical"`` ≈ 50, ``"large"`` ≈ 180; ``None`` draws a size
from a skewed distribution between 10 and 180 entries (median around 40).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from html import escape
from typing import Any

import orjson

from gateway.records import _population_data as data
from gateway.records.dosage_patterns import structured_dosage
from gateway.records.identifiers import (
    CODICE_FISCALE_SYSTEM,
    INS_NIR_SYSTEM,
    KVNR_SYSTEM,
    _cf_name_part,
    kvnr_check_digit,
    make_codice_fiscale,
    make_nir,
)
from terminology import catalogue

# ---- system URIs (mirroring terminology.systems; imported lazily there to keep this import cheap)
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
EDQM = "http://standardterms.edqm.eu"
ATC = "http://www.whocc.no/atc"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VER_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
OBSERVATION_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
ABSENT_UNKNOWN = "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips"
BIRTHPLACE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
FR_INSEE_CODE_EXTENSION = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code"
FR_INSEE_COMMUNE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM"
#: birthplace as the cadastral (Belfiore) code of the comune, or Z + country code when born abroad
IT_BELFIORE_EXTENSION = "http://ncpeh.example.eu/fhir/StructureDefinition/it-birthplace-belfiore-code"
IT_BELFIORE_SYSTEM = "http://ncpeh.example.eu/fhir/sid/it-belfiore"
IPS_BUNDLE_PROFILE = "http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips"

#: every date is computed from this fixed day, never from the clock (determinism)
REFERENCE_DATE = date(2025, 1, 15)

SIZES: dict[str, tuple[int, int]] = {"small": (9, 12), "typical": (45, 55), "large": (170, 190)}

SECTION_CODES: dict[str, tuple[str, str]] = {
    "allergies": ("48765-2", "Allergies and adverse reactions Document"),
    "medications": ("10160-0", "History of Medication use Narrative"),
    "problems": ("11450-4", "Problem list - Reported"),
    "immunizations": ("11369-6", "History of Immunization Narrative"),
    "procedures": ("47519-4", "History of Procedures Document"),
    "results": ("30954-2", "Relevant diagnostic tests/laboratory data Narrative"),
    "vital_signs": ("8716-3", "Vital signs"),
    "devices": ("46264-8", "History of medical device use"),
    "past_illness": ("11348-0", "History of Past illness Narrative"),
    "plan_of_care": ("18776-5", "Plan of care note"),
    "pregnancy": ("10162-6", "History of pregnancies Narrative"),
    "social_history": ("29762-2", "Social history Narrative"),
}
ABSENT_DISPLAYS = {
    "no-known-allergies": "No known allergies",
    "no-allergy-info": "No information about allergies",
    "no-known-medications": "No known medications",
    "no-medication-info": "No information about medications",
    "no-known-problems": "No known problems",
    "no-problem-info": "No information about problems",
}
SMOKING_KEYS = {"266919005": "never_smoked", "8517006": "ex_smoker", "77176002": "smoker"}
SMOKING_EN = {"266919005": "Never smoked tobacco", "8517006": "Ex-smoker", "77176002": "Smoker"}

# ICD-10 plausibility by sex and age (codes are matched by prefix)
_FEMALE_ONLY = ("N7", "N8", "N9", "O", "C5", "D25", "D26", "D27", "D28", "E28", "Z3")
_MALE_ONLY = ("N40", "N41", "N42", "N43", "N44", "N45", "N46", "N47", "N48", "N49", "N5", "C60", "C61", "C62",
              "C63")
_CHILD_OK = ("J45", "J30", "L20", "G40", "E10", "F90", "F84", "H66", "J02", "J03", "J06", "J18", "A09", "K52",
             "B01", "E66", "L70", "D50", "K21", "K59", "R10", "S", "T78", "Q", "H52", "N39", "F32", "F41")
_ELDERLY_ONLY = ("G30", "F00", "F01", "F03", "I48", "M81", "N40", "H25", "H35.3", "I70", "C61", "M15", "M16",
                 "M17", "I50", "N18", "G20")
_PREGNANCY_ICD = ("O", "Z3")

# Age pyramid: (min age, max age, weight)
_AGE_BRACKETS = ((0, 4, 5), (5, 14, 11), (15, 24, 11), (25, 34, 12), (35, 44, 12), (45, 54, 13),
                 (55, 64, 13), (65, 74, 11), (75, 84, 8), (85, 99, 4))
_AGE_CUM: list[int] = []
_acc = 0
for _lo, _hi, _w in _AGE_BRACKETS:
    _acc += _w
    _AGE_CUM.append(_acc)


@dataclass(frozen=True, slots=True)
class PatientTraits:
    """Reference identity traits of a synthetic patient (what identification matches on)."""

    country: str
    identifier_system: str
    identifier_value: str
    family: str  # birth name (official)
    given: str  # first names, space separated
    given_names: tuple[str, ...]
    birthdate: str
    gender: str  # FHIR administrative gender
    birthplace: str  # FR: INSEE code (commune or 99+country); DE/IT: city / Belfiore code
    birthplace_name: str
    language: str
    usual_family: str | None
    size: str
    entries: int  # bundle entries

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


# --------------------------------------------------------------------------------------------
# Catalogue access (terminology.catalogue), cached and pre-processed
# --------------------------------------------------------------------------------------------

#: ``(country, category) -> list[Concept]``; tests may replace it (see tests/records/conftest.py)
catalogue_provider: Callable[[str, str], list[Any]] | None = None


def _entries(country: str, category: str) -> list[Any]:
    if catalogue_provider is not None:
        return catalogue_provider(country, category)
    return catalogue.entries(country, category)


@dataclass(slots=True)
class _Item:
    """A catalogue concept prepared for fast document building."""

    coding: dict[str, Any]
    text: str  # national-language display
    html: str  # escaped text
    props: dict[str, Any]
    ref_range: list[dict[str, Any]] | None = None  # Observation.referenceRange, precomputed
    range_html: str = ""
    unit_html: str = ""

    def prepare(self) -> _Item:
        p = self.props
        unit, unit_display = p.get("unit"), p.get("unit_display") or p.get("unit")
        self.unit_html = escape(str(unit_display or ""))
        if unit is not None:
            rr: dict[str, Any] = {}
            for bound in ("low", "high"):
                if p.get(bound) is not None:
                    rr[bound] = {"value": p[bound], "unit": unit_display, "system": UCUM, "code": unit}
            self.ref_range = [rr] if rr else None
            self.range_html = _range_text(self)
        return self


class _Catalogue:
    def __init__(self, country: str) -> None:
        self.country = country
        self.lang = _LANG[country]
        cats: dict[str, list[_Item]] = {}
        for category in (
            "problem", "past_illness", "medication", "allergy_agent", "allergy_reaction", "vaccine",
            "procedure", "device", "lab_result", "vital_sign", "blood_group", "social_history", "pregnancy",
        ):
            items = []
            for concept in _entries(country, category):
                text = concept.text(self.lang) if hasattr(concept, "text") else concept.display
                text = text or concept.display or concept.code
                coding = {"system": concept.system, "code": concept.code}
                # national code systems carry their national display; international ones (SNOMED CT,
                # LOINC, ATC, EDQM) their published English display, the national text goes in .text
                designations = getattr(concept, "designations", None) or {}
                display = concept.display if concept.system in _NATIONAL_SYSTEMS else (
                    designations.get("en") or concept.display)
                if display:
                    coding["display"] = display
                items.append(_Item(coding, text, escape(text), dict(concept.properties or {})).prepare())
            cats[category] = items
        self.cats = cats
        self.meds_by_indication: dict[str, list[_Item]] = {}
        for item in cats["medication"]:
            ind = item.props.get("indication_icd10")
            if ind:
                self.meds_by_indication.setdefault(ind[:3], []).append(item)
        preg = cats["pregnancy"]
        self.preg_status = next((i for i in preg if i.props.get("kind") == "status"), None)
        self.preg_edd = next((i for i in preg if i.props.get("kind") == "edd"), None)
        self.preg_values = {i.coding["code"]: i for i in preg if i.props.get("kind") == "status_value"}
        self.preg_outcomes = [i for i in preg if i.props.get("kind") == "outcome"]
        self._pools: dict[tuple[str, str, bool, bool, bool], list[_Item]] = {}
        vitals = {i.coding["code"]: i for i in cats["vital_sign"]}
        self.bp = (vitals.pop("8480-6", None), vitals.pop("8462-4", None))
        self.vitals = list(vitals.values())
        self.vital_by_code = {i.coding["code"]: i for i in cats["vital_sign"]}


    def pool(self, category: str, gender: str, age: int, pregnant: bool) -> list[_Item]:
        """Catalogue items of ``category`` plausible for this sex / age band / pregnancy (cached)."""
        key = (category, gender, age < 18, age < 50, pregnant)
        found = self._pools.get(key)
        if found is None:
            found = self._pools[key] = [i for i in self.cats[category] if _icd_ok(i, gender, age, pregnant)]
        return found

    def procedures_for(self, gender: str, age: int) -> list[_Item]:
        key = ("procedure", gender, age < 16, False, False)
        found = self._pools.get(key)
        if found is None:
            female_only = ("11466000", "236886002")  # caesarean section, hysterectomy
            found = self._pools[key] = [
                p for p in self.cats["procedure"]
                if not (p.coding["code"] in female_only and (gender != "female" or age < 16))
            ]
        return found

    def devices_for(self, gender: str) -> list[_Item]:
        key = ("device", gender, False, False, False)
        found = self._pools.get(key)
        if found is None:  # intrauterine device: women only
            found = self._pools[key] = [
                d for d in self.cats["device"] if gender == "female" or d.coding["code"] != "268460000"
            ]
        return found


_LANG = {"FR": "fr", "DE": "de", "IT": "it"}
_NATIONAL_SYSTEMS = frozenset({
    "https://smt.esante.gouv.fr/terminologie-cim-10/", "urn:oid:1.2.250.1.213.2.3.2",
    "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "http://fhir.de/CodeSystem/ifa/pzn",
    "http://hl7.org/fhir/sid/icd-9-cm", "https://www.hl7.it/fhir/terminology/CodeSystem/aifa-aic",
})
#: countries the generator knows (identity data, texts and a terminology catalogue)
COUNTRIES: tuple[str, ...] = ("FR", "DE", "IT")
_BCP47 = {"FR": "fr-FR", "DE": "de-DE", "IT": "it-IT"}


@lru_cache(maxsize=8)
def _catalogue(country: str) -> _Catalogue:
    return _Catalogue(country)


def reset_caches() -> None:
    """Forget the prepared catalogues (after replacing :data:`catalogue_provider`)."""
    _catalogue.cache_clear()


def _icd(item: _Item) -> str:
    return str(item.props.get("icd10") or item.coding.get("code") or "")


def _icd_ok(item: _Item, gender: str, age: int, pregnant: bool) -> bool:
    code = _icd(item)
    if gender == "male" and code.startswith(_FEMALE_ONLY):
        return False
    if gender == "female" and code.startswith(_MALE_ONLY):
        return False
    if code.startswith(_PREGNANCY_ICD) and not pregnant:
        return False
    if age < 50 and code.startswith(_ELDERLY_ONLY):
        return False
    return not (age < 18 and not code.startswith(_CHILD_OK))


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _patient_seed(country: str, index: int, seed: int) -> int:
    digest = hashlib.blake2b(f"{country}:{seed}:{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _permute(index: int, space: int, seed: int, salt: str) -> int:
    """A bijection of ``range(space)`` (affine map with a seed-dependent multiplier and offset)."""
    a, c = _affine(space, seed, salt)
    return (a * (index % space) + c) % space


@lru_cache(maxsize=64)
def _affine(space: int, seed: int, salt: str) -> tuple[int, int]:
    h = int.from_bytes(hashlib.blake2b(f"{salt}:{seed}".encode(), digest_size=8).digest(), "big")
    a = (h | 1) % space or 1
    while math.gcd(a, space) != 1:
        a += 1
    return a, h >> 20


def _fmt(d: date, precision: int) -> str:
    """precision 0: year, 1: year-month, 2: full date."""
    if precision == 0:
        return f"{d.year:04d}"
    if precision == 1:
        return f"{d.year:04d}-{d.month:02d}"
    return d.isoformat()


def _between(rng: random.Random, start: date, end: date) -> date:
    span = (end - start).days
    if span <= 0:
        return end
    return start + timedelta(days=rng.randrange(span + 1))


def _partial(rng: random.Random, d: date) -> str:
    r = rng.random()
    return _fmt(d, 0 if r < 0.15 else 1 if r < 0.35 else 2)


def _human_date(value: str, lang: str) -> str:
    """Narrative rendering of a (partial) ISO date: 2019 / 05/2019 / 04/05/2019 (fr, it), 04.05.2019 (de)."""
    parts = value.split("-")
    if len(parts) == 1:
        return parts[0]
    sep = "." if lang == "de" else "/"
    return sep.join(reversed(parts))


def _cc(coding: dict[str, Any], text: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"coding": [coding]}
    if text:
        out["text"] = text
    return out


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f'<div xmlns="http://www.w3.org/1999/xhtml"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _quantity(value: float, item: _Item) -> dict[str, Any]:
    return {"value": value, "unit": item.props.get("unit_display") or item.props.get("unit"),
            "system": UCUM, "code": item.props.get("unit")}


def _draw_value(rng: random.Random, item: _Item, abnormal_bias: float = 0.0) -> float | int:
    p = item.props
    lo, hi = p.get("min"), p.get("max")
    if lo is None or hi is None:
        lo, hi = 0, 100
    ref_lo, ref_hi = p.get("low"), p.get("high")
    if rng.random() >= abnormal_bias and ref_lo is not None and ref_hi is not None:
        lo, hi = max(lo, ref_lo), min(hi, ref_hi)
    value = lo + (hi - lo) * rng.random()
    decimals = int(p.get("decimals") or 0)
    return round(value, decimals) if decimals else int(round(value))


def _interpretation(value: float, item: _Item) -> str:
    lo, hi = item.props.get("low"), item.props.get("high")
    if lo is not None and value < lo:
        return "L"
    if hi is not None and value > hi:
        return "H"
    return "N"


_INTERP_DISPLAY = {"L": "Low", "H": "High", "N": "Normal"}


def _range_text(item: _Item) -> str:
    lo, hi = item.props.get("low"), item.props.get("high")
    unit = escape(str(item.props.get("unit_display") or ""))
    if lo is not None and hi is not None:
        return f"{lo}–{hi} {unit}"
    if lo is not None:
        return f"&gt; {lo} {unit}"
    if hi is not None:
        return f"&lt; {hi} {unit}"
    return ""


# --------------------------------------------------------------------------------------------
# Identity
# --------------------------------------------------------------------------------------------


def _draw_age(rng: random.Random) -> int:
    x = rng.randrange(_AGE_CUM[-1])
    for (lo, hi, _w), cum in zip(_AGE_BRACKETS, _AGE_CUM, strict=True):
        if x < cum:
            return rng.randint(lo, hi)
    return 50  # pragma: no cover


def _birthdate(rng: random.Random, age: int, month: int | None = None) -> date:
    year = REFERENCE_DATE.year - age
    if month is None:
        month = rng.randint(1, 12)
    day = rng.randint(1, 28 if month == 2 else 30 if month in (4, 6, 9, 11) else 31)
    born = date(year, month, day)
    if born > REFERENCE_DATE:  # birthday not reached yet this year -> one year younger is fine
        born = date(year - 1, month, day)
    return born


def _identity(country: str, index: int, seed: int, rng: random.Random) -> dict[str, Any]:
    gender = "female" if rng.random() < 0.51 else "male"
    age = _draw_age(rng)
    if country == "FR":
        places = data.FR_BIRTHPLACES
        n_places = len(places)
        slot = _permute(index, 12 * n_places * 999, seed, "fr-nir")
        month = slot % 12 + 1
        code, place_name = places[(slot // 12) % n_places]
        order = slot // (12 * n_places) + 1
        born = _birthdate(rng, age, month)
        if code[:2] in ("2A", "2B") and born.year < 1976:
            code = "20" + code[2:]  # Corsica was department 20 before 1976
        family = rng.choice(data.FR_FAMILY)
        firsts = data.FR_FEMALE if gender == "female" else data.FR_MALE
        given = [rng.choice(firsts)]
        for _ in range(rng.choice((0, 1, 1, 1, 2, 2))):
            name = rng.choice(firsts)
            if name not in given:
                given.append(name)
        value = make_nir(gender, born.isoformat(), code, order)
        usual = rng.choice(data.FR_FAMILY) if gender == "female" and age >= 25 and rng.random() < 0.4 else None
        street = f"{rng.randint(1, 120)} {rng.choice(data.FR_STREETS)}"
        postal, city = rng.choice(data.FR_CITIES)
        return dict(system=INS_NIR_SYSTEM, value=value, family=family, given=given, gender=gender, born=born,
                    age=age, birthplace=code, birthplace_name=place_name, usual=usual,
                    address=(street, postal, city, "FR"),
                    phone=f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}")
    if country == "DE":
        n = _permute(index, 26 * 100_000_000, seed, "de-kvnr")
        first9 = chr(ord("A") + n // 100_000_000) + f"{n % 100_000_000:08d}"
        value = first9 + kvnr_check_digit(first9)
        born = _birthdate(rng, age)
        family = rng.choice(data.DE_FAMILY)
        firsts = data.DE_FEMALE if gender == "female" else data.DE_MALE
        given = [rng.choice(firsts)]
        if rng.random() < 0.3:
            second = rng.choice(firsts)
            if second != given[0]:
                given.append(second)
        place = rng.choice(data.DE_BIRTHPLACES)
        usual = rng.choice(data.DE_FAMILY) if gender == "female" and age >= 25 and rng.random() < 0.3 else None
        street = f"{rng.choice(data.DE_STREETS)} {rng.randint(1, 140)}"
        postal, city = rng.choice(data.DE_CITIES)
        return dict(system=KVNR_SYSTEM, value=value, family=family, given=given, gender=gender, born=born,
                    age=age, birthplace=place, birthplace_name=place, usual=usual,
                    address=(street, postal, city, "DE"),
                    phone=f"+49 1{rng.randint(50, 79)} {rng.randint(1000000, 9999999)}")
    if country == "IT":
        return _italian_identity(index, seed, rng, gender, age)
    raise ValueError(f"no synthetic population for country {country!r} (known: {', '.join(COUNTRIES)})")


def _first_per_code(family_names: tuple[str, ...]) -> tuple[str, ...]:
    """The first surname of each codice fiscale surname code (3 letters), in the given order."""
    seen: dict[str, str] = {}
    for name in family_names:
        seen.setdefault(_cf_name_part(name, given=False), name)
    return tuple(seen.values())


#: surnames with pairwise different codice fiscale surname codes
IT_FAMILY_CODES = _first_per_code(data.IT_FAMILY)
#: month and day of each day of a 365-day year (29 February is never drawn)
_DAYS_OF_YEAR = tuple((d.month, d.day) for d in (date(2001, 1, 1) + timedelta(days=n) for n in range(365)))


def _italian_identity(index: int, seed: int, rng: random.Random, gender: str, age: int) -> dict[str, Any]:
    """An Italian identity whose codice fiscale is computed from its traits, unique per index.

    The index is permuted onto (surname code, birthplace, day of the year): two indexes of the same
    seed differ in at least one of them, hence in their codice fiscale (which encodes all three),
    for the first ``len(IT_FAMILY_CODES) * len(IT_BIRTHPLACES) * 365`` (≈ 2 million) indexes.
    """
    places, families = data.IT_BIRTHPLACES, IT_FAMILY_CODES
    slot = _permute(index, 365 * len(places) * len(families), seed, "it-cf")
    month, day = _DAYS_OF_YEAR[slot % 365]
    belfiore, place_name = places[(slot // 365) % len(places)]
    family = families[slot // (365 * len(places))]
    # exactly ``age`` years old on the reference date (the age drives the clinical profile)
    year = REFERENCE_DATE.year - age - (1 if (month, day) > (REFERENCE_DATE.month, REFERENCE_DATE.day) else 0)
    born = date(year, month, day)
    firsts = data.IT_FEMALE if gender == "female" else data.IT_MALE
    given = [rng.choice(firsts)]
    if rng.random() < 0.12:  # a second given name, as written on the civil-status record
        second = rng.choice(firsts)
        if second != given[0]:
            given.append(second)
    value = make_codice_fiscale(family, " ".join(given), gender, born.isoformat(), belfiore)
    street = f"{rng.choice(data.IT_STREETS)} {rng.randint(1, 180)}"
    postal, city = rng.choice(data.IT_CITIES)
    return dict(system=CODICE_FISCALE_SYSTEM, value=value, family=family, given=given, gender=gender, born=born,
                age=age, birthplace=belfiore, birthplace_name=place_name, usual=None,
                address=(street, postal, city, "IT"),
                phone=f"+39 3{rng.randint(20, 93)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}")


# --------------------------------------------------------------------------------------------
# The document
# --------------------------------------------------------------------------------------------


class _Builder:
    """Accumulates the entries and sections of one document."""

    def __init__(self, rng: random.Random, cat: _Catalogue, ident: dict[str, Any], budget: int) -> None:
        self.rng = rng
        self.cat = cat
        self.lang = cat.lang
        self.t = data.TEXTS[self.lang]
        self.ident = ident
        self.budget = budget
        bits = rng.getrandbits(80)
        h = f"{bits:020x}"
        # UUID v4 layout: 8-4-4(4xxx)-4(8xxx..bxxx)-12; the last 12 hex digits number the entries
        self._uuid_prefix = f"{h[:8]}-{h[8:12]}-4{h[12:15]}-{'89ab'[bits & 3]}{h[15:18]}-{h[18:20]}"
        self._n = 0
        self.entries: list[dict[str, Any]] = []
        self.sections: dict[str, tuple[list[dict[str, str]], list[tuple[str, ...]]]] = {}
        self.patient_ref = ""
        self.org_ref = ""

    # -- plumbing -----------------------------------------------------------------------------
    def new_id(self) -> str:
        self._n += 1
        return f"{self._uuid_prefix}{self._n:010x}"

    def add(self, resource: dict[str, Any], section: str | None = None, row: tuple[str, ...] | None = None) -> str:
        rid = resource["id"] = self.new_id()
        url = f"urn:uuid:{rid}"
        self.entries.append({"fullUrl": url, "resource": resource})
        if section is not None:
            refs, rows = self.sections.setdefault(section, ([], []))
            refs.append({"reference": url})
            if row is not None:
                rows.append(row)
        return url

    def section_size(self, name: str) -> int:
        return len(self.sections.get(name, ((), ()))[0])

    # -- clinical content ---------------------------------------------------------------------
    def onset(self, earliest: date | None = None) -> tuple[date, str]:
        born = self.ident["born"]
        start = max(born + timedelta(days=30), earliest or born)
        d = _between(self.rng, start, REFERENCE_DATE - timedelta(days=7))
        return d, _partial(self.rng, d)

    def condition(self, item: _Item, section: str, resolved: bool) -> None:
        t, rng = self.t, self.rng
        d, onset = self.onset()
        res: dict[str, Any] = {
            "resourceType": "Condition",
            "clinicalStatus": _cc({"system": CONDITION_CLINICAL, "code": "resolved" if resolved else "active"}),
            "verificationStatus": _cc({"system": CONDITION_VER_STATUS, "code": "confirmed"}),
            "category": [_cc({"system": LOINC, "code": "75326-9", "display": "Problem"})],
            "code": _cc(item.coding, item.text),
            "subject": {"reference": self.patient_ref},
            "onsetDateTime": onset,
        }
        end = ""
        if resolved:
            stop = _between(rng, d, min(d + timedelta(days=rng.randint(10, 900)), REFERENCE_DATE))
            res["abatementDateTime"] = stop.isoformat()
            end = _human_date(res["abatementDateTime"], self.lang)
            status = t["resolved"]
        else:
            status = t["active"]
        row = (item.html, status, _human_date(onset, self.lang)) + ((end,) if resolved else ())
        self.add(res, section, row)

    def allergy(self, agent: _Item) -> None:
        rng = self.rng
        reaction = rng.choice(self.cat.cats["allergy_reaction"]) if self.cat.cats["allergy_reaction"] else None
        severity = (reaction.props.get("severity") if reaction else None) or "mild"
        criticality = "high" if severity == "severe" else rng.choice(("low", "low", "high"))
        _d, onset = self.onset()
        res: dict[str, Any] = {
            "resourceType": "AllergyIntolerance",
            "clinicalStatus": _cc({"system": ALLERGY_CLINICAL, "code": "active"}),
            "verificationStatus": _cc({"system": ALLERGY_VERIFICATION, "code": "confirmed"}),
            "type": agent.props.get("type") or "allergy",
            "category": [agent.props.get("category") or "medication"],
            "criticality": criticality,
            "code": _cc(agent.coding, agent.text),
            "patient": {"reference": self.patient_ref},
            "onsetDateTime": onset,
        }
        if reaction is not None:
            res["reaction"] = [{"manifestation": [_cc(reaction.coding, reaction.text)], "severity": severity}]
        self.add(res, "allergies", (agent.html, reaction.html if reaction else "", self.t[criticality],
                                    _human_date(onset, self.lang)))

    def absent(self, kind: str, code: str) -> None:
        coding = {"system": ABSENT_UNKNOWN, "code": code, "display": ABSENT_DISPLAYS[code]}
        text = self.t[code]
        if kind == "allergies":
            res: dict[str, Any] = {
                "resourceType": "AllergyIntolerance",
                "clinicalStatus": _cc({"system": ALLERGY_CLINICAL, "code": "active"}),
                "code": _cc(coding, text),
                "patient": {"reference": self.patient_ref},
            }
        elif kind == "medications":
            res = {
                "resourceType": "MedicationStatement",
                "status": "active" if code == "no-known-medications" else "unknown",
                "medicationCodeableConcept": _cc(coding, text),
                "subject": {"reference": self.patient_ref},
                "effectiveDateTime": REFERENCE_DATE.isoformat(),
            }
        else:
            res = {
                "resourceType": "Condition",
                "clinicalStatus": _cc({"system": CONDITION_CLINICAL, "code": "active"}),
                "category": [_cc({"system": LOINC, "code": "75326-9", "display": "Problem"})],
                "code": _cc(coding, text),
                "subject": {"reference": self.patient_ref},
            }
        self.add(res, kind, (escape(text),) + ("",) * (_HEADERS_LEN[kind] - 1))

    def medication(self, item: _Item) -> None:
        p = item.props
        med: dict[str, Any] = {"resourceType": "Medication", "code": _cc(item.coding, item.text)}
        if p.get("dose_form"):
            med["form"] = _cc({"system": EDQM, "code": p["dose_form"], "display": p.get("dose_form_display")})
        med_url = self.add(med)
        start, start_s = self.onset(REFERENCE_DATE - timedelta(days=365 * 12))
        dosage_text = p.get("dosage") or ""
        dosage: dict[str, Any] = {"text": dosage_text} if dosage_text else {}
        dosage.update(structured_dosage(p.get("dosage_en")))
        if p.get("route"):
            dosage["route"] = _cc({"system": EDQM, "code": p["route"], "display": p.get("route_display")})
        res: dict[str, Any] = {
            "resourceType": "MedicationStatement",
            "status": "active",
            "medicationReference": {"reference": med_url},
            "subject": {"reference": self.patient_ref},
            "effectivePeriod": {"start": start_s},
        }
        if dosage:
            res["dosage"] = [dosage]
        self.add(res, "medications", (item.html, escape(dosage_text), _human_date(start_s, self.lang)))

    def immunization(self, item: _Item, when: date, dose: int) -> None:
        res = {
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": _cc(item.coding, item.text),
            "patient": {"reference": self.patient_ref},
            "occurrenceDateTime": when.isoformat(),
            "protocolApplied": [{"doseNumberPositiveInt": dose}],
        }
        target = item.props.get("target_disease")
        if target:
            res["protocolApplied"][0]["targetDisease"] = [_cc({"system": SNOMED, "code": target})]
        self.add(res, "immunizations", (item.html, str(dose), _human_date(when.isoformat(), self.lang)))

    def procedure(self, item: _Item) -> None:
        _d, when = self.onset()
        res: dict[str, Any] = {
            "resourceType": "Procedure",
            "status": "completed",
            "code": _cc(item.coding, item.text),
            "subject": {"reference": self.patient_ref},
            "performedDateTime": when,
        }
        if item.props.get("body_site"):
            res["bodySite"] = [_cc({"system": SNOMED, "code": item.props["body_site"]})]
        self.add(res, "procedures", (item.html, _human_date(when, self.lang)))

    def device(self, item: _Item) -> None:
        dev_url = self.add({"resourceType": "Device", "type": _cc(item.coding, item.text),
                            "patient": {"reference": self.patient_ref}})
        _d, when = self.onset()
        self.add({"resourceType": "DeviceUseStatement", "status": "active", "subject": {"reference": self.patient_ref},
                  "device": {"reference": dev_url}, "timingDateTime": when},
                 "devices", (item.html, _human_date(when, self.lang)))

    def observation(self, section: str, category: str, item: _Item, when: date, value: Any,
                    value_text: str, range_text: str = "", interp: str | None = None) -> None:
        res: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "final",
            "category": [_cc({"system": OBSERVATION_CATEGORY, "code": category})],
            "code": _cc(item.coding, item.text),
            "subject": {"reference": self.patient_ref},
            "effectiveDateTime": when.isoformat(),
        }
        if category == "laboratory":
            res["performer"] = [{"reference": self.org_ref}]
        if isinstance(value, dict) and "coding" in value:
            res["valueCodeableConcept"] = value
        elif isinstance(value, dict) and "value" in value:
            res["valueQuantity"] = value
        elif isinstance(value, str):
            res["valueDateTime"] = value
        elif isinstance(value, list):
            res["component"] = value
        if interp:
            res["interpretation"] = [_cc({"system": OBSERVATION_INTERPRETATION, "code": interp,
                                          "display": _INTERP_DISPLAY[interp]})]
            if item.ref_range:
                res["referenceRange"] = item.ref_range
        self.add(res, section, (item.html, value_text, range_text, _human_date(when.isoformat(), self.lang)))

    def lab(self, item: _Item, when: date, bias: float) -> None:
        v = _draw_value(self.rng, item, bias)
        interp = _interpretation(v, item)
        self.observation("results", "laboratory", item, when, _quantity(v, item), f"{v} {item.unit_html}",
                         item.range_html, interp)

    def vital(self, item: _Item, when: date) -> None:
        ident = self.ident
        code = item.coding["code"]
        age = max(0, ident["age"] - (REFERENCE_DATE.year - when.year))
        v: float | int
        if code == "29463-7":  # body weight: child growth, adult sex-dependent
            v = round(_child_weight(age) if age < 18 else self.rng.gauss(80 if ident["gender"] == "male" else 66, 12), 1)
            v = max(2.5, v)
        elif code == "8302-2":
            v = int(round(_child_height(age) if age < 18 else self.rng.gauss(176 if ident["gender"] == "male" else 164, 7)))
        elif code in ("8867-4", "9279-1") and age < 12:
            base = 110 if code == "8867-4" else 24
            v = int(base - age * (3 if code == "8867-4" else 0.8) + self.rng.randint(-8, 8))
        else:
            v = _draw_value(self.rng, item, 0.15)
        self.observation("vital_signs", "vital-signs", item, when, _quantity(v, item), f"{v} {item.unit_html}")

    def blood_pressure(self, when: date) -> None:
        sys_item, dia_item = self.cat.bp
        assert sys_item is not None and dia_item is not None
        s = _draw_value(self.rng, sys_item, 0.25)
        d = min(_draw_value(self.rng, dia_item, 0.2), int(s) - 25)
        panel = _Item({"system": LOINC, "code": "85354-9", "display": "Blood pressure panel with all children optional"},
                      "", "", {})
        panel.text = self.t["blood_pressure"]
        panel.html = panel.text
        components = [
            {"code": _cc(sys_item.coding), "valueQuantity": _quantity(s, sys_item)},
            {"code": _cc(dia_item.coding), "valueQuantity": _quantity(d, dia_item)},
        ]
        self.observation("vital_signs", "vital-signs", panel, when, components, f"{s}/{d} mmHg")


_ALL_GIVEN = {"FR": data.FR_MALE + data.FR_FEMALE, "DE": data.DE_MALE + data.DE_FEMALE,
              "IT": data.IT_MALE + data.IT_FEMALE}
_FAMILY = {"FR": data.FR_FAMILY, "DE": data.DE_FAMILY, "IT": IT_FAMILY_CODES}
_CITIES = {"FR": data.FR_CITIES, "DE": data.DE_CITIES, "IT": data.IT_CITIES}
_ORGS = {"FR": data.FR_ORGS, "DE": data.DE_ORGS, "IT": data.IT_ORGS}
_HEADERS_LEN = {"allergies": 4, "medications": 3, "problems": 3}


@lru_cache(maxsize=8)
def _headers(lang: str) -> dict[str, tuple[str, ...]]:
    t = data.TEXTS[lang]
    return {
        "allergies": (t["h_agent"], t["h_reaction"], t["h_criticality"], t["h_since"]),
        "medications": (t["h_medication"], t["h_dosage"], t["h_start"]),
        "problems": (t["h_problem"], t["h_status"], t["h_onset"]),
        "immunizations": (t["h_vaccine"], t["h_dose"], t["h_date"]),
        "procedures": (t["h_procedure"], t["h_date"]),
        "results": (t["h_test"], t["h_value"], t["h_range"], t["h_date"]),
        "vital_signs": (t["h_test"], t["h_value"], t["h_range"], t["h_date"]),
        "devices": (t["h_device"], t["h_since"]),
        "past_illness": (t["h_problem"], t["h_status"], t["h_onset"], t["h_end"]),
        "plan_of_care": (t["h_plan"], t["h_start"]),
        "pregnancy": (t["h_item"], t["h_value"], t["h_range"], t["h_date"]),
        "social_history": (t["h_item"], t["h_value"], t["h_range"], t["h_date"]),
    }


def _child_weight(age: int) -> float:
    return 3.4 + age * 2.9 if age < 10 else 32 + (age - 10) * 4.5


def _child_height(age: int) -> float:
    return 50 + age * 13 if age < 2 else 76 + (age - 2) * 6.2


def _size_target(rng: random.Random, size: str | None) -> tuple[str, int]:
    if size is None:
        # skewed: most summaries are modest, a long tail of big ones (10..180 entries)
        target = int(min(180, max(10, rng.lognormvariate(3.7, 0.6))))
        label = "small" if target < 25 else "typical" if target < 110 else "large"
        return label, target
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)} or None, got {size!r}")
    lo, hi = SIZES[size]
    return size, rng.randint(lo, hi)


def generate_patient(country: str, index: int, seed: int, size: str | None = None) -> tuple[PatientTraits, dict[str, Any]]:
    """One synthetic patient and its IPS document Bundle (a plain dict), deterministically."""
    country = country.upper()
    if country not in COUNTRIES:
        raise ValueError(f"no synthetic population for country {country!r} (known: {', '.join(COUNTRIES)})")
    person_seed = _patient_seed(country, index, seed)
    # identity from its own stream: the same person whatever the requested summary size
    ident = _identity(country, index, seed, random.Random(person_seed))
    rng = random.Random(person_seed ^ 0x5DEECE66D)
    size_label, target = _size_target(rng, size)
    cat = _catalogue(country)
    b = _Builder(rng, cat, ident, target)
    t = b.t
    lang = cat.lang
    age, gender = ident["age"], ident["gender"]

    # --- base resources: Patient, author, custodian -------------------------------------------
    comp_id = b.new_id()
    street, postal, city, ctry = ident["address"]
    names: list[dict[str, Any]] = [{"use": "official", "family": ident["family"], "given": ident["given"]}]
    if ident["usual"]:
        names.append({"use": "usual", "family": ident["usual"], "given": ident["given"][:1]})
    birthplace_address: dict[str, Any] = {"city": ident["birthplace_name"]}
    if country == "IT":
        code = ident["birthplace"]
        birthplace_address = {
            "extension": [{"url": IT_BELFIORE_EXTENSION, "valueCoding": {"system": IT_BELFIORE_SYSTEM, "code": code}}],
            "city": ident["birthplace_name"],
        }
        if not code.startswith("Z"):
            birthplace_address["country"] = "IT"
    if country == "FR":
        code = ident["birthplace"]
        birthplace_address = {
            "extension": [{"url": FR_INSEE_CODE_EXTENSION,
                           "valueCoding": {"system": FR_INSEE_COMMUNE_SYSTEM, "code": code}}],
            "city": ident["birthplace_name"],
            "country": "FR" if not code.startswith("99") else None,
        }
        if birthplace_address["country"] is None:
            del birthplace_address["country"]
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "extension": [{"url": BIRTHPLACE_EXTENSION, "valueAddress": birthplace_address}],
        "identifier": [{"use": "official", "system": ident["system"], "value": ident["value"]}],
        "active": True,
        "name": names,
        "telecom": [{"system": "phone", "value": ident["phone"], "use": "mobile"}],
        "gender": gender,
        "birthDate": ident["born"].isoformat(),
        "address": [{"use": "home", "line": [street], "city": city, "postalCode": postal, "country": ctry}],
    }
    b.patient_ref = b.add(patient)
    doc_family = rng.choice(_FAMILY[country])
    doc_given = rng.choice(_ALL_GIVEN[country])
    prefix = "Dr" if country != "IT" else "Dott.ssa" if doc_given in data.IT_FEMALE else "Dott."
    author_ref = b.add({"resourceType": "Practitioner", "name": [{"family": doc_family, "given": [doc_given],
                                                                  "prefix": [prefix]}]})
    org_city = rng.choice(_CITIES[country])[1]
    org_name = rng.choice(_ORGS[country]).format(city=org_city, family=doc_family)
    b.org_ref = b.add({"resourceType": "Organization", "name": org_name,
                       "address": [{"city": org_city, "country": country}]})
    fixed = 4  # Composition + Patient + Practitioner + Organization

    # --- clinical profile -------------------------------------------------------------------
    budget = max(target - fixed, 3)
    pregnant = gender == "female" and 16 <= age <= 45 and rng.random() < 0.07
    cats = cat.cats

    # problems (active) — age/sex filtered, more with age; at least one entry (or absent code)
    pool = cat.pool("problem", gender, age, pregnant)
    n_problems = min(len(pool), max(0, int(age / 14 + rng.random() * 2 + budget / 14) - (1 if age < 30 else 0)))
    problems = rng.sample(pool, n_problems) if pool and n_problems else []
    if size_label == "small":
        problems = problems[:2]
    if problems:
        for item in problems:
            b.condition(item, "problems", resolved=False)
    else:
        b.absent("problems", "no-known-problems" if rng.random() < 0.85 else "no-problem-info")

    # medications: driven by the problems' indications, then common ones
    meds: list[_Item] = []
    for item in problems:
        options = cat.meds_by_indication.get(_icd(item)[:3])
        if options:
            choice = rng.choice(options)
            if choice not in meds:
                meds.append(choice)
    extra_meds = int(budget / 30 * rng.random() + (1 if age > 60 and rng.random() < 0.5 else 0))
    all_meds = cats["medication"]
    for _ in range(extra_meds):
        choice = rng.choice(all_meds)
        ind = choice.props.get("indication_icd10")
        if choice not in meds and (ind is None or age >= 18):
            meds.append(choice)
    cap = {"small": 2, "typical": 8, "large": 24}.get(size_label, 20)
    meds = meds[:cap]
    if meds:
        for item in meds:
            b.medication(item)
    else:
        b.absent("medications", "no-known-medications" if rng.random() < 0.8 else "no-medication-info")

    # allergies: ~30 % of people have one or more
    agents = cats["allergy_agent"]
    if agents and rng.random() < (0.3 if size_label != "large" else 0.6):
        for agent in rng.sample(agents, min(len(agents), 1 + int(rng.random() ** 3 * 3))):
            b.allergy(agent)
    else:
        b.absent("allergies", "no-known-allergies" if rng.random() < 0.85 else "no-allergy-info")

    # recommended sections, filling the budget
    def remaining() -> int:
        return target - len(b.entries) - 1  # -1: the Composition

    # pregnancy (women of childbearing age)
    if gender == "female" and 15 <= age <= 49 and cat.preg_status and (pregnant or rng.random() < 0.25) \
            and remaining() > 1:
        value_code = "77386006" if pregnant else "60001007"
        value_item = cat.preg_values.get(value_code)
        when = _between(rng, REFERENCE_DATE - timedelta(days=90), REFERENCE_DATE - timedelta(days=3))
        if value_item is not None:
            b.observation("pregnancy", "social-history", cat.preg_status, when, _cc(value_item.coding, value_item.text),
                          escape(t["pregnant"] if pregnant else t["not_pregnant"]))
        if pregnant and cat.preg_edd:
            edd = REFERENCE_DATE + timedelta(days=rng.randint(20, 250))
            b.observation("pregnancy", "social-history", cat.preg_edd, when, edd.isoformat(),
                          _human_date(edd.isoformat(), lang))
    if age >= 12 and remaining() > 0 and rng.random() < 0.7:
        for item in cats["social_history"]:
            if remaining() <= 0:
                break
            when = _between(rng, REFERENCE_DATE - timedelta(days=700), REFERENCE_DATE)
            codes = item.props.get("value_codes") or []
            if codes:
                weights = (0.5, 0.3, 0.2) if len(codes) == 3 else None
                value_code = rng.choices(codes, weights=weights)[0] if weights else rng.choice(codes)
                key = SMOKING_KEYS.get(value_code)
                coding = {"system": item.props.get("value_system") or SNOMED, "code": value_code}
                if value_code in SMOKING_EN:
                    coding["display"] = SMOKING_EN[value_code]
                text = t[key] if key else value_code
                b.observation("social_history", "social-history", item, when, _cc(coding, text), escape(text))
            elif item.props.get("unit") and age >= 18:
                drinks = rng.choice((0, 0, 0.5, 1, 1, 2, 3))
                q = {"value": drinks, "unit": item.props["unit"], "system": UCUM, "code": item.props["unit"]}
                b.observation("social_history", "social-history", item, when, q, f"{drinks} {escape(t['drinks'])}")

    # immunizations: childhood series + adult boosters, as the budget allows
    vaccines = cats["vaccine"]
    if vaccines and remaining() > 0:
        n_vacc = min(remaining() // 4 + 1, 40)
        for _ in range(n_vacc if rng.random() < 0.85 else 0):
            item = rng.choice(vaccines)
            doses = int(item.props.get("doses") or 1)
            dose = rng.randint(1, doses)
            when = _between(rng, ident["born"] + timedelta(days=60), REFERENCE_DATE - timedelta(days=10))
            b.immunization(item, when, dose)
            if remaining() <= 0:
                break

    # past illnesses, procedures, devices
    past_pool = cat.pool("past_illness", gender, age, False)
    if past_pool and remaining() > 0 and age >= 3:
        for item in rng.sample(past_pool, min(len(past_pool), max(1, remaining() // 8))):
            b.condition(item, "past_illness", resolved=True)
    procs = cat.procedures_for(gender, age)
    if procs and remaining() > 0 and age >= 1 and (age >= 30 or rng.random() < 0.3):
        for item in rng.sample(procs, min(len(procs), max(1, remaining() // 10))):
            b.procedure(item)
    devices = cat.devices_for(gender)
    if devices and remaining() > 1 and (age >= 55 or rng.random() < 0.1):
        for item in rng.sample(devices, min(len(devices), max(1, remaining() // 25))):
            b.device(item)

    # plan of care (CarePlan with national-language description)
    if remaining() > 0 and (problems or pregnant) and rng.random() < 0.6:
        key = "plan_pregnancy" if pregnant else "plan_generic"
        for item in problems:
            code = _icd(item)
            hit = next((k for prefix, k in data.PLAN_BY_ICD10 if code.startswith(prefix)), None)
            if hit:
                key = hit
                break
        start = _between(rng, REFERENCE_DATE - timedelta(days=200), REFERENCE_DATE)
        b.add({"resourceType": "CarePlan", "status": "active", "intent": "plan",
               "subject": {"reference": b.patient_ref}, "description": t[key],
               "period": {"start": start.isoformat()}},
              "plan_of_care", (escape(t[key]), _human_date(start.isoformat(), lang)))

    # vital signs and results: time series fill what remains of the budget
    labs = cats["lab_result"]
    abnormal = 0.35 if problems else 0.1
    if cats["blood_group"] and remaining() > 0 and rng.random() < 0.5:
        bg = rng.choice(cats["blood_group"])
        bg_item = _Item({"system": LOINC, "code": "882-1", "display": "ABO and Rh group [Type] in Blood"},
                        t["blood_group_panel"], "", {})
        bg_item.html = escape(bg_item.text)
        when = _between(rng, ident["born"], REFERENCE_DATE)
        b.observation("results", "laboratory", bg_item, when, _cc(bg.coding, bg.text), bg.html)
    visit = _between(rng, max(ident["born"] + timedelta(days=2), REFERENCE_DATE - timedelta(days=120)),
                     REFERENCE_DATE - timedelta(days=1))
    rounds = 0
    while remaining() > 0 and rounds < 60:
        rounds += 1
        if cat.bp[0] is not None and cat.bp[1] is not None and age >= 3:
            b.blood_pressure(visit)
        for item in rng.sample(cat.vitals, min(len(cat.vitals), 2 if remaining() < 8 else 3)):
            if remaining() <= 0:
                break
            b.vital(item, visit)
        if labs:
            for item in rng.sample(labs, min(len(labs), max(1, min(remaining(), 6)))):
                if remaining() <= 0:
                    break
                b.lab(item, visit, abnormal)
        # spread the remaining visits over the life so far: infants are seen every few weeks,
        # adults every few months
        needed = remaining() / 9 + 1
        days_left = (visit - ident["born"]).days
        step = int(min(400, max(7, days_left / (needed + 1))))
        visit -= timedelta(days=rng.randint(max(7, step // 2), step))
        if visit <= ident["born"]:
            break

    # --- Composition ----------------------------------------------------------------------
    sections = []
    headers = _headers(lang)
    for name in SECTION_CODES:
        if name not in b.sections:
            continue
        refs, rows = b.sections[name]
        code, display = SECTION_CODES[name]
        sections.append({
            "title": t[name],
            "code": _cc({"system": LOINC, "code": code, "display": display}),
            "text": {"status": "generated", "div": _table(headers[name], rows)},
            "entry": refs,
        })
    stamp_day = REFERENCE_DATE - timedelta(days=rng.randint(0, 3))
    stamp = f"{stamp_day.isoformat()}T{rng.randint(7, 19):02d}:{rng.randint(0, 59):02d}:00+01:00"
    composition = {
        "resourceType": "Composition",
        "id": comp_id,
        "language": _BCP47[country],
        "status": "final",
        "type": _cc({"system": LOINC, "code": "60591-5", "display": "Patient summary Document"}),
        "subject": {"reference": b.patient_ref},
        "date": stamp,
        "author": [{"reference": author_ref}],
        "title": t["title"],
        "confidentiality": "N",
        "custodian": {"reference": b.org_ref},
        "section": sections,
    }
    entries = [{"fullUrl": f"urn:uuid:{comp_id}", "resource": composition}, *b.entries]
    bundle = {
        "resourceType": "Bundle",
        "id": b.new_id(),
        "meta": {"profile": [IPS_BUNDLE_PROFILE]},
        "language": _BCP47[country],
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{b.new_id()}"},
        "type": "document",
        "timestamp": stamp,
        "entry": entries,
    }
    traits = PatientTraits(
        country=country,
        identifier_system=ident["system"],
        identifier_value=ident["value"],
        family=ident["family"],
        given=" ".join(ident["given"]),
        given_names=tuple(ident["given"]),
        birthdate=ident["born"].isoformat(),
        gender=gender,
        birthplace=ident["birthplace"],
        birthplace_name=ident["birthplace_name"],
        language=lang,
        usual_family=ident["usual"],
        size=size_label,
        entries=len(entries),
    )
    return traits, bundle


def document_bytes(bundle: dict[str, Any]) -> bytes:
    """The document serialised as compact JSON (orjson)."""
    return orjson.dumps(bundle)


def iter_population(
    country: str, n: int, seed: int, start: int = 0, size: str | None = None
) -> Iterator[tuple[PatientTraits, dict[str, Any]]]:
    """Patients ``start .. start+n-1`` of the population ``(country, seed)``."""
    for index in range(start, start + n):
        yield generate_patient(country, index, seed, size)


__all__ = [
    "CODICE_FISCALE_SYSTEM",
    "COUNTRIES",
    "PatientTraits",
    "REFERENCE_DATE",
    "SIZES",
    "document_bytes",
    "generate_patient",
    "iter_population",
]
