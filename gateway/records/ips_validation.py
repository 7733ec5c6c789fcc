"""Validation of HL7 FHIR R4 International Patient Summary documents.

:func:`validate_ips` checks a parsed document in two passes and returns every problem found, each
with the JSON path of the offending element (``$.entry[0].resource.section[2].code``):

1. the ``fhir.resources.R4B`` Bundle model (structure, data types, required elements, unknown
   elements), its pydantic errors turned into JSON paths;
2. the IPS document rules: Bundle.type ``document``, identifier and timestamp present, every entry
   has a resource and a unique fullUrl, first entry a Composition of type LOINC 60591-5, its
   subject resolving to a Patient of the bundle, the required sections (allergies 48765-2,
   medications 10160-0, problems 11450-4) present with entries or an emptyReason, every section
   entry reference resolving to a bundle entry, well-formed XHTML narratives that keep FHIR's
   txt-1 and txt-2 rules (no active content: see ``gateway.records.narrative``), and (when a country
   system is given) a Patient identifier in that system.

:func:`parse_json_document` turns raw upload bytes into a dict with clear errors for oversized,
empty, non-UTF-8 or malformed input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from xml.etree import ElementTree

import orjson

from gateway.records.narrative import XHTML_NS, markup_violations, violations

LOINC = "http://loinc.org"
IPS_DOCUMENT_CODE = "60591-5"
REQUIRED_SECTIONS: dict[str, str] = {
    "48765-2": "Allergies and intolerances",
    "10160-0": "Medication summary",
    "11450-4": "Problem list",
}
BIRTHPLACE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
FR_INSEE_CODE_EXTENSION = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code"

#: at most this many problems are reported (the rest are summarised in one last problem)
MAX_PROBLEMS = 200

_FIELD_NAME = re.compile(r"_?[A-Za-z][A-Za-z0-9]*")


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem of a document: where (JSON path) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def as_tuple(self) -> tuple[str, str]:
        return (self.path, self.message)


class DocumentParseError(ValueError):
    """Raw input that is not a JSON object of acceptable size; ``problem`` says where and what."""

    def __init__(self, message: str, path: str = "$", *, too_large: bool = False) -> None:
        self.problem = Problem(path, message)
        self.too_large = too_large
        super().__init__(message)


# --------------------------------------------------------------------------------------------
# Raw input
# --------------------------------------------------------------------------------------------


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} bytes"


def parse_json_document(raw: bytes | bytearray | memoryview | str, max_bytes: int) -> dict[str, Any]:
    """Parse an uploaded FHIR JSON document.

    Raises :class:`DocumentParseError` when the input is larger than ``max_bytes``, empty, not
    UTF-8, not well-formed JSON (the message gives line and column) or not a JSON object.
    """
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    elif not isinstance(raw, bytes):
        raw = bytes(raw)
    if len(raw) > max_bytes:
        raise DocumentParseError(
            f"document is too large: {_size(len(raw))}, the limit is {_size(max_bytes)}", too_large=True
        )
    if raw.startswith(b"\xef\xbb\xbf"):  # UTF-8 byte order mark, tolerated
        raw = raw[3:]
    if not raw.strip():
        raise DocumentParseError("document is empty")
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        reason = getattr(exc, "msg", str(exc))
        if "UTF-8" in reason:
            raise DocumentParseError(f"document is not valid UTF-8 ({reason})") from None
        raise DocumentParseError(
            f"malformed JSON at line {exc.lineno}, column {exc.colno}: {reason}"
        ) from None
    if not isinstance(doc, dict):
        raise DocumentParseError(f"a FHIR document must be a JSON object, got {_json_type(doc)}")
    return doc


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null"


# --------------------------------------------------------------------------------------------
# FHIR model pass
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _models() -> tuple[Any, Any, Any]:
    """The fhir.resources models, imported on the first validation: they cost ~0.16 s to import, which
    every process importing this module (the command line, both listeners) would otherwise pay."""
    from fhir.resources.R4B import get_fhir_model_class  # noqa: PLC0415 - see the docstring
    from fhir.resources.R4B.bundle import Bundle  # noqa: PLC0415
    from fhir.resources.R4B.resource import Resource  # noqa: PLC0415

    return Bundle, Resource, get_fhir_model_class


@lru_cache(maxsize=256)
def _is_resource_type(name: str) -> bool:
    _bundle, resource_cls, get_class = _models()
    try:
        cls = get_class(name)
    except (ValueError, KeyError, AttributeError):
        return False
    return isinstance(cls, type) and issubclass(cls, resource_cls)


def json_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """``('entry', 0, 'resource', 'code')`` -> ``$.entry[0].resource.code``."""
    out = ["$"]
    for part in loc:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif isinstance(part, str) and _FIELD_NAME.fullmatch(part):
            out.append(f".{part}")
        # other loc parts (pydantic validator tags) are not document elements
    return "".join(out)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _model_message(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    msg = str(err.get("msg", "invalid value"))
    value = err.get("input")
    loc = err.get("loc") or ()
    if kind == "extra_forbidden":
        name = loc[-1] if loc else "?"
        return f"unknown element {name!r} (not part of FHIR R4)"
    if kind == "missing" or kind.endswith(".missing"):
        name = loc[-1] if loc and isinstance(loc[-1], str) else None
        return f"required element {name!r} is missing" if name else "required element is missing"
    if kind in ("json_invalid", "model_type", "dict_type", "model_attributes_type"):
        return f"expected an object, got {_json_type(value)}"
    if kind == "list_type":
        return f"expected an array, got {_json_type(value)}"
    msg = msg.removeprefix("Value error, ")
    if isinstance(value, str | int | float | bool) and not isinstance(value, dict | list):
        return f"{msg} (got {_short(value)})"
    return msg


def _model_problems(doc: dict[str, Any]) -> list[Problem]:
    import pydantic  # noqa: PLC0415 - with the models (see _models)

    bundle_cls, _resource, _get = _models()
    problems: list[Problem] = []
    # fhir.resources raises KeyError on an unknown resourceType: report those ourselves first.
    unknown = False
    for i, entry in enumerate(doc.get("entry") or []) if isinstance(doc.get("entry"), list) else ():
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict):
            rtype = resource.get("resourceType")
            if not isinstance(rtype, str) or not _is_resource_type(rtype):
                unknown = True
                problems.append(
                    Problem(f"$.entry[{i}].resource.resourceType", f"unknown FHIR R4 resource type {_short(rtype)}")
                )
    if unknown:
        return problems
    try:
        bundle_cls.model_validate(doc)
    except pydantic.ValidationError as exc:
        for err in exc.errors(include_url=False):
            problems.append(Problem(json_path(err.get("loc") or ()), _model_message(err)))
    except (KeyError, TypeError, ValueError) as exc:  # defensive: fhir.resources internals
        problems.append(Problem("$", f"the document is not a valid FHIR R4 Bundle ({exc.__class__.__name__}: {exc})"))
    return problems


# --------------------------------------------------------------------------------------------
# IPS document rules
# --------------------------------------------------------------------------------------------


def _codes(concept: Any, system: str) -> set[str]:
    if not isinstance(concept, dict):
        return set()
    return {
        c.get("code")
        for c in concept.get("coding") or []
        if isinstance(c, dict) and c.get("system") == system and isinstance(c.get("code"), str)
    }


def _check_div(div: Any, path: str, problems: list[Problem], owner: str) -> None:
    """txt-1/txt-2 of one narrative; ``owner`` names its resource or section in markup problems."""
    if not isinstance(div, str) or not div.strip():
        problems.append(Problem(path, "narrative div is empty"))
        return
    problems.extend(Problem(path, f"narrative of {owner}: {message}") for message in markup_violations(div))
    try:
        root = ElementTree.fromstring(div)
    except ElementTree.ParseError as exc:
        problems.append(Problem(path, f"narrative is not well-formed XHTML ({exc})"))
        return
    if root.tag != f"{{{XHTML_NS}}}div":
        problems.append(Problem(path, f'narrative must be a <div xmlns="{XHTML_NS}"> element'))
        return
    problems.extend(Problem(path, message) for message in violations(root))


def _resource_name(resource: dict[str, Any]) -> str:
    """``Type/id`` of a resource, for messages."""
    return f"{resource.get('resourceType')}/{resource.get('id')}"[:120]


class _EntryIndex:
    """Resolves references inside a document bundle (by fullUrl, or Type/id)."""

    def __init__(self, entries: list[Any]) -> None:
        self.by_key: dict[str, int] = {}
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                continue
            resource = entry.get("resource") if isinstance(entry.get("resource"), dict) else {}
            full_url = entry.get("fullUrl")
            if isinstance(full_url, str) and full_url:
                self.by_key.setdefault(full_url, i)
                if full_url.startswith(("http://", "https://")):
                    parts = full_url.rstrip("/").split("/")
                    if len(parts) >= 2:
                        self.by_key.setdefault(f"{parts[-2]}/{parts[-1]}", i)
            rtype, rid = resource.get("resourceType"), resource.get("id")
            if isinstance(rtype, str) and isinstance(rid, str):
                self.by_key.setdefault(f"{rtype}/{rid}", i)

    def resolve(self, reference: Any) -> int | None:
        if not isinstance(reference, str) or not reference:
            return None
        found = self.by_key.get(reference)
        if found is None and reference.startswith(("http://", "https://")):
            parts = reference.rstrip("/").split("/")
            if len(parts) >= 2:
                found = self.by_key.get(f"{parts[-2]}/{parts[-1]}")
        return found


def _ips_problems(doc: dict[str, Any], country_identifier_system: str | None) -> list[Problem]:
    """What makes ``doc`` not an IPS document: the Bundle, its entries, the Composition, the Patient."""
    problems: list[Problem] = []
    add = problems.append

    if doc.get("type") != "document":
        add(Problem("$.type", f"Bundle.type must be 'document', got {_short(doc.get('type'))}"))
    identifier = doc.get("identifier")
    if not isinstance(identifier, dict) or not identifier.get("value"):
        add(Problem("$.identifier", "a document Bundle must have an identifier (with a value)"))
    if not doc.get("timestamp"):
        add(Problem("$.timestamp", "a document Bundle must have a timestamp"))

    entries = doc.get("entry")
    if not isinstance(entries, list) or not entries:
        add(Problem("$.entry", "the document has no entries (a Composition and a Patient are required)"))
        return problems

    _check_entries(entries, problems)
    patient_index = _check_composition(entries, _EntryIndex(entries), problems)
    if patient_index is None:
        patient_index = next((i for i in range(len(entries)) if _resource_at(entries, i).get("resourceType") == "Patient"),
                             None)
        if patient_index is None:
            add(Problem("$.entry", "the document has no Patient"))
    if patient_index is not None and country_identifier_system:
        patient = _resource_at(entries, patient_index)
        ids = patient.get("identifier") if isinstance(patient.get("identifier"), list) else []
        if not any(isinstance(x, dict) and x.get("system") == country_identifier_system and x.get("value") for x in ids):
            add(Problem(f"$.entry[{patient_index}].resource.identifier",
                        f"the Patient has no identifier in system {country_identifier_system}"))
    return problems


def _resource_at(entries: list[Any], i: int | None) -> dict[str, Any]:
    """The resource of entry ``i`` ({} when there is none)."""
    if i is None or not isinstance(entries[i], dict):
        return {}
    res = entries[i].get("resource")
    return res if isinstance(res, dict) else {}


def _check_entries(entries: list[Any], problems: list[Problem]) -> None:
    """Every entry has a resource and a unique fullUrl; the narratives of the resources are safe XHTML."""
    add = problems.append
    seen_urls: dict[str, int] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue  # reported by the model pass
        if not isinstance(entry.get("resource"), dict):
            add(Problem(f"$.entry[{i}].resource", "every entry of a document must carry a resource"))
        full_url = entry.get("fullUrl")
        if not isinstance(full_url, str) or not full_url:
            add(Problem(f"$.entry[{i}].fullUrl", "every entry of a document must have a fullUrl"))
        elif full_url in seen_urls:
            add(Problem(f"$.entry[{i}].fullUrl", f"fullUrl {_short(full_url)} is already used by entry {seen_urls[full_url]}"))
        else:
            seen_urls[full_url] = i
        resource = entry.get("resource")
        if isinstance(resource, dict):
            text = resource.get("text")
            if isinstance(text, dict) and "div" in text:
                _check_div(text["div"], f"$.entry[{i}].resource.text.div", problems, _resource_name(resource))
            contained = resource.get("contained")
            for c, inner in enumerate(contained if isinstance(contained, list) else []):
                inner_text = inner.get("text") if isinstance(inner, dict) else None
                if isinstance(inner_text, dict) and "div" in inner_text:
                    _check_div(inner_text["div"], f"$.entry[{i}].resource.contained[{c}].text.div", problems,
                               f"{_resource_name(inner)} contained in {_resource_name(resource)}")


def _check_composition(entries: list[Any], index: _EntryIndex, problems: list[Problem]) -> int | None:
    """The first entry is an IPS Composition with the required sections; returns its subject's entry index."""
    add = problems.append
    first = _resource_at(entries, 0)
    if first.get("resourceType") != "Composition":
        got = _short(first.get("resourceType"))
        add(Problem("$.entry[0].resource", f"the first entry of a document must be a Composition, got {got}"))
        return None
    patient_index: int | None = None
    comp = "$.entry[0].resource"
    if IPS_DOCUMENT_CODE not in _codes(first.get("type"), LOINC):
        add(Problem(f"{comp}.type", f"Composition.type must be LOINC {IPS_DOCUMENT_CODE} (Patient summary Document)"))
    subject = first.get("subject")
    ref = subject.get("reference") if isinstance(subject, dict) else None
    if not ref:
        add(Problem(f"{comp}.subject", "Composition.subject must reference the Patient"))
    else:
        target = index.resolve(ref)
        if target is None:
            add(Problem(f"{comp}.subject.reference", f"reference {_short(ref)} does not resolve to an entry of the document"))
        elif _resource_at(entries, target).get("resourceType") != "Patient":
            kind = _resource_at(entries, target).get("resourceType")
            add(Problem(f"{comp}.subject.reference", f"Composition.subject must be a Patient, {_short(ref)} is a {kind}"))
        else:
            patient_index = target
    sections = first.get("section")
    present: set[str] = set()
    if isinstance(sections, list):
        _check_sections(sections, f"{comp}.section", index, present, problems)
    for code, name in REQUIRED_SECTIONS.items():
        if code not in present:
            add(Problem(f"{comp}.section", f"required IPS section {name} (LOINC {code}) is missing"))
    return patient_index


