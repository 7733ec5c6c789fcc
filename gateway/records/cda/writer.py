"""An IPS FHIR document -> a CI-SIS IPS-FR 2024.01 CDA document (as the DMP would hold it).

Used to give the synthetic French population its real format (``ncpeh seed -c FR --format cda``): the
documents written here are read back through the same import as any CDA. Only what the synthetic
documents contain is written; the narrative of each section is a table of its entries.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape
from typing import Any, ClassVar

from gateway.records.cda.codes import SYSTEMS_BY_OID

_OID_BY_SYSTEM = {system: oid for oid, system in SYSTEMS_BY_OID.items()}
_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:T(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?)?$")
_GENDER = {"male": "M", "female": "F", "other": "UN", "unknown": "U"}
_INS_NIR = "1.2.250.1.213.1.4.8"


def _a(value: Any) -> str:
    return escape(str(value), quote=True)


def ts(value: str | None) -> str | None:
    """FHIR date/dateTime -> CDA TS."""
    match = _DATE.match(value or "")
    if not match:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    text = year + (month or "") + (day or "")
    if hour:
        text += f"{hour}{minute}{second or '00'}"
        if zone:
            text += "+0000" if zone == "Z" else zone.replace(":", "")
    return text


def oid_of(system: str | None) -> str | None:
    if not system:
        return None
    if system.startswith("urn:oid:"):
        return system[8:]
    return _OID_BY_SYSTEM.get(system)


def _cd(tag: str, concept: dict[str, Any] | None, ref: str | None = None, xsi: str | None = None) -> str:
    """A coded element: the first coding with an OID, the others as translations, the text as originalText."""
    concept = concept or {}
    codings = [c for c in concept.get("coding") or [] if oid_of(c.get("system")) and c.get("code")]
    kind = f' xsi:type="{xsi}"' if xsi else ""
    original = f'<originalText><reference value="#{ref}"/></originalText>' if ref else ""
    if not codings:
        return f'<{tag}{kind} nullFlavor="OTH">{original}</{tag}>' if original else f'<{tag}{kind} nullFlavor="UNK"/>'
    first, *others = codings

    def attrs(c: dict[str, Any]) -> str:
        display = f' displayName="{_a(c["display"])}"' if c.get("display") else ""
        return f'code="{_a(c["code"])}" codeSystem="{oid_of(c["system"])}"{display}'

    translations = "".join(f"<translation {attrs(c)}/>" for c in others)
    return f"<{tag}{kind} {attrs(first)}>{original}{translations}</{tag}>"


def _ivl(start: str | None, end: str | None) -> str:
    low = f'<low value="{ts(start)}"/>' if ts(start) else '<low nullFlavor="UNK"/>'
    high = f'<high value="{ts(end)}"/>' if ts(end) else ""
    return f'<effectiveTime xsi:type="IVL_TS">{low}{high}</effectiveTime>'


def _value(resource: dict[str, Any], ref: str) -> str:
    if "valueQuantity" in resource:
        q = resource["valueQuantity"]
        unit = f' unit="{_a(q.get("code") or q.get("unit"))}"' if q.get("code") or q.get("unit") else ""
        return f'<value xsi:type="PQ" value="{_a(q.get("value"))}"{unit}/>'
    if "valueCodeableConcept" in resource:
        return _cd("value", resource["valueCodeableConcept"], None, "CD")
    if "valueBoolean" in resource:
        return f'<value xsi:type="BL" value="{str(resource["valueBoolean"]).lower()}"/>'
    if "valueDateTime" in resource and ts(resource["valueDateTime"]):
        return f'<value xsi:type="TS" value="{ts(resource["valueDateTime"])}"/>'
    if "valueString" in resource:
        return f'<value xsi:type="ST">{_a(resource["valueString"])}</value>'
    return ""


def _text(concept: dict[str, Any] | None) -> str:
    concept = concept or {}
    return concept.get("text") or next((c.get("display") for c in concept.get("coding") or [] if c.get("display")), "")


class _Writer:
    def __init__(self, bundle: dict[str, Any]) -> None:
        self.by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
        self.n = 0

    def resolve(self, ref: dict[str, Any] | None) -> dict[str, Any]:
        return self.by_url.get((ref or {}).get("reference", ""), {})

    def entry(self, resource: dict[str, Any], section: str) -> tuple[str, str, str]:
        """(CDA entry, narrative text of the row, date of the row) for one FHIR resource."""
        self.n += 1
        kind = resource["resourceType"]
        write = self._WRITERS.get(kind)
        if write is None:
            raise ValueError(f"no CDA writer for a {kind}")
        return write(self, resource, f"e{self.n}")

    def _condition(self, resource: dict[str, Any], ref: str) -> tuple[str, str, str]:
        """A problem: act (concern) around the problem observation and its status."""
        status = (resource.get("clinicalStatus") or {}).get("coding", [{}])[0].get("code", "active")
        start, end = resource.get("onsetDateTime"), resource.get("abatementDateTime")
        obs = (f'<observation classCode="OBS" moodCode="EVN"><templateId root="1.2.250.1.213.1.1.3.37"/>'
               f'<code code="282291009" codeSystem="2.16.840.1.113883.6.96" displayName="Diagnostic interpretation"/>'
               f'<text><reference value="#{ref}"/></text><statusCode code="completed"/>{_ivl(start, end)}'
               f'{_cd("value", resource.get("code"), ref, "CD")}'
               f'<entryRelationship typeCode="REFR"><observation classCode="OBS" moodCode="EVN">'
               f'<code code="33999-4" codeSystem="2.16.840.1.113883.6.1" displayName="Status"/>'
               f'<statusCode code="completed"/><value xsi:type="CE" code="{_a(status)}" '
               f'codeSystem="2.16.840.1.113883.4.642.4.1373"/></observation></entryRelationship></observation>')
        act_status = "active" if status == "active" else "completed"
        xml = (f'<act classCode="ACT" moodCode="EVN"><templateId root="1.2.250.1.213.1.1.3.39"/><code nullFlavor="NA"/>'
               f'<statusCode code="{act_status}"/>{_ivl(start, end)}'
               f'<entryRelationship typeCode="SUBJ" inversionInd="false">{obs}</entryRelationship></act>')
        return xml, _text(resource.get("code")), start or ""

    def _allergy(self, resource: dict[str, Any], ref: str) -> tuple[str, str, str]:
        """An allergy: act (concern) around the observation of the agent and its reactions."""
        category = (resource.get("category") or [None])[0]
        kind_code = "416098002" if category == "medication" else "414285001" if category == "food" else "419199007"
        reactions = "".join(
            f'<entryRelationship typeCode="MFST" inversionInd="true"><observation classCode="OBS" moodCode="EVN">'
            f'<code code="418799008" codeSystem="2.16.840.1.113883.6.96"/><statusCode code="completed"/>'
            f'{_cd("value", m, None, "CD")}</observation></entryRelationship>'
            for r in resource.get("reaction") or [] for m in r.get("manifestation") or [])
        obs = (f'<observation classCode="OBS" moodCode="EVN"><templateId root="1.2.250.1.213.1.1.3.41"/>'
               f'<code code="{kind_code}" codeSystem="2.16.840.1.113883.6.96"/><text><reference value="#{ref}"/></text>'
               f'<statusCode code="completed"/>{_ivl(resource.get("onsetDateTime"), None)}'
               f'<participant typeCode="CSM"><participantRole classCode="MANU"><playingEntity classCode="MMAT">'
               f'{_cd("code", resource.get("code"), ref)}</playingEntity></participantRole></participant>'
               f'{reactions}</observation>')
        xml = (f'<act classCode="ACT" moodCode="EVN"><templateId root="1.2.250.1.213.1.1.3.40"/><code nullFlavor="NA"/>'
               f'<statusCode code="active"/>{_ivl(resource.get("onsetDateTime"), None)}'
               f'<entryRelationship typeCode="SUBJ" inversionInd="false">{obs}</entryRelationship></act>')
        return xml, _text(resource.get("code")), resource.get("onsetDateTime") or ""

    def _medication(self, resource: dict[str, Any], ref: str) -> tuple[str, str, str]:
        """A treatment: substanceAdministration of the medication, route, dose and form."""
        medication = self.resolve(resource.get("medicationReference")) or {
            "code": resource.get("medicationCodeableConcept")}
        period = resource.get("effectivePeriod") or {}
        dosage = (resource.get("dosage") or [{}])[0]
        route = _cd("routeCode", dosage.get("route")) if dosage.get("route") else ""
        dose = ""
        quantity = ((dosage.get("doseAndRate") or [{}])[0]).get("doseQuantity")
        if quantity:
            dose = f'<doseQuantity value="{_a(quantity.get("value"))}" unit="{_a(quantity.get("code") or "1")}"/>'
        form = _cd("pharm:formCode", medication.get("form")) if medication.get("form") else ""
        status = {"completed": "completed", "stopped": "aborted", "on-hold": "suspended"}.get(
            resource.get("status", ""), "active")
        xml = (f'<substanceAdministration classCode="SBADM" moodCode="EVN"><templateId root="1.2.250.1.213.1.1.3.42"/>'
               f'<text><reference value="#{ref}-pos"/></text><statusCode code="{status}"/>'
               f'{_ivl(period.get("start"), period.get("end"))}{route}{dose}'
               f'<consumable><manufacturedProduct><manufacturedMaterial>{_cd("code", medication.get("code"), ref)}'
               f'<name>{_a(_text(medication.get("code")))}</name>{form}</manufacturedMaterial></manufacturedProduct>'
               f'</consumable></substanceAdministration>')
        posology = dosage.get("text") or ""
        return xml, f"{_text(medication.get('code'))}\x00{posology}", period.get("start") or ""

    def _immunization(self, resource: dict[str, Any], ref: str) -> tuple[str, str, str]:
        """A vaccination: substanceAdministration of the vaccine."""
        when = resource.get("occurrenceDateTime")
        time = f'<effectiveTime value="{ts(when)}"/>' if ts(when) else '<effectiveTime nullFlavor="UNK"/>'
        xml = (f'<substanceAdministration classCode="SBADM" moodCode="EVN" negationInd="'
               f'{"true" if resource.get("status") == "not-done" else "false"}">'
               f'<templateId root="1.2.250.1.213.1.1.3.45"/><statusCode code="completed"/>{time}'
               f'<consumable><manufacturedProduct><manufacturedMaterial>{_cd("code", resource.get("vaccineCode"), ref)}'
               f'</manufacturedMaterial></manufacturedProduct></consumable></substanceAdministration>')
        return xml, _text(resource.get("vaccineCode")), when or ""

    def _procedure(self, resource: dict[str, Any], ref: str) -> tuple[str, str, str]:
        """A procedure, its date UNK when unknown."""
        when = resource.get("performedDateTime") or (resource.get("performedPeriod") or {}).get("start")
        xml = (f'<procedure classCode="PROC" moodCode="EVN"><templateId root="1.2.250.1.213.1.1.3.62"/>'
               f'{_cd("code", resource.get("code"), ref)}<text><reference value="#{ref}"/></text>'
               f'<statusCode code="completed"/><effectiveTime value="{ts(when) or ""}"/></procedure>')
        return xml.replace('<effectiveTime value=""/>', '<effectiveTime nullFlavor="UNK"/>'), \
            _text(resource.get("code")), when or ""

    def _observation(self, resource: dict[str, Any], ref: str) -> tuple[str, str, str]:
        """A result or vital sign: an observation, or an organizer of its components."""
        when = resource.get("effectiveDateTime") or (resource.get("effectivePeriod") or {}).get("start")
        time = f'<effectiveTime value="{ts(when)}"/>' if ts(when) else ""
        if resource.get("component"):
            parts = "".join(
                f'<component><observation classCode="OBS" moodCode="EVN">{_cd("code", c.get("code"))}'
                f'<statusCode code="completed"/>{time}{_value(c, ref)}</observation></component>'
                for c in resource["component"])
            xml = (f'<organizer classCode="CLUSTER" moodCode="EVN"><templateId root="1.2.250.1.213.1.1.3.49"/>'
                   f'{_cd("code", resource.get("code"), ref)}<statusCode code="completed"/>{time}{parts}</organizer>')
        else:
            interpretation = "".join(_cd("interpretationCode", i) for i in resource.get("interpretation") or [])
            xml = (f'<observation classCode="OBS" moodCode="EVN"><templateId root="1.2.250.1.213.1.1.3.48"/>'
                   f'{_cd("code", resource.get("code"), ref)}<text><reference value="#{ref}"/></text>'
                   f'<statusCode code="completed"/>{time}{_value(resource, ref)}{interpretation}</observation>')
        return xml, _text(resource.get("code")), when or ""

    def _device(self, resource: dict[str, Any], ref: str) -> tuple[str, str, str]:
        """A device in use: supply of the device."""
        device = self.resolve(resource.get("device"))
        when = resource.get("timingDateTime") or (resource.get("timingPeriod") or {}).get("start")
        xml = (f'<supply classCode="SPLY" moodCode="EVN"><templateId root="1.2.250.1.213.1.1.3.20"/>'
               f'<text><reference value="#{ref}"/></text>{_ivl(when, None)}'
               f'<participant typeCode="DEV"><participantRole classCode="MANU"><playingDevice>'
               f'{_cd("code", device.get("type"), ref)}</playingDevice></participantRole></participant></supply>')
        return xml, _text(device.get("type")), when or ""

    def _care_plan(self, resource: dict[str, Any], ref: str) -> tuple[str, str, str]:
        """A plan of care: an intended act."""
        start = (resource.get("period") or {}).get("start")
        xml = (f'<act classCode="ACT" moodCode="INT"><templateId root="1.2.250.1.213.1.1.3.27"/>'
               f'<code nullFlavor="OTH"/><text><reference value="#{ref}"/></text><statusCode code="active"/>'
               f'{_ivl(start, None)}</act>')
        return xml, resource.get("description") or "", start or ""

    _WRITERS: ClassVar[dict[str, Callable[[_Writer, dict[str, Any], str], tuple[str, str, str]]]] = {
        "Condition": _condition,
        "AllergyIntolerance": _allergy,
        "MedicationStatement": _medication,
        "Immunization": _immunization,
        "Procedure": _procedure,
        "Observation": _observation,
        "DeviceUseStatement": _device,
        "CarePlan": _care_plan,
    }

    def section(self, section: dict[str, Any]) -> str:
        code = section["code"]["coding"][0]["code"]
        rows, entries = [], []
        for ref in section.get("entry") or []:
            resource = self.resolve(ref)
            if not resource or resource["resourceType"] in ("Medication", "Device"):
                continue
            xml, text, when = self.entry(resource, code)
            label, _, posology = text.partition("\x00")
            ident = f"e{self.n}"
            cells = f'<td>{_a(when[:10])}</td><td><content ID="{ident}">{_a(label)}</content></td>'
            cells += f'<td><content ID="{ident}-pos">{_a(posology)}</content></td>' if posology else "<td/>"
            rows.append(f"<tr>{cells}</tr>")
            entries.append(f"<entry>{xml}</entry>")
        text = (f"<text><table><tbody>{''.join(rows)}</tbody></table></text>" if rows
                else "<text><paragraph>Aucune donnée</paragraph></text>")
        return (f'<component><section><code code="{_a(code)}" codeSystem="2.16.840.1.113883.6.1"/>'
                f'<title>{_a(section.get("title") or code)}</title>{text}{"".join(entries)}</section></component>')


def ips_to_cda(bundle: dict[str, Any]) -> bytes:
    """The IPS-FR 2024.01 CDA document of an IPS Bundle whose Patient has an INS-NIR."""
    w = _Writer(bundle)
    composition = bundle["entry"][0]["resource"]
    patient = w.resolve(composition.get("subject"))
    ins = next(i["value"] for i in patient.get("identifier") or [] if i.get("system") == f"urn:oid:{_INS_NIR}")
    names = patient.get("name") or []
    official = next((n for n in names if n.get("use") == "official"), names[0])
    usual = next((n for n in names if n.get("use") == "usual"), None)
    given = official.get("given") or []
    name = (f'<family qualifier="BR">{_a(official.get("family", ""))}</family><given>{_a(" ".join(given))}</given>'
            f'<given qualifier="BR">{_a(given[0] if given else "")}</given>')
    if usual:
        name += f'<family qualifier="CL">{_a(usual.get("family", ""))}</family>'
    birthplace = ""
    for ext in patient.get("extension") or []:
        address = ext.get("valueAddress") or {}
        insee = next((e["valueCoding"]["code"] for e in address.get("extension") or [] if "valueCoding" in e), None)
        if insee:
            birthplace = (f'<birthplace><place><addr><county>{_a(insee)}</county><city>{_a(address.get("city", ""))}'
                          f'</city></addr></place></birthplace>')
    author = w.resolve((composition.get("author") or [{}])[0])
    author_name = (author.get("name") or [{}])[0]
    custodian = w.resolve(composition.get("custodian"))
    doc_id = bundle["identifier"]["value"].removeprefix("urn:uuid:").upper()
    when = ts(composition.get("date") or bundle.get("timestamp"))
    body = "".join(w.section(s) for s in composition.get("section") or [])
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        ' xmlns:pharm="urn:ihe:pharm:medication">'
        '<realmCode code="FR"/><typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>'
        '<templateId root="2.16.840.1.113883.2.8.2.1"/><templateId root="1.2.250.1.213.1.1.1.1"/>'
        '<templateId root="2.16.840.1.113883.10.22.1.1"/><templateId root="1.2.250.1.213.1.1.1.51" extension="2024.01"/>'
        f'<id root="{doc_id}"/><code code="60591-5" codeSystem="2.16.840.1.113883.6.1" displayName="Synthèse médicale"/>'
        f'<title>{_a(composition.get("title") or "Synthèse médicale")}</title><effectiveTime value="{when}"/>'
        f'<confidentialityCode code="{_a(composition.get("confidentiality") or "N")}" codeSystem="2.16.840.1.113883.5.25"/>'
        f'<languageCode code="{_a(composition.get("language") or "fr-FR")}"/><setId root="{doc_id}"/>'
        '<versionNumber value="1"/>'
        f'<recordTarget><patientRole><id root="{_INS_NIR}" extension="{_a(ins)}"/><patient classCode="PSN">'
        f'<name>{name}</name><administrativeGenderCode code="{_GENDER.get(patient.get("gender"), "U")}"'
        f' codeSystem="2.16.840.1.113883.5.1"/><birthTime value="{ts(patient.get("birthDate"))}"/>{birthplace}'
        '</patient></patientRole></recordTarget>'
        f'<author><time value="{when}"/><assignedAuthor><id nullFlavor="UNK"/><assignedPerson><name>'
        f'<given>{_a(" ".join(author_name.get("given") or []))}</given><family>{_a(author_name.get("family", ""))}'
        '</family></name></assignedPerson></assignedAuthor></author>'
        '<custodian><assignedCustodian><representedCustodianOrganization><id root="1.2.250.1.213.4.1" extension="DMP"/>'
        f'<name>{_a(custodian.get("name") or "DMP")}</name></representedCustodianOrganization></assignedCustodian>'
        f'</custodian><component><structuredBody>{body}</structuredBody></component></ClinicalDocument>'
    )
    return xml.encode("utf-8")
