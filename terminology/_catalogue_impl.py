"""Builds catalogue entries from the loaded terminology (see :mod:`terminology.catalogue`)."""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from ._catalogue_data import SHARED
from .loader import load
from .model import Concept
from .systems import ATC, COUNTRY_LANGUAGE, EDQM, ICD10, NATIONAL_SYSTEMS, SNOMED


def build_entries(country: str, category: str) -> list[Concept]:
    return [copy.deepcopy(c) for c in _cached(country, category)]


@lru_cache(maxsize=64)
def _cached(country: str, category: str) -> tuple[Concept, ...]:
    term = load()
    lang = COUNTRY_LANGUAGE[country]
    out: list[Concept] = []
    if category in ("problem", "past_illness"):
        system = NATIONAL_SYSTEMS[country]["problem"]
        for code, props in term._properties.get(system, {}).items():
            cats = props.get("catalogue") or []
            cats = cats if isinstance(cats, list) else [cats]
            if category not in cats:
                continue
            icd = term.map_targets(system, code, ICD10)
            sct = term.map_targets(system, code, SNOMED)
            concept = term.lookup(system, code)
            assert concept is not None
            concept.properties = {
                "icd10": icd[0].code if icd else None,
                "icd10_display": icd[0].display if icd else None,
                "snomed": sct[0].code if sct else None,
                "chronic": bool(props.get("chronic")),
            }
            out.append(concept)
    elif category == "medication":
        system = NATIONAL_SYSTEMS[country]["medication"]
        for code, props in term._properties.get(system, {}).items():
            concept = term.lookup(system, code)
            assert concept is not None
            atc, form, route = props["atc"], props["doseForm"], props["route"]
            indication = props.get("indication")
            concept.properties = {
                "atc": atc["code"],
                "atc_display": atc.get("display"),
                "dose_form": form["code"],
                "dose_form_display": term.display(EDQM, form["code"], lang)[0],
                "route": route["code"],
                "route_display": term.display(EDQM, route["code"], lang)[0],
                "strength": props.get("strength"),
                "dosage": props.get("dosage"),
                "dosage_en": props.get("dosageEn"),
                "indication_icd10": indication["code"] if isinstance(indication, dict) else None,
            }
            out.append(concept)
    else:
        for system, code, display_en, props in SHARED[category]:
            concept = term.lookup(system, code) or Concept(system, code, display_en)
            concept.display = term.display(system, code, lang)[0] or display_en
            concept.properties = _complete(category, dict(props))
            if category == "vaccine" and props.get("atc"):
                concept.properties["atc_display"] = term.display(ATC, props["atc"], lang)[0]
            out.append(concept)
    return tuple(out)


_DEFAULTS: dict[str, dict[str, Any]] = {
    "allergy_agent": {"category": None, "type": "allergy"},
    "allergy_reaction": {"severity": None},
    "vaccine": {"atc": None, "target_disease": None, "doses": 1},
    "procedure": {"body_site": None},
    "lab_result": {"unit": None, "unit_display": None, "low": None, "high": None, "min": None, "max": None,
                   "decimals": 0, "value_type": "Quantity"},
    "social_history": {"value_system": None, "value_codes": [], "unit": None, "ehdsi_code": None},
    "pregnancy": {"kind": None},
}
_DEFAULTS["vital_sign"] = _DEFAULTS["lab_result"]


def _complete(category: str, props: dict[str, Any]) -> dict[str, Any]:
    return {**_DEFAULTS.get(category, {}), **props}
