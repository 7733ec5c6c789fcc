"""The patient summary as the clinician sees it (eHDSI patient-summary display guideline).

:func:`summary_view` turns a translated IPS document Bundle (``services.terminology.translate``)
into a header and sections in the guideline's order; every coded entry carries the term in the
clinician's language and, beside it, the original term, code and code system in the source language.
The portal's HTML template and the PDF both render this view; nothing here trusts the foreign
document: texts are escaped by the templates, narratives are sanitised (allow-list, ``gateway.records.narrative``).
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
_SLOT_TITLES = {
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


def _obj(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    """``value`` when it is a JSON string, else None."""
    return value if isinstance(value, str) else None


def _code(value: Any) -> str | None:
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


def _translation(holder: dict[str, Any] | None) -> tuple[str | None, str | None, str | None]:
    """(text, language, requested language when it fell back) of a FHIR translation extension."""
    for ext in _list(_obj(holder).get("extension")):
        if isinstance(ext, dict) and ext.get("url") == systems.EXT_TRANSLATION:
            parts = {_str(p.get("url")): p for p in _list(ext.get("extension")) if isinstance(p, dict)}
            content = _str(_obj(parts.get("content")).get("valueString"))
            lang = _str(_obj(parts.get("lang")).get("valueCode"))
            requested = _str(_obj(parts.get(systems.EXT_TRANSLATION_FALLBACK)).get("valueCode"))
            if content:
                return content, lang, requested
    return None, None, None


def _has_ext(node: Any, url: str) -> bool:
    return isinstance(node, dict) and any(isinstance(e, dict) and e.get("url") == url
                                          for e in _list(node.get("extension")))


class Builder:
    def __init__(self, bundle: dict[str, Any], language: str, locale: str,
                 term: terminology.Terminology | None = None) -> None:
        self.bundle = bundle
        self.language = language
        self.locale = locale
        self.term = term or terminology.load()
        self.source_lang = _str(bundle.get("language")) or _str(_composition(bundle).get("language")) or None
        self.by_ref: dict[str, dict[str, Any]] = {}
        for entry in _list(bundle.get("entry")):
            resource = _obj(entry).get("resource")
            if not isinstance(resource, dict):
                continue
            if _str(entry.get("fullUrl")):
                self.by_ref[entry["fullUrl"]] = resource
            kind, rid = _str(resource.get("resourceType")), _code(resource.get("id"))
            if kind and rid:
                self.by_ref[f"{kind}/{rid}"] = resource

    def resolve(self, reference: Any) -> dict[str, Any] | None:
        if isinstance(reference, dict):
            reference = reference.get("reference")
        return self.by_ref.get(reference) if isinstance(reference, str) else None

    def original_lang(self, coding: dict[str, Any]) -> str | None:
        system, display, code = _str(coding.get("system")), _str(coding.get("display")), _code(coding.get("code"))
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
        codings = [c for c in _list(cc.get("coding")) if isinstance(c, dict) and _code(c.get("code"))]
        best: tuple[int, str, str | None, str | None] | None = None
        for c in codings:
            system = _str(c.get("system")) or ""
            original = Original(_str(c.get("display")), str(_code(c.get("code"))), system, system_label(system),
                                self.original_lang(c))
            (view.pivots if _has_ext(c, systems.EXT_TRANSCODED) else view.originals).append(original)
            if _has_ext(c, systems.EXT_UNMAPPED):
                view.unmapped = True
            if _has_ext(c, systems.EXT_UNKNOWN_CODE) and not systems.is_standard_system(self.term.canonical(system)):
                view.unknown_code = True  # a SNOMED CT or LOINC code the catalogue lacks is only "not translated"
            text, lang, requested = _translation(c.get("_display"))
            if text:
                rank = 0 if requested is None and lang == self.language else 1
                if best is None or rank < best[0]:
                    best = (rank, text, lang, requested)
        if _has_ext(cc, systems.EXT_UNMAPPED):
            view.unmapped = True
        text, lang, requested = _translation(cc.get("_text"))
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
        text, lang, requested = _translation(resource.get(f"_{key}"))
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
        text, lang, requested = _translation(dosage.get("_text"))
        original = _str(dosage.get("text"))
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


def _composition(bundle: dict[str, Any]) -> dict[str, Any]:
    for entry in _list(bundle.get("entry")):
        resource = _obj(entry).get("resource")
        if isinstance(resource, dict) and resource.get("resourceType") == "Composition":
            return resource
    return {}


# --- entries per resource type -------------------------------------------------------------------------


@dataclass
class Column:
    key: str
    label: Any  # a lazy string


COLUMNS: dict[str, list[Column]] = {
    "AllergyIntolerance": [Column("agent", _l("Agent")), Column("reaction", _l("Reaction")),
                           Column("criticality", _l("Criticality")), Column("status", _l("Clinical status")),
                           Column("onset", _l("Onset"))],
    "Condition": [Column("problem", _l("Problem")), Column("status", _l("Clinical status")),
                  Column("onset", _l("Onset")), Column("end", _l("Resolution"))],
    "MedicationStatement": [Column("medicine", _l("Medicine")), Column("dosage", _l("Dosage")),
                            Column("route", _l("Route")), Column("start", _l("Since"))],
    "Immunization": [Column("vaccine", _l("Vaccine")), Column("disease", _l("Target disease")),
                     Column("dose", _l("Dose number")), Column("date", _l("Date"))],
    "Procedure": [Column("procedure", _l("Procedure")), Column("date", _l("Date"))],
    "DeviceUseStatement": [Column("device", _l("Device")), Column("start", _l("Since"))],
    "Observation": [Column("test", _l("Test or finding")), Column("value", _l("Value")),
                    Column("range", _l("Reference range")), Column("interpretation", _l("Interpretation")),
                    Column("date", _l("Date"))],
    "CarePlan": [Column("plan", _l("Plan")), Column("start", _l("Since"))],
    "Flag": [Column("alert", _l("Alert")), Column("start", _l("Since"))],
    "Other": [Column("item", _l("Item")), Column("date", _l("Date"))],
}
COLUMNS["MedicationRequest"] = COLUMNS["MedicationStatement"]
COLUMNS["ClinicalImpression"] = COLUMNS["Other"]
#: Caption of an entries table, by the kind of entry it holds.
KIND_LABELS = {
    "AllergyIntolerance": _l("Allergies and intolerances"), "Condition": _l("Problems"),
    "MedicationStatement": _l("Medicines"), "MedicationRequest": _l("Prescribed medicines"),
    "Immunization": _l("Vaccinations"), "Procedure": _l("Procedures"), "DeviceUseStatement": _l("Devices"),
    "Observation": _l("Observations"), "CarePlan": _l("Care plans"), "Flag": _l("Alerts"), "Other": _l("Other entries"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, KIND_LABELS["Other"]))


def _quantity(q: Any) -> str | None:
    value = _obj(q).get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    text = f"{value:g}" if isinstance(value, float) else str(value)
    unit = _str(q.get("unit")) or _str(q.get("code"))
    return f"{text} {unit}" if unit else text


def _first(items: Any) -> Any:
    return items[0] if isinstance(items, list) and items else None


def _start(r: dict[str, Any], key: str) -> Any:
    """The start of the period ``r[key]`` (nothing when it is not a JSON object)."""
    return _obj(r.get(key)).get("start")


def entry_row(b: Builder, r: dict[str, Any]) -> tuple[str, dict[str, ValueView]]:
    kind = _str(r.get("resourceType")) or "Other"
    if kind == "AllergyIntolerance":
        reactions = [m for rx in _list(r.get("reaction")) if isinstance(rx, dict)
                     for m in _list(rx.get("manifestation"))]
        onset = b.date(r.get("onsetDateTime"), _start(r, "onsetPeriod"))
        return kind, {"agent": b.coded(r.get("code")), "reaction": b.coded(_first(reactions)),
                      "criticality": b.fixed(r, "criticality"), "status": b.coded(r.get("clinicalStatus")),
                      "onset": onset if not onset.empty else b.free_text(r.get("onsetString"))}
    if kind == "Condition":
        return kind, {"problem": b.coded(r.get("code")), "status": b.coded(r.get("clinicalStatus")),
                      "onset": b.date(r.get("onsetDateTime"), _start(r, "onsetPeriod")),
                      "end": b.date(r.get("abatementDateTime"), _obj(r.get("abatementPeriod")).get("end"))}
    if kind in ("MedicationStatement", "MedicationRequest"):
        medicine = r.get("medicationCodeableConcept")
        if medicine is None:
            medicine = _obj(b.resolve(r.get("medicationReference"))).get("code")
        dosage = _obj(_first(_list(r.get("dosage")) or _list(r.get("dosageInstruction"))))
        return kind, {"medicine": b.coded(medicine), "dosage": b.dosage(dosage),
                      "route": b.coded(dosage.get("route")),
                      "start": b.date(_start(r, "effectivePeriod"), r.get("effectiveDateTime"), r.get("authoredOn"))}
    if kind == "Immunization":
        protocol = _obj(_first(r.get("protocolApplied")))
        return kind, {"vaccine": b.coded(r.get("vaccineCode")), "disease": b.coded(_first(protocol.get("targetDisease"))),
                      "dose": b.plain(protocol.get("doseNumberPositiveInt") or protocol.get("doseNumberString")),
                      "date": b.date(r.get("occurrenceDateTime"))}
    if kind == "Procedure":
        return kind, {"procedure": b.coded(r.get("code")),
                      "date": b.date(r.get("performedDateTime"), _start(r, "performedPeriod"))}
    if kind == "DeviceUseStatement":
        device = _obj(b.resolve(r.get("device")))
        return kind, {"device": b.coded(device.get("type")),
                      "start": b.date(r.get("timingDateTime"), _start(r, "timingPeriod"), r.get("recordedOn"))}
    if kind == "Observation":
        if _obj(r.get("valueQuantity")):
            value = b.plain(_quantity(r["valueQuantity"]))
        elif _obj(r.get("valueCodeableConcept")):
            value = b.coded(r["valueCodeableConcept"])
        elif _str(r.get("valueString")):
            value = b.free_text(r["valueString"])
        elif _list(r.get("component")):
            parts = [_quantity(c.get("valueQuantity")) for c in r["component"] if isinstance(c, dict)]
            units = {p.split(" ", 1)[1] for p in parts if p and " " in p}
            if parts and all(parts) and len(units) == 1:
                value = b.plain("/".join(p.split(" ", 1)[0] for p in parts if p) + " " + units.pop())
            else:
                value = b.plain(", ".join(p for p in parts if p))
        else:
            value = ValueView()
        rng = _obj(_first(r.get("referenceRange")))
        low, high = _quantity(rng.get("low")), _quantity(rng.get("high"))
        range_text = f"{low or ''} – {high or ''}".strip(" –") if (low or high) else _str(rng.get("text"))
        return kind, {"test": b.coded(r.get("code")), "value": value, "range": b.plain(range_text),
                      "interpretation": b.coded(_first(r.get("interpretation"))),
                      "date": b.date(r.get("effectiveDateTime"), _start(r, "effectivePeriod"))}
    if kind == "CarePlan":
        return kind, {"plan": b.free_text(_str(r.get("description")) or r.get("title")),
                      "start": b.date(_start(r, "period"))}
    if kind == "Flag":
        return kind, {"alert": b.coded(r.get("code")), "start": b.date(_start(r, "period"))}
    item = b.coded(r.get("code")) if isinstance(r.get("code"), dict) else b.free_text(r.get("description"))
    return "Other", {"item": item, "date": b.date(r.get("effectiveDateTime"), r.get("date"))}


# --- sections -------------------------------------------------------------------------------------------

_ABSENT_KNOWN = re.compile(r"^no-known-")


@dataclass
class Table:
    kind: str
    columns: list[Column]
    rows: list[dict[str, ValueView]]


@dataclass
class SectionView:
    code: str
    title: str
    title_translated: bool
    original_title: str | None
    original_lang: str | None
    present: bool
    tables: list[Table] = field(default_factory=list)
    known_absence: list[ValueView] = field(default_factory=list)  # "no known allergies"
    no_information: list[ValueView] = field(default_factory=list)  # "no information about allergies"
    empty_reason: ValueView | None = None
    narrative: Markup | None = None
    narrative_lang: str | None = None

    @property
    def anchor(self) -> str:
        return "section-" + re.sub(r"[^0-9a-z]", "-", self.code.lower())


def _section_code(section: dict[str, Any]) -> str:
    for c in _list(_obj(section.get("code")).get("coding")):
        if isinstance(c, dict) and c.get("system") == systems.LOINC and _code(c.get("code")):
            return str(_code(c["code"]))
    return ""


def _narrative_lang(text: dict[str, Any], fallback: str | None) -> str | None:
    for ext in _list(text.get("extension")):
        if isinstance(ext, dict) and ext.get("url") == systems.EXT_NARRATIVE_LANGUAGE and _str(ext.get("valueCode")):
            return str(ext["valueCode"])
    return fallback


def section_view(b: Builder, section: dict[str, Any] | None, code: str) -> SectionView:
    if section is None:  # the guideline's section is not in the document
        return SectionView(code=code, title=str(_SLOT_TITLES.get(code, code)), title_translated=True,
                           original_title=None, original_lang=None, present=False)
    if code in _SLOT_TITLES:  # the guideline's sections keep the interface's own headings
        translated, requested = str(_SLOT_TITLES[code]), None
    else:
        translated, _lang, requested = _translation(section.get("_title"))
    original_title = _str(section.get("title"))
    view = SectionView(code=code, title=translated or original_title or code,
                       title_translated=bool(translated) and requested is None,
                       original_title=original_title, original_lang=b.source_lang, present=True)
    tables: dict[str, Table] = {}
    for ref in _list(section.get("entry")):
        resource = b.resolve(ref)
        if resource is None:
            continue
        absent = _absence_code(resource)
        if absent:
            value = b.coded(resource.get("code") or resource.get("medicationCodeableConcept"))
            (view.known_absence if _ABSENT_KNOWN.match(absent) else view.no_information).append(value)
            continue
        kind, row = entry_row(b, resource)
        table = tables.get(kind)
        if table is None:
            table = tables[kind] = Table(kind, COLUMNS.get(kind, COLUMNS["Other"]), [])
        table.rows.append(row)
    view.tables = list(tables.values())
    if _obj(section.get("emptyReason")):
        view.empty_reason = b.coded(section["emptyReason"])
    text = section.get("text")
    if isinstance(text, dict) and isinstance(text.get("div"), str):
        view.narrative = sanitise_narrative(text["div"])
        view.narrative_lang = _narrative_lang(text, b.source_lang)
    return view


def _absence_code(resource: dict[str, Any]) -> str | None:
    for key in ("code", "medicationCodeableConcept"):
        for c in _list(_obj(resource.get(key)).get("coding")):
            if isinstance(c, dict) and c.get("system") == systems.ABSENT_UNKNOWN_UV_IPS:
                return _code(c.get("code")) or ""
    return None


# --- the whole view ---------------------------------------------------------------------------------------


@dataclass
class Header:
    family: str
    given: str
    identifiers: list[tuple[str, str]]
    birth_date: DateView | None
    gender: str
    country: str
    created: DateView | None
    updated: DateView | None
    language: str
    language_code: str | None
    author: str | None
    custodian: str | None


@dataclass
class SummaryView:
    header: Header
    sections: list[SectionView]
    coverage: str | None = None

    @property
    def flagged(self) -> int:
        count = 0
        for section in self.sections:
            for table in section.tables:
                for row in table.rows:
                    count += sum(1 for v in row.values() if v.coded and (v.untranslated or v.unmapped))
        return count


def _name(resource: dict[str, Any] | None) -> tuple[str, str]:
    """(family, given names) of the official name (else the first); a wrongly typed part is not stated:
    a ``given`` that is a string instead of a list is not spelt out letter by letter."""
    names = _list(_obj(resource).get("name"))
    official = _obj(next((n for n in names if isinstance(n, dict) and n.get("use") == "official"), _first(names)))
    given = [x for x in _list(official.get("given")) if isinstance(x, str) and x]
    return _str(official.get("family")) or "", " ".join(given)


def summary_view(bundle: dict[str, Any], language: str, *, country_code: str, country_label: str,
                 identifier_labels: dict[str, str], coverage: str | None = None,
                 term: terminology.Terminology | None = None) -> SummaryView:
    bundle = _obj(bundle)
    b = Builder(bundle, language, language, term)
    comp = _composition(bundle)
    patient = b.resolve(comp.get("subject")) or next(
        (e["resource"] for e in _list(bundle.get("entry"))
         if _obj(_obj(e).get("resource")).get("resourceType") == "Patient"), {})
    family, given = _name(patient)
    identifiers = []
    for i in _list(patient.get("identifier")):
        system, value = _str(_obj(i).get("system")) or "", _code(_obj(i).get("value"))
        if value:
            identifiers.append((identifier_labels.get(system, system), value))
    author = b.resolve(_first(comp.get("author")))
    custodian = b.resolve(comp.get("custodian"))
    author_name = " ".join(p for p in _name(author)[::-1] if p) if author and author.get("resourceType") != \
        "Organization" else _str(_obj(author).get("name"))
    gender = _str(patient.get("gender"))
    header = Header(
        family=family, given=given, identifiers=identifiers,
        birth_date=date_view(patient.get("birthDate"), language),
        gender=str(GENDERS.get(gender, gender)) if gender else _("Unknown"),
        country=country_label,
        created=date_view(_str(bundle.get("timestamp")) or comp.get("date"), language),
        updated=date_view(_str(_obj(bundle.get("meta")).get("lastUpdated")) or comp.get("date"), language),
        language=language_name(b.source_lang, language), language_code=b.source_lang,
        author=author_name or None, custodian=_str(_obj(custodian).get("name")),
    )
    sections_by_code: dict[str, list[dict[str, Any]]] = {}
    for s in _list(comp.get("section")):
        if isinstance(s, dict):
            sections_by_code.setdefault(_section_code(s), []).append(s)
    ordered: list[SectionView] = []
    for _slot, codes in SECTION_ORDER:
        for i, code in enumerate(codes):
            found = sections_by_code.pop(code, None)
            if found:
                ordered += [section_view(b, s, code) for s in found]
            elif i == 0:
                ordered.append(section_view(b, None, code))
    for code, found in sections_by_code.items():  # any other section, in the document's order
        ordered += [section_view(b, s, code) for s in found]
    return SummaryView(header=header, sections=ordered, coverage=coverage)
