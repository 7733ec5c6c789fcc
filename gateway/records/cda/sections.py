"""CDA sections and their entries -> IPS FHIR resources.

Sections are taken wherever they sit (VSM nests them in container sections); each section keeps its
narrative. Each entry is turned into FHIR resources by the mapper of its section (by LOINC code);
an entry a mapper cannot read stays in the narrative and is returned as a note for the import report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

from gateway.records.cda.codes import original_text, system_for
from gateway.records.cda.entries import (
    Unmapped,
    advance_directive,
    allergy,
    care_plan,
    device,
    family_history,
    immunization,
    medication,
    observations,
    problem,
    procedure,
)
from gateway.records.cda.narrative import ids_index, to_xhtml
from gateway.records.cda.reader import HL7, Paths, attr, find, findall, local, text_of

#: FR-Documents-ajoutes: documents attached to the CDA (PDFs), kept in the original, not copied
ATTACHED_DOCUMENTS = "55107-7"


@dataclass
class SectionResult:
    code: str | None
    title: str
    div: str
    resources: list[dict[str, Any]] = field(default_factory=list)
    #: per CDA entry: (XPath, what was created or why it was not)
    notes: list[tuple[str, str]] = field(default_factory=list)
    #: coded details of mapped entries that no structured element carries: (XPath, what)
    partial: list[tuple[str, str]] = field(default_factory=list)
    entries: int = 0
    attachments: list[dict[str, Any]] = field(default_factory=list)


def flatten(body: Element) -> list[Element]:
    """Every section of the body in document order that has a narrative or entries."""
    result: list[Element] = []

    def walk(section: Element) -> None:
        if findall(section, "h:entry") or text_of(find(section, "h:text")):
            result.append(section)
        for sub in findall(section, "h:component/h:section"):
            walk(sub)

    for section in findall(body, "h:component/h:section"):
        walk(section)
    return result


def convert_section(section: Element, paths: Paths, patient_ref: str) -> SectionResult:
    code_el = find(section, "h:code")
    code = attr(code_el, "code")
    title = text_of(find(section, "h:title")) or attr(code_el, "displayName") or "Section"
    text = find(section, "h:text")
    narrative = ids_index(text)
    result = SectionResult(code, title, to_xhtml(text, title))
    mapper = MAPPERS.get(code or "")
    for entry in findall(section, "h:entry"):
        statements = [child for child in entry if local(child.tag) not in ("templateId", "id")]
        if not statements:
            continue
        statement = statements[0]
        result.entries += 1
        where = paths.of(statement)
        if code == ATTACHED_DOCUMENTS:
            result.attachments.extend(_attachments(statement, narrative))
            result.notes.append((where, "attached document kept in the original CDA document (not copied into the IPS)"))
            continue
        if mapper is None:
            result.notes.append((where, f"section {code} has no structured mapping: kept in the narrative"))
            continue
        try:
            made = mapper(statement, narrative, patient_ref, code or "")
        except Unmapped as exc:
            result.notes.append((where, f"{exc}: kept in the narrative"))
            continue
        result.resources.extend(made)
        result.notes.append((where, "mapped to " + ", ".join(r["resourceType"] for r in made)))
        result.partial.extend(_leftovers(statement, made, paths))
        result.partial.extend(_unmapped_dosage(statement, paths))
    return result


def _unmapped_dosage(statement: Element, paths: Paths) -> list[tuple[str, str]]:
    """Dose steps (nested administrations, e.g. a tapering) and maximum doses are not mapped to the Dosage:
    the report names them, so that nobody reads the structured dosage as the whole prescription."""
    if local(statement.tag) != "substanceAdministration":
        return []
    found = [(paths.of(e), "maximum dose not carried by a structured element: kept in the narrative")
             for e in findall(statement, "h:maxDoseQuantity")]
    found += [(paths.of(e), "dose step (a nested administration) not carried by a structured element: kept in the "
                            "narrative") for e in findall(statement, "h:entryRelationship/h:substanceAdministration")]
    return found


#: HL7 v3 structural vocabularies (ActCode, ActStatus...): read into FHIR elements, never reported
_STRUCTURAL = "2.16.840.1.113883.5."
#: the CI-SIS sub-entries whose value a mapper reads into FHIR elements (status, certainty, comment)
_READ_SUBENTRIES = {"33999-4", "66455-7", "48767-8", "82606-5"}


def _leftovers(statement: Element, made: list[dict[str, Any]], paths: Paths) -> list[tuple[str, str]]:
    """Coded details of the entry (e.g. a patient's clinical status, an imputability) that no resource made
    from it carries: they stay in the narrative, and the report names them."""
    carried = _codings(made)
    skip: set[int] = set()
    for observation in statement.iter(f"{{{HL7}}}observation"):
        kind = find(observation, "h:code")
        if kind is not None and (find(observation, "h:value") is not None or find(observation, "h:participant")
                                 is not None):
            skip.add(id(kind))  # the question of a question/answer pair (or the kind of an allergy)
            if attr(kind, "code") in _READ_SUBENTRIES:
                skip.add(id(find(observation, "h:value")))
    found = []
    for element in statement.iter():
        code, oid = element.get("code"), element.get("codeSystem")
        if not code or not oid or oid.startswith(_STRUCTURAL) or id(element) in skip or code in _READ_SUBENTRIES:
            continue
        if (system_for(oid), code) not in carried:
            shown = f" ({element.get('displayName')})" if element.get("displayName") else ""
            found.append((paths.of(element), f"{code}{shown} not carried by a structured element: kept in the narrative"))
    return found


def _codings(node: Any) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("system"), str) and isinstance(item.get("code"), str):
                found.add((item["system"], item["code"]))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _attachments(statement: Element, narrative: dict[str, str]) -> list[dict[str, Any]]:
    found = []
    for media in statement.iter("{urn:hl7-org:v3}observationMedia"):
        value = find(media, "h:value")
        title = next((original_text(o, narrative) for o in statement.iter("{urn:hl7-org:v3}observation")
                      if original_text(o, narrative)), None)
        found.append({"id": media.get("ID"), "media_type": attr(value, "mediaType"), "title": title})
    return found


MAPPERS: dict[str, Callable[[Element, dict[str, str], str, str], list[dict[str, Any]]]] = {
    "11450-4": problem, "11348-0": problem,
    "47519-4": procedure,
    "48765-2": allergy, "44939-7": allergy,
    "10160-0": medication,
    "46264-8": device,
    "47420-5": observations, "8716-3": observations, "29762-2": observations, "10162-6": observations,
    "44944-7": observations, "10161-8": observations,  # vigilance points, occupational risk factors (when coded)
    "30954-2": observations,
    "10157-6": family_history,
    "11369-6": immunization,
    "18776-5": care_plan,
    "42348-3": advance_directive,
}

__all__ = ["SectionResult", "convert_section", "flatten"]
