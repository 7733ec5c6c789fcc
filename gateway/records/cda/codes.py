"""CDA data types -> FHIR: coded values (by OID, keeping the code as sent), dates, quantities."""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element

from gateway.records.cda.reader import attr, find, findall, text_of
from terminology import systems

#: code systems by OID; an OID not listed becomes ``urn:oid:<OID>`` (the French TRE/JDV value sets,
#: CIP/UCD/CIS, RPPS...), which is also how FHIR imports name them.
SYSTEMS_BY_OID: dict[str, str] = {
    "2.16.840.1.113883.6.1": systems.LOINC,
    "2.16.840.1.113883.6.96": systems.SNOMED,
    "2.16.840.1.113883.6.3": systems.CIM10_FR,  # CIM-10 (the French ICD-10), transcoded like FHIR imports
    "2.16.840.1.113883.6.73": systems.ATC,
    "2.16.840.1.113883.6.8": systems.UCUM,
    "0.4.0.127.0.16.1.1.2.1": systems.EDQM,
    "2.16.840.1.113883.6.347": "http://id.who.int/icd/release/11/mms",  # CIM-11
    "2.16.840.1.113883.6.139": "http://hl7.org/fhir/sid/icpc-2",  # CISP-2
    "1.2.250.1.213.2.49": systems.ORPHA,  # OrphaCodes
    "2.16.840.1.113883.5.1150.1": systems.ABSENT_UNKNOWN_UV_IPS,  # IPS absent/unknown (CDA IPS)
    "2.16.840.1.113883.5.4": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
    "2.16.840.1.113883.5.1": "http://terminology.hl7.org/CodeSystem/v3-AdministrativeGender",
    "2.16.840.1.113883.5.83": systems.OBSERVATION_INTERPRETATION,
    "2.16.840.1.113883.5.111": systems.ROLE_CODE,
    "2.16.840.1.113883.5.1008": systems.NULL_FLAVOR,
    "2.16.840.1.113883.5.25": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
}
_TS = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$")


def system_for(oid: str) -> str:
    return SYSTEMS_BY_OID.get(oid) or f"urn:oid:{oid}"


def coding(element: Element | None) -> dict[str, Any] | None:
    """A Coding for a CD/CE/CV element with a code and code system (else None)."""
    code, oid = attr(element, "code"), attr(element, "codeSystem")
    if not code or not oid:
        return None
    result: dict[str, Any] = {"system": system_for(oid), "code": code}
    display = attr(element, "displayName")
    if display:
        result["display"] = display
    return result


def concept(element: Element | None, narrative: dict[str, str] | None = None) -> dict[str, Any] | None:
    """A CodeableConcept: the code, its ``translation``s (each kept as sent), and ``originalText``
    (resolved against the section narrative when it is a reference) as ``text``."""
    if element is None:
        return None
    codings = [c for c in [coding(element)] + [coding(t) for t in findall(element, "h:translation")] if c]
    text = original_text(element, narrative)
    if not codings and not text:
        return None
    result: dict[str, Any] = {}
    if codings:
        result["coding"] = codings
    if text:
        result["text"] = text
    return result


def original_text(element: Element | None, narrative: dict[str, str] | None) -> str | None:
    """Text of ``originalText`` or ``text`` (following ``<reference value="#id"/>`` into the narrative)."""
    for name in ("h:originalText", "h:text"):
        holder = find(element, name)
        if holder is None:
            continue
        ref = attr(find(holder, "h:reference"), "value")
        if ref and ref.startswith("#") and narrative is not None and narrative.get(ref[1:]):
            return narrative[ref[1:]]
        own = text_of(holder) if holder.get("mediaType") in (None, "text/plain") else ""
        if own:
            return own
    return None


def fhir_datetime(value: str | None) -> str | None:
    """CDA TS (``20200312111700+0100``, ``19790328``, ``2019``) -> FHIR date/dateTime (None when invalid)."""
    if not value:
        return None
    match = _TS.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    if month and not 1 <= int(month) <= 12 or day and not 1 <= int(day) <= 31:
        return None
    text = year + (f"-{month}" if month else "") + (f"-{day}" if month and day else "")
    if day and hour and zone:  # FHIR requires a zone with a time; without one, the date is kept
        text += f"T{hour}:{minute or '00'}:{second or '00'}{zone[:3]}:{zone[3:]}"
    return text


def time_of(element: Element | None) -> str | None:
    """FHIR date of a TS element's ``value``."""
    return fhir_datetime(attr(element, "value"))


def period(effective: Element | None) -> tuple[str | None, str | None]:
    """(start, end) of an IVL_TS or TS ``effectiveTime``."""
    if effective is None:
        return None, None
    if attr(effective, "value"):
        return time_of(effective), None
    return time_of(find(effective, "h:low")), time_of(find(effective, "h:high"))


def quantity(element: Element | None) -> dict[str, Any] | None:
    """A PQ as a FHIR Quantity (UCUM unit)."""
    raw = attr(element, "value")
    if raw is None:
        return None
    try:
        number: float | int = float(raw)
    except ValueError:
        return None
    if number.is_integer() and "." not in raw:
        number = int(number)
    result: dict[str, Any] = {"value": number}
    unit = attr(element, "unit")
    if unit and unit != "1":
        result.update(unit=unit, system=systems.UCUM, code=unit)
    return result
