"""The CDA header: which volet and version, the patient (INS), author, custodian, dates, language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

from gateway.records.cda.codes import coding, fhir_datetime, time_of
from gateway.records.cda.reader import NS, CdaError, Paths, attr, find, findall, text_of
from gateway.records.identifiers import INS_NIR_OID, IdentifierError, parse_nir

CI_SIS = "1.2.250.1.213.1.1.1.1"
IPS_FR = "1.2.250.1.213.1.1.1.51"
VSM = "1.2.250.1.213.1.1.1.13"
#: the volets this NCPeH imports, with the template versions it knows
VOLETS: dict[str, tuple[str, frozenset[str]]] = {
    IPS_FR: ("IPS-FR", frozenset({"2024.01"})),
    VSM: ("VSM 1.4", frozenset({"201310", "2022.01"})),
}
#: INS-NIR (production) and the INS test OIDs of the ANS examples (INS-NIR / INS-NIA for tests)
INS_OIDS = {INS_NIR_OID: "INS-NIR", "1.2.250.1.213.1.4.10": "INS-NIR (test)", "1.2.250.1.213.1.4.11": "INS-NIA (test)"}
_GENDER = {"M": "male", "F": "female", "U": "unknown", "UN": "other"}
_H = "/ClinicalDocument"


@dataclass(frozen=True)
class Volet:
    name: str
    version: str


def volet_of(root: Element) -> Volet:
    """The volet (IPS-FR 2024.01, VSM 1.4), or :class:`CdaError` naming the templateId at fault."""
    tids = [(t.get("root", ""), t.get("extension") or "") for t in findall(root, "h:templateId")]
    roots = {r for r, _ in tids}
    for oid, (name, versions) in VOLETS.items():
        if oid in roots:
            version = next(ext for r, ext in tids if r == oid)
            if version not in versions:
                known = ", ".join(sorted(versions))
                raise CdaError([(f"{_H}/templateId[@root='{oid}']/@extension",
                                 f"unknown template version {version or '(none)'} of {name} (known: {known})")])
            return Volet(name, version)
    if CI_SIS in roots:
        others = ", ".join(sorted(r for r in roots if r.startswith("1.2.250.1.213.1.1.1.") and r != CI_SIS)) or "none"
        raise CdaError([(f"{_H}/templateId", f"a CI-SIS document of another volet (templateId {others}): only the"
                                            " medical summary (IPS-FR 2024.01, VSM 1.4) is imported")])
    raise CdaError([(f"{_H}/templateId", "not a CI-SIS medical summary: no templateId of IPS-FR"
                                        f" ({IPS_FR}) or VSM ({VSM})")])


def patient_resource(root: Element, paths: Paths, country_system: str) -> tuple[dict[str, Any], list[str]]:
    """The FHIR Patient (INS checked) and notes for the import report; :class:`CdaError` when the
    identity is unusable (every problem with its XPath)."""
    role = find(root, "h:recordTarget/h:patientRole")
    if role is None:
        raise CdaError([(f"{_H}/recordTarget", "the document has no recordTarget/patientRole (the patient)")])
    notes: list[str] = []
    problems: list[tuple[str, str]] = []
    ins = [i for i in findall(role, "h:id") if i.get("root") in INS_OIDS]
    identifiers: list[dict[str, Any]] = []
    if not ins or not attr(ins[0], "extension"):
        problems.append((f"{paths.of(role)}/id", "the patient has no INS (id with root 1.2.250.1.213.1.4.8,"
                                                 " or the test OIDs …1.4.10 / …1.4.11)"))
    else:
        where = f"{paths.of(ins[0])}/@extension"
        try:
            value = parse_nir(attr(ins[0], "extension")).value
        except IdentifierError as exc:
            problems.append((where, f"invalid INS: {exc}"))
        else:
            oid = ins[0].get("root", "")
            identifiers.append({"use": "official", "system": country_system, "value": value})
            if oid != INS_NIR_OID:
                identifiers.append({"use": "secondary", "system": f"urn:oid:{oid}", "value": value})
                notes.append(f"patient: INS under the test OID {oid} ({INS_OIDS[oid]}) stored as the country's INS")
    person = find(role, "h:patient")
    if person is None:
        raise CdaError(problems + [(f"{paths.of(role)}/patient", "the patient element is missing")])
    names = _names(person)
    if not names or not names[0].get("family"):
        problems.append((f"{paths.of(person)}/name/family", "the patient has no birth name (family qualifier BR)"))
    elif not names[0].get("given"):
        problems.append((f"{paths.of(person)}/name/given", "the patient has no first name"))
    birth = time_of(find(person, "h:birthTime"))
    if not birth:
        problems.append((f"{paths.of(person)}/birthTime", "the patient has no (valid) birth date"))
    if problems:
        raise CdaError(problems)
    patient: dict[str, Any] = {"resourceType": "Patient", "identifier": identifiers, "active": True, "name": names,
                               "gender": _GENDER.get(attr(find(person, "h:administrativeGenderCode"), "code") or "", "unknown"),
                               "birthDate": birth[:10]}
    place = find(person, "h:birthplace/h:place/h:addr")
    if place is not None:
        address: dict[str, Any] = {}
        insee = text_of(find(place, "h:county"))
        if insee:
            address["extension"] = [{"url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code",
                                     "valueCoding": {"system": "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM",
                                                     "code": insee}}]
        for cda_name, fhir_name in (("city", "city"), ("postalCode", "postalCode"), ("country", "country")):
            value = text_of(find(place, f"h:{cda_name}"))
            if value:
                address[fhir_name] = value
        if address:
            patient["extension"] = [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
                                     "valueAddress": address}]
    home = find(role, "h:addr")
    if home is not None and attr(home, "nullFlavor") is None:
        line = " ".join(filter(None, (text_of(find(home, f"h:{p}")) for p in ("houseNumber", "streetName", "unitID",
                                                                                "streetAddressLine"))))
        address = {k: v for k, v in (("city", text_of(find(home, "h:city"))),
                                     ("postalCode", text_of(find(home, "h:postalCode"))),
                                     ("country", text_of(find(home, "h:country")))) if v}
        if line:
            address["line"] = [line]
        if address:
            patient["address"] = [{"use": "home", **address}]
    return patient, notes


def _names(person: Element) -> list[dict[str, Any]]:
    """[official (birth) name, usual name]: family/given with qualifier BR are the birth name and
    first name; the unqualified given lists every birth first name; CL is the name used."""
    official: dict[str, Any] = {"use": "official"}
    usual: dict[str, Any] = {"use": "usual"}
    for name in findall(person, "h:name"):
        for part in name:
            tag, qualifier, value = part.tag.rsplit("}", 1)[-1], part.get("qualifier"), " ".join((part.text or "").split())
            if not value:
                continue
            if tag == "family":
                target = usual if qualifier in ("CL", "SP") else official
                target.setdefault("family", value)
            elif tag == "given" and qualifier in (None, ""):
                official["given"] = value.split(" ")
            elif tag == "given" and qualifier == "BR":
                official.setdefault("given", [value])
            elif tag == "given" and qualifier == "CL":
                usual["given"] = [value]
    result = [official]
    if usual.get("family") or usual.get("given"):
        result.append(usual)
    return result


def _identifiers(element: Element) -> list[dict[str, str]]:
    """The element's ``id``s with root and extension, as FHIR identifiers (``urn:oid:<root>``)."""
    return [{"system": f"urn:oid:{i.get('root')}", "value": i.get("extension")} for i in findall(element, "h:id")
            if i.get("root") and i.get("extension")]