def _check_sections(sections: list[Any], base: str, index: _EntryIndex, present: set[str], problems: list[Problem]) -> None:
    for s, section in enumerate(sections):
        path = f"{base}[{s}]"
        if not isinstance(section, dict):
            continue
        codes = _codes(section.get("code"), LOINC)
        present.update(codes)
        if not section.get("code"):
            problems.append(Problem(f"{path}.code", "every IPS section must have a code"))
        text = section.get("text")
        if isinstance(text, dict):
            title = section.get("title")
            _check_div(text.get("div"), f"{path}.text.div", problems,
                       f"section {_short(title) if isinstance(title, str) else path}")
        entries = section.get("entry")
        if isinstance(entries, list):
            for e, ref in enumerate(entries):
                reference = ref.get("reference") if isinstance(ref, dict) else None
                if index.resolve(reference) is None:
                    problems.append(Problem(f"{path}.entry[{e}].reference",
                                            f"reference {_short(reference)} does not resolve to an entry of the document"))
        if codes & REQUIRED_SECTIONS.keys() and not entries and not section.get("emptyReason") and not section.get("section"):
            name = REQUIRED_SECTIONS[next(iter(codes & REQUIRED_SECTIONS.keys()))]
            problems.append(Problem(f"{path}.entry", f"section {name} must have entries (or an emptyReason)"))
        if isinstance(section.get("section"), list):
            _check_sections(section["section"], f"{path}.section", index, present, problems)


