"""The values of a foreign patient summary as the portal shows them: the guideline's section order and
labels, reading the foreign document (a wrongly typed element counts as absent), dates in the clinician's
locale, language and country names, and each coded or plain value (:class:`ValueView`) with its original
term, code and code system beside the translation (:class:`Builder`).

:mod:`gateway.surfaces.portal_view` assembles them into the summary's view.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_skeleton
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

import terminology
from gateway.records import narrative
from terminology import systems

# --- the guideline's order --------------------------------------------------------------------------

#: (slot, LOINC section codes): the first code is the section shown as missing when absent.
SECTION_ORDER: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("alerts", ("48765-2", "104605-1")),
    ("results", ("30954-2",)),
    ("problems", ("11450-4",)),
    ("medication", ("10160-0",)),
    ("devices", ("46264-8",)),
    ("procedures", ("47519-4",)),
    ("history", ("11348-0",)),
    ("vaccinations", ("11369-6",)),
    ("plan", ("18776-5",)),
    ("functional", ("47420-5",)),
    ("social", ("29762-2",)),
    ("pregnancy", ("10162-6",)),
    ("physical", ("8716-3",)),
)
SLOT_TITLES = {
    "48765-2": _l("Allergies and intolerances"), "104605-1": _l("Alerts"), "30954-2": _l("Results"),
    "11450-4": _l("Active problems"), "10160-0": _l("Medication summary"), "46264-8": _l("Medical devices"),
    "47519-4": _l("Procedures"), "11348-0": _l("History of past illness"), "11369-6": _l("Vaccinations"),
    "18776-5": _l("Plan of care"), "47420-5": _l("Functional status"), "29762-2": _l("Social history"),
    "10162-6": _l("History of pregnancies"), "8716-3": _l("Physical findings (vital signs)"),
}

GENDERS = {"female": _l("Female"), "male": _l("Male"), "other": _l("Other"), "unknown": _l("Unknown")}

SYSTEM_LABELS = {
    systems.SNOMED: "SNOMED CT", systems.LOINC: "LOINC", systems.ICD10: "ICD-10", systems.ATC: "ATC",
    systems.EDQM: "EDQM", systems.UCUM: "UCUM", systems.ORPHA: "ORPHAcode", systems.CIM10_FR: "CIM-10 (FR)",
    systems.CIP13_FR: "CIP13 (FR)", systems.ICD10GM_DE: "ICD-10-GM (DE)", systems.PZN_DE: "PZN (DE)",
    systems.ABSENT_UNKNOWN_UV_IPS: "IPS absent/unknown", systems.NULL_FLAVOR: "HL7 NullFlavor",
    systems.DATA_ABSENT_REASON: "HL7 data-absent-reason", systems.ISO3166: "ISO 3166", systems.ISO3166_EHDSI: "ISO 3166",
}

_HL7_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/"


# --- reading the foreign document: a wrongly typed element counts as absent ------------------------------


def as_obj(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str | None:
    """``value`` when it is a JSON string, else None."""
    return value if isinstance(value, str) else None


def as_code(value: Any) -> str | None:
    """A code as text: a non-empty string (or a number, as some senders write codes), else None."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def system_label(system: str) -> str:
    """A short name for a code system (the URI itself when it has none)."""
    if system in SYSTEM_LABELS:
        return SYSTEM_LABELS[system]
    if system.startswith(_HL7_CODE_SYSTEM):
        return "HL7 " + system[len(_HL7_CODE_SYSTEM):]
    return system


# --- sanitising foreign narratives -------------------------------------------------------------------

def sanitise_narrative(xhtml: str) -> Markup:
    """Untrusted XHTML reduced to the allow-list of :func:`gateway.records.narrative.sanitise`."""
    return Markup(narrative.sanitise(xhtml))  # noqa: S704 - the output of an allow-list sanitiser


# --- dates ------------------------------------------------------------------------------------------

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(.+))?)?)?$", re.ASCII)


@dataclass(frozen=True)
class DateView:
    text: str
    iso: str
    partial: bool  # only a year, or a year and a month


