"""CI-SIS CDA -> IPS: the result compared element by element with the source document.

The expectations are read from the CDA here, independently of the converter (plain ElementTree on
the committed, trusted fixtures), then looked for in the IPS Bundle.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - trusted test fixtures only
from pathlib import Path

import pytest

from gateway.records.cda.convert import convert_cda
from gateway.records.ips_validation import validate_ips

CDA = Path(__file__).resolve().parents[1] / "fixtures" / "cda"
NS = {"h": "urn:hl7-org:v3", "pharm": "urn:ihe:pharm:medication"}
INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
SYSTEMS = {"2.16.840.1.113883.6.1": "http://loinc.org", "2.16.840.1.113883.6.96": "http://snomed.info/sct",
           "2.16.840.1.113883.6.3": "https://smt.esante.gouv.fr/terminologie-cim-10/",
           "2.16.840.1.113883.6.73": "http://www.whocc.no/atc", "0.4.0.127.0.16.1.1.2.1": "http://standardterms.edqm.eu",
           "2.16.840.1.113883.6.347": "http://id.who.int/icd/release/11/mms",
           "2.16.840.1.113883.6.139": "http://hl7.org/fhir/sid/icpc-2", "1.2.250.1.213.2.49": "https://www.orpha.net"}
#: where the code that must survive sits in an entry of each section (relative to the entry's statement)
PRIMARY = {
    "11450-4": ["h:entryRelationship/h:observation/h:value"],
    "11348-0": ["h:entryRelationship/h:observation/h:value"],
    "47519-4": ["h:code"],
    "48765-2": ["h:entryRelationship/h:observation/h:participant/h:participantRole/h:playingEntity/h:code"],
    "44939-7": [".//h:participant/h:participantRole/h:playingEntity/h:code"],
    "10160-0": ["h:consumable/h:manufacturedProduct/h:manufacturedMaterial/h:code",
                "h:consumable/h:manufacturedProduct/h:manufacturedMaterial/h:code/h:translation",
                ".//pharm:generalizedMedicineClass/pharm:code", "h:routeCode"],
    "11369-6": ["h:consumable/h:manufacturedProduct/h:manufacturedMaterial/h:code"],
    "46264-8": ["h:participant/h:participantRole/h:playingDevice/h:code"],
    "8716-3": ["h:component/h:observation/h:code"],
    "30954-2": ["h:component/h:observation/h:code", "h:code"],
    "47420-5": ["h:component/h:observation/h:code"],
    "29762-2": ["h:code"],
    "42348-3": ["h:code"],
    "10157-6": ["h:component/h:observation/h:value"],
}


def words(text: str) -> str:
    return " ".join(text.split())


def div_text(div: str) -> str:
    return words(re.sub(r"<[^>]+>", " ", div).replace("&amp;", "&").replace("&#x27;", "'").replace("&quot;", '"'))


def source_sections(root: ET.Element) -> list[ET.Element]:
    return [s for s in root.iter("{urn:hl7-org:v3}section")
            if s.findall("h:entry", NS) or words("".join(s.find("h:text", NS).itertext()) if s.find("h:text", NS)
                                                 is not None else "")]


def codings_under(node) -> set[tuple[str, str]]:
    found = set()
    if isinstance(node, dict):
        if "system" in node and "code" in node and isinstance(node["code"], str):
            found.add((node["system"], node["code"]))
        for value in node.values():
            found |= codings_under(value)
    elif isinstance(node, list):
        for value in node:
            found |= codings_under(value)
    return found


@pytest.fixture(scope="module", params=["VSM_1.4_2022.01.xml", "IPS-FR_2024.01_DLU.xml", "synthetic-ips-fr.xml"])
def converted(request):
    raw = (CDA / request.param).read_bytes()
    result = convert_cda(raw, INS_SYSTEM)
    root = ET.fromstring(raw)  # noqa: S314 - trusted fixture
    return root, result


def resources(bundle: dict) -> dict[str, dict]:
    return {e["fullUrl"]: e["resource"] for e in bundle["entry"]}


def test_the_result_is_a_valid_ips_document(converted):
    _root, result = converted
    assert validate_ips(result.bundle, country_identifier_system=INS_SYSTEM) == []


def test_patient_traits_match_the_header(converted):
    root, result = converted
    patient = next(r for r in resources(result.bundle).values() if r["resourceType"] == "Patient")
    role = root.find("h:recordTarget/h:patientRole", NS)
    ins = next(i for i in role.findall("h:id", NS) if i.get("root").startswith("1.2.250.1.213.1.4."))
    assert patient["identifier"][0] == {"use": "official", "system": INS_SYSTEM, "value": ins.get("extension")}
    if ins.get("root") != "1.2.250.1.213.1.4.8":  # the test OID is kept as sent, beside the country's INS
        assert {"use": "secondary", "system": f"urn:oid:{ins.get('root')}", "value": ins.get("extension")} \
            in patient["identifier"]
    name = role.find("h:patient/h:name", NS)
    birth_family = name.find("h:family[@qualifier='BR']", NS).text.strip()
    all_given = next(g for g in name.findall("h:given", NS) if g.get("qualifier") is None).text.split()
    used_family = name.find("h:family[@qualifier='CL']", NS).text.strip()
    official, usual = patient["name"]
    assert official == {"use": "official", "family": birth_family, "given": all_given}
    assert usual["use"] == "usual" and usual["family"] == used_family
    sex = role.find("h:patient/h:administrativeGenderCode", NS).get("code")
    assert patient["gender"] == {"F": "female", "M": "male"}[sex]
    born = role.find("h:patient/h:birthTime", NS).get("value")
    assert patient["birthDate"] == f"{born[:4]}-{born[4:6]}-{born[6:8]}"
    county = role.find("h:patient/h:birthplace/h:place/h:addr/h:county", NS).text
    birthplace = patient["extension"][0]["valueAddress"]
    assert birthplace["extension"][0]["valueCoding"]["code"] == county


def test_header_author_date_language_and_link_to_the_original(converted):
    root, result = converted
    composition = result.bundle["entry"][0]["resource"]
    effective = root.find("h:effectiveTime", NS).get("value")
    assert composition["date"].replace("-", "").replace(":", "").replace("T", "").startswith(effective[:14])
    assert composition["language"] == root.find("h:languageCode", NS).get("code")
    everything = resources(result.bundle)
    author = everything[composition["author"][0]["reference"]]
    rpps = root.find("h:author/h:assignedAuthor/h:id", NS).get("extension")
    assert author["identifier"][0]["value"] == rpps
    custodian = root.find("h:custodian/h:assignedCustodian/h:representedCustodianOrganization/h:name", NS)
    assert everything[composition["custodian"]["reference"]]["name"] == custodian.text.strip()
    doc_id = root.find("h:id", NS)
    (relation,) = composition["relatesTo"]
    assert relation["code"] == "transforms"
    assert doc_id.get("root").lower() in relation["targetIdentifier"]["value"]


def test_every_section_entry_count_codes_and_narrative(converted):
    root, result = converted
    composition = result.bundle["entry"][0]["resource"]
    everything = resources(result.bundle)
    by_code: dict[str, list[dict]] = {}
    for section in composition["section"]:
        by_code.setdefault(section["code"]["coding"][0]["code"], []).append(section)
    reported = {code: entries for code, _title, entries, _mapped in result.report.sections}
    for source in source_sections(root):
        code = source.find("h:code", NS).get("code")
        (target,) = by_code[code]
        entries = source.findall("h:entry", NS)
        assert reported[code] == len(entries), code
        # the narrative: every text the CDA marks with an ID is in the section's div
        text = source.find("h:text", NS)
        if text is not None:
            div = div_text(target["text"]["div"])
            for element in text.iter():
                if element.get("ID") and words("".join(element.itertext())):
                    assert words("".join(element.itertext())) in div, (code, element.get("ID"))
        if code == "55107-7":  # attached documents stay in the original
            assert "entry" not in target
            continue
        made = [everything[ref["reference"]] for ref in target.get("entry", [])]
        if entries:
            assert made, code
        # linked resources (Medication, Device) belong to the section's codes too
        linked = [everything[r[k]["reference"]] for r in made for k in ("medicationReference", "device") if k in r]
        have = codings_under(made + linked)
        for entry in entries:
            statement = next(child for child in entry if isinstance(child.tag, str))
            for path in PRIMARY.get(code, []):
                for coded in statement.findall(path, NS):
                    if coded.get("code") and coded.get("codeSystem"):
                        system = SYSTEMS.get(coded.get("codeSystem"), f"urn:oid:{coded.get('codeSystem')}")
                        assert (system, coded.get("code")) in have, (code, path, coded.get("code"))


def test_nothing_silently_dropped(converted):
    """Every entry of the CDA has one line in the report: mapped, or kept in the narrative (with its XPath)."""
    root, result = converted
    per_entry = [n for n in result.report.notes if "/entry" in n[0]]
    assert len(per_entry) == sum(entries for _c, _t, entries, _m in result.report.sections) == \
        sum(len(s.findall("h:entry", NS)) for s in source_sections(root))
    assert len(result.report.unmapped) == sum(entries - mapped for _c, _t, entries, mapped in result.report.sections)
    assert all(path.startswith("/ClinicalDocument/") for path, _ in result.report.notes)


def test_medication_posology_is_structured():
    result = convert_cda((CDA / "synthetic-ips-fr.xml").read_bytes(), INS_SYSTEM)
    (statement,) = [r for r in resources(result.bundle).values() if r["resourceType"] == "MedicationStatement"]
    (medication,) = [r for r in resources(result.bundle).values() if r["resourceType"] == "Medication"]
    assert medication["form"]["coding"][0] == {"system": "http://standardterms.edqm.eu", "code": "10221000",
                                               "display": "Comprimé pelliculé"}
    dosage = statement["dosage"][0]
    assert dosage["text"] == "1 comprimé toutes les 12 heures"
    assert dosage["timing"] == {"repeat": {"frequency": 1, "period": 12, "periodUnit": "h"}}
    assert dosage["doseAndRate"][0]["doseQuantity"]["value"] == 1
    assert statement["effectivePeriod"] == {"start": "2015-03-15"}
    assert statement["status"] == "active"


def test_a_treatment_with_an_end_date_is_completed_one_without_is_active():
    result = convert_cda((CDA / "IPS-FR_2024.01_DLU.xml").read_bytes(), INS_SYSTEM)
    statements = [r for r in resources(result.bundle).values() if r["resourceType"] == "MedicationStatement"]
    assert sorted((s["status"], s["effectivePeriod"].get("end")) for s in statements) == [
        ("active", None), ("active", None), ("completed", "2021-12-06")]


def test_attached_pdfs_are_reported_and_kept_out_of_the_ips():
    raw = (CDA / "IPS-FR_2024.01_DLU.xml").read_bytes()
    result = convert_cda(raw, INS_SYSTEM)
    assert [a["media_type"] for a in result.report.attachments] == ["application/pdf", "application/pdf"]
    assert "JVBERi0" not in str(result.bundle)


def test_the_same_cda_always_gives_the_same_bundle():
    raw = (CDA / "VSM_1.4_2022.01.xml").read_bytes()
    assert convert_cda(raw, INS_SYSTEM).bundle == convert_cda(raw, INS_SYSTEM).bundle


ALLOWED_TAGS = {"div", "p", "table", "thead", "tbody", "tr", "td", "th", "ul", "li", "br", "b", "i", "span"}


def test_narratives_use_plain_xhtml_only(converted):
    _root, result = converted
    for section in result.bundle["entry"][0]["resource"]["section"]:
        div = section["text"]["div"]
        assert div.startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
        assert set(re.findall(r"<([a-zA-Z]+)", div)) <= ALLOWED_TAGS, section["title"]
        assert re.findall(r"<[a-z]+ [^>]*>", div[len('<div xmlns="http://www.w3.org/1999/xhtml">'):]) == []


def test_active_content_in_a_cda_narrative_is_not_carried_over():
    raw = (CDA / "synthetic-ips-fr.xml").read_bytes().replace(
        b"<text><paragraph>Patiente malentendante",
        b'<text><linkHtml href="javascript:alert(1)">lien</linkHtml><paragraph styleCode="Bold">'
        b"&lt;script&gt;alert(2)&lt;/script&gt; Patiente malentendante")
    section = next(s for s in convert_cda(raw, INS_SYSTEM).bundle["entry"][0]["resource"]["section"]
                   if s["code"]["coding"][0]["code"] == "44944-7")
    div = section["text"]["div"]
    assert "javascript" not in div and "<script" not in div and "href" not in div
    assert "&lt;script&gt;alert(2)&lt;/script&gt; Patiente malentendante" in div
    assert "<span>lien</span>" in div


def test_an_entry_that_cannot_be_mapped_stays_in_the_narrative_and_is_reported():
    raw = (CDA / "synthetic-ips-fr.xml").read_bytes()
    start = raw.index(b"<entry>", raw.index(b'code="11369-6"'))
    end = raw.index(b"</entry>", start) + len(b"</entry>")
    # an immunisation without any vaccine code, name or text
    raw = raw[:start] + b'<entry><substanceAdministration classCode="SBADM" moodCode="EVN"><statusCode code="completed"/>' \
        b"<consumable><manufacturedProduct><manufacturedMaterial/></manufacturedProduct></consumable>" \
        b"</substanceAdministration></entry>" + raw[end:]
    result = convert_cda(raw, INS_SYSTEM)
    assert result.report.unmapped == [(
        "/ClinicalDocument/component/structuredBody/component[4]/section/entry/substanceAdministration",
        "immunisation without a vaccine code or name: kept in the narrative")]
    assert ("11369-6", "Vaccinations", 1, 0) in result.report.sections
    section = next(s for s in result.bundle["entry"][0]["resource"]["section"]
                   if s["code"]["coding"][0]["code"] == "11369-6")
    assert "Vaccin antigrippal" in section["text"]["div"] and "entry" not in section
    assert validate_ips(result.bundle, country_identifier_system=INS_SYSTEM) == []


def test_a_required_ips_section_missing_from_the_cda_is_added_empty_and_reported():
    raw = (CDA / "synthetic-ips-fr.xml").read_bytes()
    start = raw.rindex(b"<component>", 0, raw.index(b'code="48765-2"'))
    end = raw.index(b"</component>", raw.index(b'code="48765-2"')) + len(b"</component>")
    result = convert_cda(raw[:start] + raw[end:], INS_SYSTEM)
    section = next(s for s in result.bundle["entry"][0]["resource"]["section"]
                   if s["code"]["coding"][0]["code"] == "48765-2")
    assert section["emptyReason"]["coding"][0]["code"] == "unavailable"
    assert ("/ClinicalDocument/component/structuredBody", "required IPS section Allergies and intolerances"
            " (48765-2) absent from the CDA: empty, reason 'unavailable'") in result.report.notes
    assert validate_ips(result.bundle, country_identifier_system=INS_SYSTEM) == []


def test_coded_details_no_structured_element_carries_are_reported():
    result = convert_cda((CDA / "IPS-FR_2024.01_DLU.xml").read_bytes(), INS_SYSTEM)
    partial = dict(result.report.partial)
    assert partial["/ClinicalDocument/component/structuredBody/component[3]/section/entry[2]/procedure/approachSiteCode"] \
        == "229801003 (intra-arterial) not carried by a structured element: kept in the narrative"
    # what is mapped is not reported: the body site, the criticality, the ingredients
    assert not any(path.endswith("/targetSiteCode") and "component[3]/" in path for path in partial)
    everything = resources(result.bundle).values()
    assert next(r for r in everything if r["resourceType"] == "AllergyIntolerance")["criticality"] == "low"
    levothyrox = next(r for r in everything if r["resourceType"] == "Medication" and "LEVOTHYROX" in str(r))
    assert levothyrox["ingredient"][0]["itemCodeableConcept"]["coding"][0]["code"] == "100000091647"
    assert levothyrox["ingredient"][0]["strength"]["numerator"] == {
        "value": 75, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}
    assert convert_cda((CDA / "synthetic-ips-fr.xml").read_bytes(), INS_SYSTEM).report.partial == []


# --- negation and uncertainty (found in review: a negated allergy came out as an allergy) ---------------

SYNTHETIC = CDA / "synthetic-ips-fr.xml"


def _mutated(old: bytes, new: bytes) -> dict[str, list[dict]]:
    raw = SYNTHETIC.read_bytes()
    assert raw.count(old) == 1
    bundle = convert_cda(raw.replace(old, new), INS_SYSTEM).bundle
    found: dict[str, list[dict]] = {}
    for entry in bundle["entry"]:
        found.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    return found


def test_a_negated_allergy_is_refuted_never_an_allergy():
    allergy = b'<observation classCode="OBS" moodCode="EVN">\n                  <code code="416098002"'
    (resource,) = _mutated(allergy, allergy.replace(b'moodCode="EVN">', b'moodCode="EVN" negationInd="true">'))[
        "AllergyIntolerance"]
    assert resource["verificationStatus"]["coding"][0]["code"] == "refuted"


def test_a_negated_medication_is_not_taken():
    statement = (b'<substanceAdministration classCode="SBADM" moodCode="EVN">\n              '
                 b'<templateId root="1.2.250.1.213.1.1.3.42"/>\n              <text><reference value="#med-1-pos"/>')
    statements = _mutated(statement, statement.replace(b'moodCode="EVN">', b'moodCode="EVN" negationInd="true">'))[
        "MedicationStatement"]
    assert statements[0]["status"] == "not-taken"


def test_an_uncertain_problem_is_unconfirmed():
    problem = b'<code code="282291009" codeSystem="2.16.840.1.113883.6.96"/>\n                  <text><reference value="#pb-1"/>'
    raw = SYNTHETIC.read_bytes()
    start = raw.index(problem)
    observation_start = raw.rindex(b'<observation classCode="OBS" moodCode="EVN">', 0, start)
    old = raw[observation_start:start + len(problem)]
    conditions = _mutated(old, old.replace(b'moodCode="EVN">', b'moodCode="EVN" uncertaintyCode="UN">', 1))["Condition"]
    assert conditions[0]["verificationStatus"]["coding"][0]["code"] == "unconfirmed"


def test_the_dosage_text_is_the_posology_not_the_product():
    statement = b'<text><reference value="#med-1-pos"/></text>'
    statements = _mutated(statement, b'<text><reference value="#med-1"/></text>')["MedicationStatement"]
    assert "text" not in statements[0].get("dosage", [{}])[0]  # it pointed at the product's name
