"""A structured FHIR ``Dosage`` as one sentence in the reader's language.

``render_dosage(dosage, "de")`` turns dose and rate, ``timing.repeat`` (frequency, period, ``when``,
days of week, times of day, bounds, count, duration), ``timing.code``, route, site, method, "as
needed" (with its reason) and the maximum dose per period into fragments separated by commas:
``1 × Tablette, zweimal täglich, morgens, abends, Zum Einnehmen``.

It renders only what it can say completely in that language: a Dosage with an element it does not
know (``timing.event``, ``offset``, ``maxDosePerAdministration``…), or a coded part the terminology
cannot display in the language, gives ``None``, and the free text stays the only dosage (in its own
language, flagged as not translated). The original ``Dosage.text`` is never replaced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from babel.units import format_unit

from . import dosage_phrases as P
from .loader import Terminology, check_language, load
from .systems import EDQM, UCUM

#: Dosage elements a sentence can say (others make ``render_dosage`` give up)
_DOSAGE_KEYS = frozenset({"id", "extension", "sequence", "text", "patientInstruction", "timing", "asNeededBoolean",
                          "asNeededCodeableConcept", "route", "site", "method", "doseAndRate", "maxDosePerPeriod",
                          "additionalInstruction"})
#: at least one of these makes a dosage worth a sentence
_POSOLOGY_KEYS = frozenset({"doseAndRate", "timing", "asNeededBoolean", "asNeededCodeableConcept", "maxDosePerPeriod"})
_REPEAT_KEYS = frozenset({"id", "extension", "boundsDuration", "boundsRange", "boundsPeriod", "count", "duration",
                          "durationUnit", "frequency", "frequencyMax", "period", "periodUnit", "dayOfWeek",
                          "timeOfDay", "when"})
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_UCUM_TIME = {"s": "s", "min": "min", "h": "h", "d": "d", "wk": "wk", "mo": "mo", "a": "a"}
#: UCUM annotations for units of presentation (CI-SIS CDA writes {tablet}) -> EDQM unit of presentation
_ANNOTATED_UNITS = {"{tablet}": "15054000", "{tbl}": "15054000", "{capsule}": "15012000", "{caps}": "15012000",
                    "{drop}": "15022000", "{drp}": "15022000", "{puff}": "15001000", "{actuat}": "15001000",
                    "{sachet}": "15045000", "{ampoule}": "15002000", "{ampule}": "15002000"}


class _CannotSay(Exception):
    """Something of the Dosage cannot be said completely in the language."""


def render_dosage(dosage: Mapping[str, Any], language: str, terminology: Terminology | None = None) -> str | None:
    """The Dosage as one sentence in ``language`` (fr, de, …), or ``None`` when it has no structured
    part or has one that cannot be said completely in that language."""
    lang = check_language(language)
    if not isinstance(dosage, Mapping) or set(dosage) - _DOSAGE_KEYS or not set(dosage) & _POSOLOGY_KEYS:
        return None  # unknown elements, or nothing of the posology itself (a route alone is no dosage)
    try:
        fragments = _Sentence(lang, terminology or load()).fragments(dosage)
    except _CannotSay:
        return None
    return ", ".join(fragments) or None


class _Sentence:
    def __init__(self, lang: str, term: Terminology) -> None:
        self.lang = lang
        self.term = term

    def fragments(self, dosage: Mapping[str, Any]) -> list[str]:
        out: list[str] = []
        for dose_rate in _items(dosage.get("doseAndRate")):
            if set(dose_rate) - {"id", "extension", "type", "doseQuantity", "doseRange", "rateQuantity", "rateRange",
                                 "rateRatio"}:
                raise _CannotSay
            if "doseQuantity" in dose_rate:
                out.append(self.quantity(dose_rate["doseQuantity"]))
            elif "doseRange" in dose_rate:
                out.append(self.range(dose_rate["doseRange"]))
            rate = self.rate(dose_rate)
            if rate:
                out.append(P.RATE[self.lang].format(q=rate))
        timing = dosage.get("timing")
        if timing is not None:
            out.extend(self.timing(_mapping(timing)))
        for key in ("route", "site", "method"):
            if key in dosage:
                out.append(self.coded(dosage[key]))
        for instruction in _items(dosage.get("additionalInstruction")):
            out.append(self.coded(instruction))
        if dosage.get("asNeededBoolean") is True:
            out.append(P.AS_NEEDED[self.lang])
        elif "asNeededCodeableConcept" in dosage:
            out.append(f"{P.AS_NEEDED[self.lang]} ({self.coded(dosage['asNeededCodeableConcept'])})")
        if "maxDosePerPeriod" in dosage:
            out.append(self.max_per_period(_mapping(dosage["maxDosePerPeriod"])))
        return out

    # --------------------------------------------------------------------------- timing
    def timing(self, timing: Mapping[str, Any]) -> list[str]:
        if set(timing) - {"id", "extension", "repeat", "code"}:
            raise _CannotSay
        repeat = dict(_mapping(timing.get("repeat", {})))
        if set(repeat) - _REPEAT_KEYS:
            raise _CannotSay
        if "code" in timing:
            self.timing_code(timing["code"], repeat)
        out: list[str] = []
        if "frequency" in repeat or "period" in repeat:
            out.append(self.frequency(repeat))
        for event in _items(repeat.get("when"), str):
            if event not in P.WHEN:
                raise _CannotSay
            out.append(P.WHEN[event][self.lang])
        days = _items(repeat.get("dayOfWeek"), str)
        if days:
            names = Locale.parse(self.lang).days["format"]["wide"]
            if any(d not in _DAYS for d in days):
                raise _CannotSay
            out.append(", ".join(names[_DAYS.index(d)] for d in days))
        times = _items(repeat.get("timeOfDay"), str)
        if times:
            out.append(P.AT_TIME[self.lang].format(t=", ".join(self.time(t) for t in times)))
        if "duration" in repeat:
            out.append(P.OVER[self.lang].format(d=self.duration(repeat["duration"], repeat.get("durationUnit"))))
        if "count" in repeat:
            out.append(P.COUNT[self.lang].format(n=self.number(repeat["count"])))
        out.extend(self.bounds(repeat))
        return out

    def timing_code(self, code: Any, repeat: dict[str, Any]) -> None:
        """A GTS abbreviation (BID, TID...) as the repeat it stands for (explicit repeat elements win)."""
        codes = [c.get("code") for c in _items(_mapping(code).get("coding"), Mapping)]
        meaning = next((P.TIMING_CODES[c] for c in codes if c in P.TIMING_CODES), None)
        if meaning is None:
            raise _CannotSay
        if isinstance(meaning, str):
            repeat.setdefault("when", [meaning])
        else:
            frequency, period, unit = meaning
            repeat.setdefault("frequency", frequency)
            repeat.setdefault("period", period)
            repeat.setdefault("periodUnit", unit)

    def frequency(self, repeat: Mapping[str, Any]) -> str:
        frequency, frequency_max = repeat.get("frequency", 1), repeat.get("frequencyMax")
        period, unit = repeat.get("period", 1), repeat.get("periodUnit")
        if unit not in P.CLDR_UNIT or not _is_number(frequency) or not _is_number(period):
            raise _CannotSay
        if frequency_max is not None:
            if not _is_number(frequency_max):
                raise _CannotSay
            times = P.TIMES_RANGE[self.lang].format(n=self.number(frequency), m=self.number(frequency_max))
        else:
            once, twice, many = P.TIMES[self.lang]
            times = once if frequency == 1 else twice if frequency == 2 else many.format(n=self.number(frequency))
        if period == 1:
            return f"{times} {P.PER[self.lang][unit]}"
        every = (P.EVERY_FR[unit] if self.lang == "fr" else P.EVERY[self.lang]).format(d=self.duration(period, unit))
        return every if frequency == 1 and frequency_max is None else f"{times} {every}"

    def bounds(self, repeat: Mapping[str, Any]) -> list[str]:
        if "boundsDuration" in repeat:
            return [P.FOR[self.lang].format(d=self.duration_quantity(repeat["boundsDuration"]))]
        if "boundsRange" in repeat:
            bounds = _mapping(repeat["boundsRange"])
            if set(bounds) - {"high"}:
                raise _CannotSay
            return [P.FOR_AT_MOST[self.lang].format(d=self.duration_quantity(bounds["high"]))]
        if "boundsPeriod" in repeat:
            period = _mapping(repeat["boundsPeriod"])
            start, end = period.get("start"), period.get("end")
            if start and end:
                return [P.FROM_TO[self.lang].format(a=self.date(start), b=self.date(end))]
            if start:
                return [P.FROM[self.lang].format(a=self.date(start))]
            if end:
                return [P.UNTIL[self.lang].format(b=self.date(end))]
            raise _CannotSay
        return []

    # --------------------------------------------------------------------------- quantities
    def quantity(self, quantity: Any) -> str:
        q = _mapping(quantity)
        if set(q) - {"id", "extension", "value", "unit", "system", "code"} or not _is_number(q.get("value")):
            raise _CannotSay
        value = self.number(q["value"])
        system, code = q.get("system"), q.get("code")
        if system == UCUM and isinstance(code, str) and code and not any(ch in code for ch in "[]{}"):
            return f"{value} {code}"  # a plain UCUM symbol (mg, mL, mg/kg) reads the same everywhere
        if system in (UCUM, None) and code in _ANNOTATED_UNITS:
            return f"{value} × {self.display(EDQM, _ANNOTATED_UNITS[code])}"
        if isinstance(system, str) and isinstance(code, str) and system in (EDQM, UCUM):
            return f"{value} × {self.display(system, code)}"  # a unit of presentation, or a bracketed unit
        if not system and not code and not q.get("unit"):
            return value  # a bare number of units
        raise _CannotSay

    def range(self, value: Any) -> str:
        r = _mapping(value)
        low, high = _mapping(r.get("low", {})), _mapping(r.get("high", {}))
        if not low or not high or low.get("code") != high.get("code") or low.get("system") != high.get("system"):
            raise _CannotSay
        unit_part = self.quantity(high)[len(self.number(high["value"])):]
        return P.RANGE[self.lang].format(a=self.number(low.get("value")), b=self.number(high["value"])) + unit_part

    def rate(self, dose_rate: Mapping[str, Any]) -> str | None:
        if "rateQuantity" in dose_rate:
            return self.quantity(dose_rate["rateQuantity"])
        if "rateRange" in dose_rate:
            return self.range(dose_rate["rateRange"])
        if "rateRatio" in dose_rate:
            ratio = _mapping(dose_rate["rateRatio"])
            return self.ratio(ratio)
        return None

    def ratio(self, ratio: Mapping[str, Any]) -> str:
        denominator = _mapping(ratio.get("denominator", {}))
        numerator = self.quantity(ratio.get("numerator"))
        unit = denominator.get("code") if denominator.get("system") == UCUM else None
        unit = next((k for k, v in _UCUM_TIME.items() if v == unit), None)
        if unit is None or not _is_number(denominator.get("value")):
            raise _CannotSay
        if denominator["value"] == 1:
            return f"{numerator} {P.PER[self.lang][unit]}"
        return f"{numerator} {P.PER_DURATION[self.lang].format(d=self.duration(denominator['value'], unit))}"

    def max_per_period(self, ratio: Mapping[str, Any]) -> str:
        text = self.ratio(ratio)
        numerator = self.quantity(ratio.get("numerator"))
        return P.MAX_PER[self.lang].format(q=numerator, per=text[len(numerator):].strip())

    def duration(self, value: Any, unit: Any) -> str:
        if unit not in P.CLDR_UNIT or not _is_number(value):
            raise _CannotSay
        return format_unit(value, P.CLDR_UNIT[unit], locale=self.lang)

    def duration_quantity(self, quantity: Any) -> str:
        q = _mapping(quantity)
        unit = q.get("code") if q.get("system") in (UCUM, None) else None
        return self.duration(q.get("value"), unit)

    def number(self, value: Any) -> str:
        if not _is_number(value):
            raise _CannotSay
        return format_decimal(value, locale=self.lang)

    def time(self, value: str) -> str:
        try:
            return format_time(dt.time.fromisoformat(value), "short", locale=self.lang)
        except ValueError as exc:
            raise _CannotSay from exc

    def date(self, value: Any) -> str:
        if not isinstance(value, str) or len(value) < 10:
            raise _CannotSay  # partial dates are said by the portal, not in a sentence
        try:
            return format_date(dt.date.fromisoformat(value[:10]), "medium", locale=self.lang)
        except ValueError as exc:
            raise _CannotSay from exc

    # --------------------------------------------------------------------------- coded parts
    def coded(self, value: Any) -> str:
        for coding in _items(_mapping(value).get("coding"), Mapping):
            system, code = coding.get("system"), coding.get("code")
            if isinstance(system, str) and isinstance(code, str):
                text, used, fell_back = self.term.display(system, code, self.lang)
                if text and not fell_back and used == self.lang:
                    return text
        raise _CannotSay

    def display(self, system: str, code: str) -> str:
        text, used, fell_back = self.term.display(system, code, self.lang)
        if not text or fell_back or used != self.lang:
            raise _CannotSay
        return text


def _mapping(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _CannotSay
    return value


def _items(value: Any, kind: type = Mapping) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, kind) for v in value):
        raise _CannotSay
    return value


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return value >= 0
    try:
        return isinstance(value, Decimal) and Decimal(value) >= 0
    except InvalidOperation:
        return False
