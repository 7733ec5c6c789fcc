"""A CI-SIS CDA medical summary (IPS-FR 2024.01, VSM 1.4) -> an IPS FHIR document Bundle.

The Bundle is what a FHIR import of the same summary stores: codes as sent (by OID), transcoded on
release like any stored summary; each section's narrative kept; every entry either mapped or listed
in the :class:`CdaReport`. Ids derive from the CDA document id, so the same CDA always gives the same
Bundle (re-importing it leaves the stored version unchanged).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

from gateway.records.cda.header import Volet, document_facts, organization, patient_resource, practitioner, volet_of
from gateway.records.cda.narrative import XHTML_DIV
from gateway.records.cda.reader import CdaError, Paths, find, parse_cda
from gateway.records.cda.sections import SectionResult, convert_section, flatten
from gateway.records.ips_validation import REQUIRED_SECTIONS
from terminology import systems

_NAMESPACE = uuid.UUID("8a4d1c2e-5b0f-4c7e-9d3a-6f1e2b7c9d01")
EMPTY_REASON = "http://terminology.hl7.org/CodeSystem/list-empty-reason"
CDA_MEDIA_TYPE = "application/hl7-cda+xml"
#: the IPS points to the original it was converted from (Composition.relatesTo "transforms")
ORIGINAL_IDENTIFIER_SYSTEM = "urn:ietf:rfc:3986"


@dataclass
class CdaReport:
    """What the conversion did with each part of the CDA document."""

    volet: Volet
    document_id: str
    sections: list[tuple[str, str, int, int]] = field(default_factory=list)  # (code, title, entries, mapped)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (XPath, what happened)
    unmapped: list[tuple[str, str]] = field(default_factory=list)  # entries kept in the narrative only
    partial: list[tuple[str, str]] = field(default_factory=list)  # coded details of mapped entries not carried
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Converted:
    bundle: dict[str, Any]
    report: CdaReport


def convert_cda(raw: bytes, country_system: str) -> Converted:
    """Parse (safely), check and convert one CDA document; :class:`CdaError` lists every refusal."""
    root = parse_cda(raw)
    return convert_root(root, raw, country_system)


def convert_root(root: Element, raw: bytes, country_system: str) -> Converted:
    """Check the parsed document's header and body, then convert it (ids derived from ``raw``)."""
    paths = Paths(root)
    volet = volet_of(root)
    facts = document_facts(root)
    problems, body = _header_problems(root, facts)
    try:
        patient, notes = patient_resource(root, paths, country_system)
    except CdaError as exc:
        raise CdaError(problems + exc.problems) from None
    if problems:
        raise CdaError(problems)
    assert body is not None  # a missing structuredBody is one of the problems
    report = CdaReport(volet, facts["id"], notes=[("/ClinicalDocument/recordTarget", n) for n in notes])
    seed = hashlib.sha256(raw).hexdigest()
    entries = _Entries(seed)
    composition_url, patient_url = entries.new_url(), entries.new_url()
    entries.items.append({"fullUrl": patient_url, "resource": patient})
    authors, custodian = _add_authors_and_custodian(root, entries)
    sections = _sections(body, paths, patient_url, entries, report)
    composition = _composition(facts, patient_url, authors, custodian, sections)
    bundle: dict[str, Any] = {
        "resourceType": "Bundle", "language": composition["language"],
        "identifier": {"system": ORIGINAL_IDENTIFIER_SYSTEM, "value": f"urn:uuid:{uuid.uuid5(_NAMESPACE, seed)}"},
        "type": "document", "timestamp": facts["date"],
        "entry": [{"fullUrl": composition_url, "resource": composition}] + entries.items,
    }
    return Converted(bundle, report)


class _Entries:
    """The Bundle's entries (the Composition apart), each with a URL derived from the document's digest."""

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self._counter = iter(range(1, 1_000_000))
        self.items: list[dict[str, Any]] = []

    def new_url(self) -> str:
        """The next entry's fullUrl (the same document always gives the same URLs)."""
        return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{self.seed}/{next(self._counter)}')}"

    def add(self, resource: dict[str, Any]) -> str:
        """Appends ``resource`` under a new URL and returns the URL."""
        url = self.new_url()
        self.items.append({"fullUrl": url, "resource": resource})
        return url


def _header_problems(root: Element, facts: dict[str, Any]) -> tuple[list[tuple[str, str]], Element | None]:
    """What the header lacks (id, effectiveTime, author, custodian, structuredBody), and the structuredBody."""
    problems: list[tuple[str, str]] = []
    if not facts["id"]:
        problems.append(("/ClinicalDocument/id", "the document has no id"))
    if not facts["date"]:
        problems.append(("/ClinicalDocument/effectiveTime", "the document has no (valid) effectiveTime"))
    if find(root, "h:author") is None:
        problems.append(("/ClinicalDocument/author", "the document has no author"))
    if find(root, "h:custodian") is None:
        problems.append(("/ClinicalDocument/custodian", "the document has no custodian"))
    body = find(root, "h:component/h:structuredBody")
    if body is None:
        where = "/ClinicalDocument/component/nonXMLBody" if find(root, "h:component/h:nonXMLBody") is not None \
            else "/ClinicalDocument/component"
        problems.append((where, "the document has no structuredBody (a CDA level-3 medical summary is required)"))
    return problems, body


