"""The patient summary as the clinician sees it (eHDSI patient-summary display guideline).

:func:`summary_view` turns a translated IPS document Bundle (``services.terminology.translate``)
into a header and sections in the guideline's order; every coded entry carries the term in the
clinician's language and, beside it, the original term, code and code system in the source language.
The portal's HTML template and the PDF both render this view; nothing here trusts the foreign
document: texts are escaped by the templates, narratives are sanitised (allow-list, ``gateway.records.narrative``).

The values themselves (labels, dates, names, each coded value beside its original) are
:mod:`gateway.surfaces.portal_values`; the names the portal, the PDF and the tests use are re-exported here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

import terminology
from gateway.surfaces.portal_values import (
    GENDERS,
    SECTION_ORDER,
    SLOT_TITLES,
    Builder,
    DateView,
    ValueView,
    as_code,
    as_list,
    as_obj,
    as_str,
    composition_of,
    country_name,
    date_view,
    language_name,
    sanitise_narrative,
    translation_of,
)
from terminology import systems

__all__ = ["GENDERS", "SECTION_ORDER", "Builder", "DateView", "SectionView", "SummaryView", "Table", "ValueView",
           "country_name", "date_view", "kind_label", "language_name", "summary_view"]


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
    value = as_obj(q).get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    text = f"{value:g}" if isinstance(value, float) else str(value)
    unit = as_str(q.get("unit")) or as_str(q.get("code"))
    return f"{text} {unit}" if unit else text


def _first(items: Any) -> Any:
    return items[0] if isinstance(items, list) and items else None


def _start(r: dict[str, Any], key: str) -> Any:
    """The start of the period ``r[key]`` (nothing when it is not a JSON object)."""
    return as_obj(r.get(key)).get("start")


def entry_row(b: Builder, r: dict[str, Any]) -> tuple[str, dict[str, ValueView]]:
    kind = as_str(r.get("resourceType")) or "Other"
    if kind == "AllergyIntolerance":
        reactions = [m for rx in as_list(r.get("reaction")) if isinstance(rx, dict)
                     for m in as_list(rx.get("manifestation"))]
        onset = b.date(r.get("onsetDateTime"), _start(r, "onsetPeriod"))
        return kind, {"agent": b.coded(r.get("code")), "reaction": b.coded(_first(reactions)),
                      "criticality": b.fixed(r, "criticality"), "status": b.coded(r.get("clinicalStatus")),
                      "onset": onset if not onset.empty else b.free_text(r.get("onsetString"))}
    if kind == "Condition":
        return kind, {"problem": b.coded(r.get("code")), "status": b.coded(r.get("clinicalStatus")),
                      "onset": b.date(r.get("onsetDateTime"), _start(r, "onsetPeriod")),
                      "end": b.date(r.get("abatementDateTime"), as_obj(r.get("abatementPeriod")).get("end"))}
    if kind in ("MedicationStatement", "MedicationRequest"):
        medicine = r.get("medicationCodeableConcept")
        if medicine is None:
            medicine = as_obj(b.resolve(r.get("medicationReference"))).get("code")
        dosage = as_obj(_first(as_list(r.get("dosage")) or as_list(r.get("dosageInstruction"))))
        return kind, {"medicine": b.coded(medicine), "dosage": b.dosage(dosage),
                      "route": b.coded(dosage.get("route")),
                      "start": b.date(_start(r, "effectivePeriod"), r.get("effectiveDateTime"), r.get("authoredOn"))}
    if kind == "Immunization":
        protocol = as_obj(_first(r.get("protocolApplied")))
        return kind, {"vaccine": b.coded(r.get("vaccineCode")), "disease": b.coded(_first(protocol.get("targetDisease"))),
                      "dose": b.plain(protocol.get("doseNumberPositiveInt") or protocol.get("doseNumberString")),
                      "date": b.date(r.get("occurrenceDateTime"))}
    if kind == "Procedure":
        return kind, {"procedure": b.coded(r.get("code")),
                      "date": b.date(r.get("performedDateTime"), _start(r, "performedPeriod"))}
    if kind == "DeviceUseStatement":
        device = as_obj(b.resolve(r.get("device")))
        return kind, {"device": b.coded(device.get("type")),
                      "start": b.date(r.get("timingDateTime"), _start(r, "timingPeriod"), r.get("recordedOn"))}
    if kind == "Observation":
        if as_obj(r.get("valueQuantity")):
            value = b.plain(_quantity(r["valueQuantity"]))
        elif as_obj(r.get("valueCodeableConcept")):
            value = b.coded(r["valueCodeableConcept"])
        elif as_str(r.get("valueString")):
            value = b.free_text(r["valueString"])
        elif as_list(r.get("component")):
            parts = [_quantity(c.get("valueQuantity")) for c in r["component"] if isinstance(c, dict)]
            units = {p.split(" ", 1)[1] for p in parts if p and " " in p}
            if parts and all(parts) and len(units) == 1:
                value = b.plain("/".join(p.split(" ", 1)[0] for p in parts if p) + " " + units.pop())
            else:
                value = b.plain(", ".join(p for p in parts if p))
        else:
            value = ValueView()
        rng = as_obj(_first(r.get("referenceRange")))
        low, high = _quantity(rng.get("low")), _quantity(rng.get("high"))
        range_text = f"{low or ''} – {high or ''}".strip(" –") if (low or high) else as_str(rng.get("text"))
        return kind, {"test": b.coded(r.get("code")), "value": value, "range": b.plain(range_text),
                      "interpretation": b.coded(_first(r.get("interpretation"))),
                      "date": b.date(r.get("effectiveDateTime"), _start(r, "effectivePeriod"))}
    if kind == "CarePlan":
        return kind, {"plan": b.free_text(as_str(r.get("description")) or r.get("title")),
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
    for c in as_list(as_obj(section.get("code")).get("coding")):
        if isinstance(c, dict) and c.get("system") == systems.LOINC and as_code(c.get("code")):
            return str(as_code(c["code"]))
    return ""


def _narrative_lang(text: dict[str, Any], fallback: str | None) -> str | None:
    for ext in as_list(text.get("extension")):
        if isinstance(ext, dict) and ext.get("url") == systems.EXT_NARRATIVE_LANGUAGE and as_str(ext.get("valueCode")):
            return str(ext["valueCode"])
    return fallback


def section_view(b: Builder, section: dict[str, Any] | None, code: str) -> SectionView:
    if section is None:  # the guideline's section is not in the document
        return SectionView(code=code, title=str(SLOT_TITLES.get(code, code)), title_translated=True,
                           original_title=None, original_lang=None, present=False)
    if code in SLOT_TITLES:  # the guideline's sections keep the interface's own headings
        translated, requested = str(SLOT_TITLES[code]), None
    else:
        translated, _lang, requested = translation_of(section.get("_title"))
    original_title = as_str(section.get("title"))
    view = SectionView(code=code, title=translated or original_title or code,
                       title_translated=bool(translated) and requested is None,
                       original_title=original_title, original_lang=b.source_lang, present=True)
    tables: dict[str, Table] = {}
    for ref in as_list(section.get("entry")):
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
    if as_obj(section.get("emptyReason")):
        view.empty_reason = b.coded(section["emptyReason"])
    text = section.get("text")
    if isinstance(text, dict) and isinstance(text.get("div"), str):
        view.narrative = sanitise_narrative(text["div"])
        view.narrative_lang = _narrative_lang(text, b.source_lang)
    return view


def _absence_code(resource: dict[str, Any]) -> str | None:
    for key in ("code", "medicationCodeableConcept"):
        for c in as_list(as_obj(resource.get(key)).get("coding")):
            if isinstance(c, dict) and c.get("system") == systems.ABSENT_UNKNOWN_UV_IPS:
                return as_code(c.get("code")) or ""
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
    names = as_list(as_obj(resource).get("name"))
    official = as_obj(next((n for n in names if isinstance(n, dict) and n.get("use") == "official"), _first(names)))
    given = [x for x in as_list(official.get("given")) if isinstance(x, str) and x]
    return as_str(official.get("family")) or "", " ".join(given)


def summary_view(bundle: dict[str, Any], language: str, *, country_code: str, country_label: str,
                 identifier_labels: dict[str, str], coverage: str | None = None,
                 term: terminology.Terminology | None = None) -> SummaryView:
    bundle = as_obj(bundle)
    b = Builder(bundle, language, language, term)
    comp = composition_of(bundle)
    patient = b.resolve(comp.get("subject")) or next(
        (e["resource"] for e in as_list(bundle.get("entry"))
         if as_obj(as_obj(e).get("resource")).get("resourceType") == "Patient"), {})
    family, given = _name(patient)
    identifiers = []
    for i in as_list(patient.get("identifier")):
        system, value = as_str(as_obj(i).get("system")) or "", as_code(as_obj(i).get("value"))
        if value:
            identifiers.append((identifier_labels.get(system, system), value))
    author = b.resolve(_first(comp.get("author")))
    custodian = b.resolve(comp.get("custodian"))
    author_name = " ".join(p for p in _name(author)[::-1] if p) if author and author.get("resourceType") != \
        "Organization" else as_str(as_obj(author).get("name"))
    gender = as_str(patient.get("gender"))
    header = Header(
        family=family, given=given, identifiers=identifiers,
        birth_date=date_view(patient.get("birthDate"), language),
        gender=str(GENDERS.get(gender, gender)) if gender else _("Unknown"),
        country=country_label,
        created=date_view(as_str(bundle.get("timestamp")) or comp.get("date"), language),
        updated=date_view(as_str(as_obj(bundle.get("meta")).get("lastUpdated")) or comp.get("date"), language),
        language=language_name(b.source_lang, language), language_code=b.source_lang,
        author=author_name or None, custodian=as_str(as_obj(custodian).get("name")),
    )
    sections_by_code: dict[str, list[dict[str, Any]]] = {}
    for s in as_list(comp.get("section")):
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
