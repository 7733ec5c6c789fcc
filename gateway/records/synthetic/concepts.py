"""The terminology catalogue as the generator uses it: concepts prepared per country, pools by plausibility."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from typing import Any

from gateway.records.synthetic.codes import LANG, NATIONAL_SYSTEMS, UCUM
from terminology import catalogue

# ICD-10 plausibility by sex and age (codes are matched by prefix)
_FEMALE_ONLY = ("N7", "N8", "N9", "O", "C5", "D25", "D26", "D27", "D28", "E28", "Z3")
_MALE_ONLY = ("N40", "N41", "N42", "N43", "N44", "N45", "N46", "N47", "N48", "N49", "N5", "C60", "C61", "C62",
              "C63")
_CHILD_OK = ("J45", "J30", "L20", "G40", "E10", "F90", "F84", "H66", "J02", "J03", "J06", "J18", "A09", "K52",
             "B01", "E66", "L70", "D50", "K21", "K59", "R10", "S", "T78", "Q", "H52", "N39", "F32", "F41")
_ELDERLY_ONLY = ("G30", "F00", "F01", "F03", "I48", "M81", "N40", "H25", "H35.3", "I70", "C61", "M15", "M16",
                 "M17", "I50", "N18", "G20")
_PREGNANCY_ICD = ("O", "Z3")


#: ``(country, category) -> list[Concept]`` in place of the terminology catalogue (then call :func:`reset_caches`)
catalogue_provider: Callable[[str, str], list[Any]] | None = None


def _entries(country: str, category: str) -> list[Any]:
    if catalogue_provider is not None:
        return catalogue_provider(country, category)
    return catalogue.entries(country, category)


@dataclass(slots=True)
class Item:
    """A catalogue concept prepared for fast document building."""

    coding: dict[str, Any]
    text: str  # national-language display
    html: str  # escaped text
    props: dict[str, Any]
    ref_range: list[dict[str, Any]] | None = None  # Observation.referenceRange, precomputed
    range_html: str = ""
    unit_html: str = ""

    def prepare(self) -> Item:
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


class Catalogue:
    """One country's concepts by category, in its language, with the pools the generator draws from."""

    def __init__(self, country: str) -> None:
        self.country = country
        self.lang = LANG[country]
        cats: dict[str, list[Item]] = {}
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
                display = concept.display if concept.system in NATIONAL_SYSTEMS else (
                    designations.get("en") or concept.display)
                if display:
                    coding["display"] = display
                items.append(Item(coding, text, escape(text), dict(concept.properties or {})).prepare())
            cats[category] = items
        self.cats = cats
        self.meds_by_indication: dict[str, list[Item]] = {}
        for item in cats["medication"]:
            ind = item.props.get("indication_icd10")
            if ind:
                self.meds_by_indication.setdefault(ind[:3], []).append(item)
        preg = cats["pregnancy"]
        self.preg_status = next((i for i in preg if i.props.get("kind") == "status"), None)
        self.preg_edd = next((i for i in preg if i.props.get("kind") == "edd"), None)
        self.preg_values = {i.coding["code"]: i for i in preg if i.props.get("kind") == "status_value"}
        self.preg_outcomes = [i for i in preg if i.props.get("kind") == "outcome"]
        self._pools: dict[tuple[str, str, bool, bool, bool], list[Item]] = {}
        vitals = {i.coding["code"]: i for i in cats["vital_sign"]}
        self.bp = (vitals.pop("8480-6", None), vitals.pop("8462-4", None))
        self.vitals = list(vitals.values())
        self.vital_by_code = {i.coding["code"]: i for i in cats["vital_sign"]}

    def pool(self, category: str, gender: str, age: int, pregnant: bool) -> list[Item]:
        """Catalogue items of ``category`` plausible for this sex / age band / pregnancy (cached)."""
        key = (category, gender, age < 18, age < 50, pregnant)
        found = self._pools.get(key)
        if found is None:
            found = self._pools[key] = [i for i in self.cats[category] if _icd_ok(i, gender, age, pregnant)]
        return found

    def procedures_for(self, gender: str, age: int) -> list[Item]:
        key = ("procedure", gender, age < 16, False, False)
        found = self._pools.get(key)
        if found is None:
            female_only = ("11466000", "236886002")  # caesarean section, hysterectomy
            found = self._pools[key] = [
                p for p in self.cats["procedure"]
                if not (p.coding["code"] in female_only and (gender != "female" or age < 16))
            ]
        return found

    def devices_for(self, gender: str) -> list[Item]:
        key = ("device", gender, False, False, False)
        found = self._pools.get(key)
        if found is None:  # intrauterine device: women only
            found = self._pools[key] = [
                d for d in self.cats["device"] if gender == "female" or d.coding["code"] != "268460000"
            ]
        return found


@lru_cache(maxsize=8)
def prepared_catalogue(country: str) -> Catalogue:
    """The country's catalogue, prepared once."""
    return Catalogue(country)


def reset_caches() -> None:
    """Forget the prepared catalogues (after replacing :data:`catalogue_provider`)."""
    prepared_catalogue.cache_clear()


def icd(item: Item) -> str:
    """The concept's ICD-10 code (its own code when it has none)."""
    return str(item.props.get("icd10") or item.coding.get("code") or "")


def _icd_ok(item: Item, gender: str, age: int, pregnant: bool) -> bool:
    code = icd(item)
    if gender == "male" and code.startswith(_FEMALE_ONLY):
        return False
    if gender == "female" and code.startswith(_MALE_ONLY):
        return False
    if code.startswith(_PREGNANCY_ICD) and not pregnant:
        return False
    if age < 50 and code.startswith(_ELDERLY_ONLY):
        return False
    return not (age < 18 and not code.startswith(_CHILD_OK))


def _range_text(item: Item) -> str:
    lo, hi = item.props.get("low"), item.props.get("high")
    unit = escape(str(item.props.get("unit_display") or ""))
    if lo is not None and hi is not None:
        return f"{lo}–{hi} {unit}"
    if lo is not None:
        return f"&gt; {lo} {unit}"
    if hi is not None:
        return f"&lt; {hi} {unit}"
    return ""