def _add_authors_and_custodian(root: Element, entries: _Entries) -> tuple[list[dict[str, str]], str | None]:
    """The authors (practitioners, else the authoring organisation) and the custodian, added as entries."""
    authors = []
    for author in root.findall("{urn:hl7-org:v3}author"):
        person = practitioner(find(author, "h:assignedAuthor"))
        if person:
            authors.append({"reference": entries.add(person)})
    custodian_org = organization(find(root, "h:custodian/h:assignedCustodian/h:representedCustodianOrganization"))
    custodian = entries.add(custodian_org) if custodian_org else None
    if not authors:
        org = organization(find(root, "h:author/h:assignedAuthor/h:representedOrganization"))
        authors.append({"reference": entries.add(org or {"resourceType": "Organization", "name": "auteur"})})
    return authors, custodian


def _sections(body: Element, paths: Paths, patient_url: str, entries: _Entries,
              report: CdaReport) -> list[dict[str, Any]]:
    """The Composition's sections, their resources added as entries; a required IPS section absent is empty."""
    sections: list[dict[str, Any]] = []
    for section in flatten(body):
        result: SectionResult = convert_section(section, paths, patient_url)
        fhir_section: dict[str, Any] = {"title": result.title,
                                        "text": {"status": "additional", "div": result.div}}
        if result.code:
            fhir_section["code"] = {"coding": [{"system": systems.LOINC, "code": result.code}]}
        refs = []
        for resource in result.resources:
            url = entries.add(resource)
            if resource["resourceType"] not in ("Medication", "Device"):
                refs.append({"reference": url})
            _link(resource, entries.items)
        if refs:
            fhir_section["entry"] = refs
        elif result.code in REQUIRED_SECTIONS:  # IPS: entries or a reason; a narrative-only section is not a
            # statement that nothing is known ('nilknown'), only that no structured entry is available
            fhir_section["emptyReason"] = {"coding": [{"system": EMPTY_REASON, "code": "unavailable"}]}
        sections.append(fhir_section)
        _report_section(report, result)
    present = {s.get("code", {}).get("coding", [{}])[0].get("code") for s in sections}
    for code, name in REQUIRED_SECTIONS.items():
        if code not in present:
            sections.append({"title": name, "code": {"coding": [{"system": systems.LOINC, "code": code}]},
                             "text": {"status": "generated",
                                      "div": f"{XHTML_DIV}<p>Section absente du document d'origine</p></div>"},
                             "emptyReason": {"coding": [{"system": EMPTY_REASON, "code": "unavailable"}]}})
            report.notes.append(("/ClinicalDocument/component/structuredBody",
                                 f"required IPS section {name} ({code}) absent from the CDA: empty, reason 'unavailable'"))
    return sections


def _report_section(report: CdaReport, result: SectionResult) -> None:
    """What the conversion of one section did, into the report."""
    mapped = sum(1 for _, what in result.notes if what.startswith("mapped"))
    report.sections.append((result.code or "", result.title, result.entries, mapped))
    report.notes.extend(result.notes)
    report.unmapped.extend(n for n in result.notes if not n[1].startswith("mapped"))
    report.partial.extend(result.partial)
    report.attachments.extend(result.attachments)


def _composition(facts: dict[str, Any], patient_url: str, authors: list[dict[str, str]], custodian: str | None,
                 sections: list[dict[str, Any]]) -> dict[str, Any]:
    """The Composition of the converted document, pointing to the original it transforms."""
    composition: dict[str, Any] = {
        "resourceType": "Composition", "language": facts["language"] or "fr-FR", "status": "final",
        "type": {"coding": [{"system": systems.LOINC, "code": "60591-5", "display": "Patient summary Document"}]},
        "subject": {"reference": patient_url}, "date": facts["date"], "author": authors,
        "title": facts["title"],
        "relatesTo": [{"code": "transforms", "targetIdentifier": {"system": ORIGINAL_IDENTIFIER_SYSTEM,
                                                                   "value": _oid_uri(facts["id"])}}],
        "section": sections,
    }
    if facts["confidentiality"] in ("N", "R", "V", "L", "M", "U"):
        composition["confidentiality"] = facts["confidentiality"]
    if custodian:
        composition["custodian"] = {"reference": custodian}
    if facts["code"] and facts["code"].get("code") != "60591-5":
        composition["category"] = [{"coding": [facts["code"]]}]
    return composition


def _oid_uri(document_id: str) -> str:
    """``root^extension`` -> ``urn:oid:root`` (+ ``#extension``), the original's identifier."""
    root, _, extension = document_id.partition("^")
    prefix = "urn:oid:" if all(part.isdigit() for part in root.split(".")) else "urn:uuid:"
    return f"{prefix}{root.lower() if prefix == 'urn:uuid:' else root}" + (f"#{extension}" if extension else "")


def _link(resource: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    """MedicationStatement -> the Medication, DeviceUseStatement -> the Device made just before it."""
    if len(entries) < 2:
        return
    previous = entries[-2]
    if resource["resourceType"] == "MedicationStatement" and previous["resource"]["resourceType"] == "Medication":
        resource["medicationReference"] = {"reference": previous["fullUrl"]}
    if resource["resourceType"] == "DeviceUseStatement" and previous["resource"]["resourceType"] == "Device":
        resource["device"] = {"reference": previous["fullUrl"]}