def date_view(value: Any, locale: str) -> DateView | None:
    """A FHIR date/dateTime for a reader: partial dates stay partial; full ones in the locale's format."""
    if not isinstance(value, str) or not value:
        return None
    match = _DATE.match(value.strip())
    if not match:
        return DateView(value[:40], "", False)
    year, month, day, time_part = match.groups()
    try:
        if month is None:
            return DateView(year, year, True)
        if day is None:
            d = dt.date(int(year), int(month), 1)
            return DateView(format_skeleton("yMM", d, locale=locale), f"{year}-{month}", True)
        d = dt.date(int(year), int(month), int(day))
        if time_part:
            try:
                moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
                return DateView(format_datetime(moment, "medium", tzinfo=moment.tzinfo, locale=locale), value, False)
            except ValueError:
                pass
        return DateView(format_date(d, "medium", locale=locale), d.isoformat(), False)
    except ValueError:
        return DateView(value[:40], "", False)


def language_name(code: str | None, locale: str) -> str:
    if not code:
        return _("not stated")
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(locale)
    except (ValueError, UnknownLocaleError):
        return code
    return name or code


def country_name(code: str, locale: str, fallback: str | None = None) -> str:
    try:
        return Locale.parse(locale).territories.get(code.upper()) or fallback or code
    except (ValueError, UnknownLocaleError):
        return fallback or code


# --- coded and plain values --------------------------------------------------------------------------


@dataclass
class Original:
    display: str | None
    code: str
    system: str
    system_label: str
    lang: str | None


@dataclass
class ValueView:
    """One value of an entry: coded (translated + originals), or plain text from the source, or a date."""

    translated: str | None = None
    translated_lang: str | None = None
    originals: list[Original] = field(default_factory=list)
    pivots: list[Original] = field(default_factory=list)
    text: str | None = None  # original free text (source language)
    text_lang: str | None = None
    date: DateView | None = None
    plain: str | None = None  # neutral content: numbers, units, dose numbers
    untranslated: bool = False  # shown in the source language, or in a fallback language
    fallback_lang: str | None = None
    unmapped: bool = False  # a national code without a European equivalent
    unknown_code: bool = False  # a code the terminology does not know

    @property
    def coded(self) -> bool:
        return bool(self.originals)

    @property
    def empty(self) -> bool:
        return not (self.translated or self.originals or self.text or self.date or self.plain)

    def as_text(self) -> str:
        """One line (PDF): translated term, then the original in brackets."""
        if self.date:
            return self.date.text
        if self.plain is not None:
            return self.plain
        parts = []
        if self.translated:
            parts.append(self.translated)
        originals = "; ".join(
            f"{o.display + ' — ' if o.display else ''}{o.system_label} {o.code}" for o in self.originals)
        if self.originals:
            parts.append(f"[{originals}]")
        if self.text and not self.translated and not self.originals:
            parts.append(self.text)
        elif self.text and (not self.originals or all((o.display or "").casefold() != self.text.casefold()
                                                      for o in self.originals)):
            parts.append(f"«{self.text}»")
        return " ".join(parts)


def translation_of(holder: dict[str, Any] | None) -> tuple[str | None, str | None, str | None]:
    """(text, language, requested language when it fell back) of a FHIR translation extension."""
    for ext in as_list(as_obj(holder).get("extension")):
        if isinstance(ext, dict) and ext.get("url") == systems.EXT_TRANSLATION:
            parts = {as_str(p.get("url")): p for p in as_list(ext.get("extension")) if isinstance(p, dict)}
            content = as_str(as_obj(parts.get("content")).get("valueString"))
            lang = as_str(as_obj(parts.get("lang")).get("valueCode"))
            requested = as_str(as_obj(parts.get(systems.EXT_TRANSLATION_FALLBACK)).get("valueCode"))
            if content:
                return content, lang, requested
    return None, None, None


def _has_ext(node: Any, url: str) -> bool:
    return isinstance(node, dict) and any(isinstance(e, dict) and e.get("url") == url
                                          for e in as_list(node.get("extension")))