def practitioner(assigned: Element | None) -> dict[str, Any] | None:
    """A Practitioner for an assignedAuthor/assignedEntity (RPPS id, name, profession)."""
    if assigned is None:
        return None
    result: dict[str, Any] = {"resourceType": "Practitioner"}
    ids = _identifiers(assigned)
    if ids:
        result["identifier"] = ids
    person = find(assigned, "h:assignedPerson/h:name")
    if person is not None:
        name: dict[str, Any] = {}
        family, given = text_of(find(person, "h:family")), [text_of(g) for g in findall(person, "h:given") if text_of(g)]
        if family:
            name["family"] = family
        if given:
            name["given"] = given
        if name:
            result["name"] = [name]
    qualification = coding(find(assigned, "h:code"))
    if qualification:
        result["qualification"] = [{"code": {"coding": [qualification]}}]
    return result if len(result) > 1 else None


def organization(element: Element | None) -> dict[str, Any] | None:
    if element is None:
        return None
    result: dict[str, Any] = {"resourceType": "Organization"}
    ids = _identifiers(element)
    if ids:
        result["identifier"] = ids
    name = text_of(find(element, "h:name"))
    if name:
        result["name"] = name
    return result if len(result) > 1 else None


def document_facts(root: Element) -> dict[str, Any]:
    """id, setId, version, date, title, language and confidentiality of the CDA document."""
    def ii(element: Element | None) -> str | None:
        if element is None or not element.get("root"):
            return None
        return element.get("root") + (f"^{element.get('extension')}" if element.get("extension") else "")

    return {
        "id": ii(find(root, "h:id")),
        "set_id": ii(find(root, "h:setId")),
        "version": attr(find(root, "h:versionNumber"), "value"),
        "date": fhir_datetime(attr(find(root, "h:effectiveTime"), "value")),
        "title": text_of(find(root, "h:title")) or "Synthèse médicale",
        "language": attr(find(root, "h:languageCode"), "code"),
        "code": coding(find(root, "h:code")),
        "confidentiality": attr(find(root, "h:confidentialityCode"), "code"),
    }


__all__ = ["NS", "Volet", "volet_of", "patient_resource", "practitioner", "organization", "document_facts"]
