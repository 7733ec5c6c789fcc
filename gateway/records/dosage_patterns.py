"""Structured FHIR Dosage of each typical dosage of the synthetic medicines catalogue.

The catalogue (``terminology/sources/national/medicines.csv``) gives each medicine a typical dosage as
text in English and the national languages; the generator puts the national text in ``Dosage.text``
and, from this table keyed by the English text, the same instructions as structured elements, as a
national record system would. Two dosages are deliberately left as free text only: a cycle with a
pause and a loading dose followed by doses after each stool cannot be said with one ``Dosage``.
"""

from __future__ import annotations

import copy
from typing import Any

from terminology.systems import EDQM, UCUM

_UNITS = {"tablet": "15054000", "capsule": "15012000", "ampoule": "15002000", "drop": "15022000",
          "actuation": "15001000", "sachet": "15045000", "syringe": "15052000"}
_UNIT_NAMES = {"15054000": "Tablet", "15012000": "Capsule", "15002000": "Ampoule", "15022000": "Drop",
               "15001000": "Actuation", "15045000": "Sachet", "15052000": "Syringe"}


def _dose(value: int, unit: str) -> dict[str, Any]:
    code = _UNITS[unit]
    return {"value": value, "unit": _UNIT_NAMES[code], "system": EDQM, "code": code}


def _dosage(value: int | tuple[int, int] | None = None, unit: str = "tablet", *, frequency: int | None = None,
            frequency_max: int | None = None, period: int = 1, period_unit: str = "d", when: tuple[str, ...] = (),
            bounds_days: int | None = None, at_most_days: int | None = None, as_needed: bool = False,
            max_per_day: int | None = None) -> dict[str, Any]:
    dosage: dict[str, Any] = {}
    repeat: dict[str, Any] = {}
    if frequency is not None:
        repeat.update(frequency=frequency, period=period, periodUnit=period_unit)
        if frequency_max is not None:
            repeat["frequencyMax"] = frequency_max
    if when:
        repeat["when"] = list(when)
    if bounds_days is not None:
        repeat["boundsDuration"] = {"value": bounds_days, "unit": "days", "system": UCUM, "code": "d"}
    if at_most_days is not None:
        repeat["boundsRange"] = {"high": {"value": at_most_days, "unit": "days", "system": UCUM, "code": "d"}}
    if repeat:
        dosage["timing"] = {"repeat": repeat}
    if as_needed:
        dosage["asNeededBoolean"] = True
    if isinstance(value, tuple):
        dosage["doseAndRate"] = [{"doseRange": {"low": _dose(value[0], unit), "high": _dose(value[1], unit)}}]
    elif value is not None:
        dosage["doseAndRate"] = [{"doseQuantity": _dose(value, unit)}]
    if max_per_day is not None:
        dosage["maxDosePerPeriod"] = {"numerator": _dose(max_per_day, unit),
                                      "denominator": {"value": 1, "unit": "day", "system": UCUM, "code": "d"}}
    return dosage


#: English dosage text of the catalogue -> structured Dosage elements (route comes from the medicine)
STRUCTURED: dict[str, dict[str, Any]] = {
    "1 ampoule every 3 months": _dosage(1, "ampoule", frequency=1, period=3, period_unit="mo"),
    "1 capsule 3 times a day": _dosage(1, "capsule", frequency=3),
    "1 capsule 3 times a day for 7 days": _dosage(1, "capsule", frequency=3, bounds_days=7),
    "1 capsule once a day": _dosage(1, "capsule", frequency=1),
    "1 capsule once a day after breakfast": _dosage(1, "capsule", frequency=1, when=("PCM",)),
    "1 capsule once a day before breakfast": _dosage(1, "capsule", frequency=1, when=("ACM",)),
    "1 capsule up to 4 times a day if needed": _dosage(1, "capsule", as_needed=True, max_per_day=4),
    "1 drop in each affected eye once a day in the evening": _dosage(1, "drop", frequency=1, when=("EVE",)),
    "1 inhalation twice a day": _dosage(1, "actuation", frequency=2),
    "1 sachet once a day": _dosage(1, "sachet", frequency=1),
    "1 sachet twice a day after meals (no more than 15 days)": _dosage(1, "sachet", frequency=2, when=("PC",),
                                                                       at_most_days=15),
    "1 subcutaneous injection every 2 weeks": _dosage(1, "syringe", frequency=1, period=2, period_unit="wk"),
    "1 subcutaneous injection once a day": _dosage(1, "syringe", frequency=1),
    "1 tablet 3 times a day for 7 days": _dosage(1, frequency=3, bounds_days=7),
    "1 tablet at bedtime if needed": _dosage(1, when=("HS",), as_needed=True),
    "1 tablet once a day": _dosage(1, frequency=1),
    "1 tablet once a day at bedtime": _dosage(1, frequency=1, when=("HS",)),
    "1 tablet once a day before breakfast": _dosage(1, frequency=1, when=("ACM",)),
    "1 tablet once a day in the evening": _dosage(1, frequency=1, when=("EVE",)),
    "1 tablet once a day in the morning": _dosage(1, frequency=1, when=("MORN",)),
    "1 tablet once a day in the morning on an empty stomach": _dosage(1, frequency=1, when=("MORN", "ACM")),
    "1 tablet once a day with the evening meal": _dosage(1, frequency=1, when=("CV",)),
    "1 tablet once a week on an empty stomach": _dosage(1, frequency=1, period_unit="wk", when=("ACM",)),
    "1 tablet twice a day": _dosage(1, frequency=2),
    "1 tablet twice a day with meals": _dosage(1, frequency=2, when=("C",)),
    "1 tablet up to 3 times a day if needed": _dosage(1, as_needed=True, max_per_day=3),
    "1 tablet up to 3 times a day with meals": _dosage(1, frequency=1, frequency_max=3, when=("C",)),
    "1 tablet up to 4 times a day if needed": _dosage(1, as_needed=True, max_per_day=4),
    "1 to 2 puffs if needed": _dosage((1, 2), "actuation", as_needed=True),
    "1 to 2 sachets a day": _dosage(1, "sachet", frequency=1, frequency_max=2),
    "1 to 2 tablets up to 3 times a day if needed": _dosage((1, 2), frequency=1, frequency_max=3, as_needed=True),
    "2 tablets 3 times a day": _dosage(2, frequency=3),
    "20 units subcutaneously once a day in the evening": {
        **_dosage(frequency=1, when=("EVE",)),
        "doseAndRate": [{"doseQuantity": {"value": 20, "unit": "IU", "system": UCUM, "code": "[IU]"}}]},
    "4 drops once a day": _dosage(4, "drop", frequency=1),
    "4 tablets once a week (same day each week)": _dosage(4, frequency=1, period_unit="wk"),
    "Apply to the painful area 3 to 4 times a day": _dosage(frequency=3, frequency_max=4),
    "Inhale the content of 1 capsule once a day": _dosage(1, "capsule", frequency=1),
}
#: dosages that one structured Dosage cannot say: they stay free text (flagged as not translated)
FREE_TEXT_ONLY = frozenset({
    "1 tablet a day for 21 days then 7 days without",
    "2 capsules then 1 after each loose stool (max. 6 a day)",
})


def structured_dosage(dosage_en: str | None) -> dict[str, Any]:
    """The structured elements for a catalogue dosage (a fresh copy), or {} for free text only."""
    return copy.deepcopy(STRUCTURED.get(dosage_en or "", {}))