class Builder:
    def __init__(self, bundle: dict[str, Any], language: str, locale: str,
                 term: terminology.Terminology | None = None) -> None:
        self.bundle = bundle
        self.language = language
        self.locale = locale
        self.term = term or terminology.load()
        self.source_lang = as_str(bundle.get("language")) or as_str(composition_of(bundle).get("language")) or None
        self.by_ref: dict[str, dict[str, Any]] = {}
        for entry in as_list(bundle.get("entry")):
            resource = as_obj(entry).get("resource")
            if not isinstance(resource, dict):
                continue
            if as_str(entry.get("fullUrl")):
                self.by_ref[entry["fullUrl"]] = resource
            kind, rid = as_str(resource.get("resourceType")), as_code(resource.get("id"))
            if kind and rid:
                self.by_ref[f"{kind}/{rid}"] = resource

    def resolve(self, reference: Any) -> dict[str, Any] | None:
        if isinstance(reference, dict):
            reference = reference.get("reference")
        return self.by_ref.get(reference) if isinstance(reference, str) else None

    def original_lang(self, coding: dict[str, Any]) -> str | None:
        system, display, code = as_str(coding.get("system")), as_str(coding.get("display")), as_code(coding.get("code"))
        if system in systems.NATIONAL_LANGUAGE:
            return systems.NATIONAL_LANGUAGE[system]
        concept = self.term.lookup(system, code) if system and code else None
        if concept is not None and display and concept.display and display.casefold() == concept.display.casefold():
            return "en"  # the international code system's own (English) display
        return self.source_lang

    def coded(self, cc: Any) -> ValueView:
        view = ValueView()
        if not isinstance(cc, dict):
            return view
        codings = [c for c in as_list(cc.get("coding")) if isinstance(c, dict) and as_code(c.get("code"))]
        best: tuple[int, str, str | None, str | None] | None = None
        for c in codings:
            system = as_str(c.get("system")) or ""
            original = Original(as_str(c.get("display")), str(as_code(c.get("code"))), system, system_label(system),
                                self.original_lang(c))
            (view.pivots if _has_ext(c, systems.EXT_TRANSCODED) else view.originals).append(original)
            if _has_ext(c, systems.EXT_UNMAPPED):
                view.unmapped = True
            if _has_ext(c, systems.EXT_UNKNOWN_CODE) and not systems.is_standard_system(self.term.canonical(system)):
                view.unknown_code = True  # a SNOMED CT or LOINC code the catalogue lacks is only "not translated"
            text, lang, requested = translation_of(c.get("_display"))
            if text:
                rank = 0 if requested is None and lang == self.language else 1
                if best is None or rank < best[0]:
                    best = (rank, text, lang, requested)
        if _has_ext(cc, systems.EXT_UNMAPPED):
            view.unmapped = True
        text, lang, requested = translation_of(cc.get("_text"))
        if text and (best is None or (requested is None and best[0] > 0)):
            best = (0 if requested is None else 1, text, lang, requested)
        if isinstance(cc.get("text"), str) and cc["text"].strip():
            view.text, view.text_lang = cc["text"], self.source_lang
        if best is not None:
            view.translated, view.translated_lang = best[1], best[2]
            if best[0] > 0:
                view.untranslated, view.fallback_lang = True, best[2]
        else:
            view.untranslated = True
        return view

    def fixed(self, resource: dict[str, Any], key: str) -> ValueView:
        """A code held in a plain FHIR element (``criticality``, ``status``) translated by the terminology."""
        value = resource.get(key)
        if not isinstance(value, str):
            return ValueView()
        text, lang, requested = translation_of(resource.get(f"_{key}"))
        view = ValueView(originals=[Original(value, value, "FHIR", "FHIR", "en")])
        if text:
            view.translated, view.translated_lang = text, lang
            view.untranslated = requested is not None
            view.fallback_lang = lang if requested else None
        else:
            view.untranslated = True
        return view

    def dosage(self, dosage: dict[str, Any]) -> ValueView:
        """The dosage sentence country B rendered from the structured Dosage in the reader's language,
        with the original text beside it; a free-text dosage alone stays in its language, flagged."""
        text, lang, requested = translation_of(dosage.get("_text"))
        original = as_str(dosage.get("text"))
        if text and requested is None and lang == self.language:
            return ValueView(translated=text, translated_lang=lang, text=original, text_lang=self.source_lang)
        return self.free_text(original)

    def free_text(self, value: Any) -> ValueView:
        if not isinstance(value, str) or not value.strip():
            return ValueView()
        return ValueView(text=value, text_lang=self.source_lang, untranslated=True)

    def date(self, *values: Any) -> ValueView:
        for value in values:
            view = date_view(value, self.locale)
            if view:
                return ValueView(date=view)
        return ValueView()

    def plain(self, value: Any) -> ValueView:
        """Neutral content (a number, a text such as a range): anything else counts as absent."""
        if isinstance(value, bool) or not isinstance(value, str | int | float) or value == "":
            return ValueView()
        return ValueView(plain=str(value))


def composition_of(bundle: dict[str, Any]) -> dict[str, Any]:
    for entry in as_list(bundle.get("entry")):
        resource = as_obj(entry).get("resource")
        if isinstance(resource, dict) and resource.get("resourceType") == "Composition":
            return resource
    return {}