def validate_ips(
    doc: Any, *, country_identifier_system: str | None = None, model: bool = True
) -> list[Problem]:
    """Every problem of ``doc`` as an IPS document (an empty list means valid).

    ``model=False`` skips the ``fhir.resources`` pass (for documents this code generated itself
    and already checked in tests); the IPS document rules always run.
    """
    if not isinstance(doc, dict):
        return [Problem("$", f"a FHIR document must be a JSON object, got {_json_type(doc)}")]
    if doc.get("resourceType") != "Bundle":
        return [Problem("$.resourceType", f"an IPS document must be a Bundle, got {_short(doc.get('resourceType'))}")]
    problems = _model_problems(doc) if model else []
    seen = set(problems)
    for problem in _ips_problems(doc, country_identifier_system):
        if problem not in seen:
            seen.add(problem)
            problems.append(problem)
    if len(problems) > MAX_PROBLEMS:
        extra = len(problems) - MAX_PROBLEMS
        problems = problems[:MAX_PROBLEMS] + [Problem("$", f"... and {extra} more problems")]
    return problems


# --------------------------------------------------------------------------------------------
# Reading identity traits
# --------------------------------------------------------------------------------------------


def birthplace_of(patient: dict[str, Any]) -> str | None:
    """Birthplace of a Patient resource: the INSEE code (FR Core extension on the birthPlace
    address) when present, else the address district or city."""
    for ext in patient.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == BIRTHPLACE_EXTENSION:
            address = ext.get("valueAddress") or {}
            for sub in address.get("extension") or []:
                if isinstance(sub, dict) and sub.get("url") == FR_INSEE_CODE_EXTENSION:
                    code = (sub.get("valueCoding") or {}).get("code")
                    if code:
                        return code
            return address.get("district") or address.get("city")
    return None
