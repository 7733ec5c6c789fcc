"""Safe reading of CDA documents and the refusals of bad input: each with its reason and XPath."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.records.cda.convert import convert_cda
from gateway.records.cda.reader import MAX_CDA_BYTES, MAX_DEPTH, CdaError, looks_like_xml, parse_cda

CDA = Path(__file__).resolve().parents[1] / "fixtures" / "cda"
INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
SYNTHETIC = (CDA / "synthetic-ips-fr.xml").read_bytes()


def refusal(raw: bytes) -> list[tuple[str, str]]:
    with pytest.raises(CdaError) as caught:
        convert_cda(raw, INS_SYSTEM)
    return caught.value.problems


@pytest.mark.parametrize("name", ["xxe-file.xml", "billion-laughs.xml", "external-dtd.xml"])
def test_doctype_entities_and_external_dtds_are_refused_before_anything_is_read(name):
    problems = refusal((CDA / name).read_bytes())
    assert problems == [("/", "refused: the document declares a DOCTYPE (DTDs and entities are not allowed in a"
                              " CDA document; nothing it references was read)")]
    assert "root:" not in str(problems)


def test_entity_declared_without_doctype_keyword_tricks_is_still_refused():
    raw = b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><x/>'
    assert refusal(raw)[0][1].startswith("refused: the document declares a DOCTYPE")


def test_too_deep_a_document_is_refused():
    raw = b'<ClinicalDocument xmlns="urn:hl7-org:v3">' + b"<a>" * (MAX_DEPTH + 5) + b"</a>" * (MAX_DEPTH + 5) \
        + b"</ClinicalDocument>"
    assert refusal(raw) == [("/", f"document is nested deeper than {MAX_DEPTH} elements")]


def test_truncated_document():
    ((path, message),) = refusal(SYNTHETIC[: len(SYNTHETIC) // 2])
    assert path == "/"
    assert message.startswith("not well-formed XML at line")
    assert "truncated" in message


def test_wrongly_encoded_document():
    latin1 = SYNTHETIC.decode("utf-8").encode("latin-1")  # declares UTF-8, is Latin-1
    ((path, message),) = refusal(latin1)
    assert path == "/"
    assert "not well-formed XML" in message and "encoding" in message


def test_not_a_cda_document():
    assert refusal(b"<html xmlns='http://www.w3.org/1999/xhtml'><body/></html>") == [
        ("/html", "not a CDA document: the root element must be ClinicalDocument in namespace urn:hl7-org:v3")]
    assert refusal(b"<ClinicalDocument/>")[0][0] == "/ClinicalDocument"  # no HL7 v3 namespace
    assert refusal(b"   ") == [("/", "document is empty")]


def test_a_cda_of_another_volet():
    other = SYNTHETIC.replace(b'<templateId root="1.2.250.1.213.1.1.1.51" extension="2024.01"/>',
                              b'<templateId root="1.2.250.1.213.1.1.1.12" extension="2021.01"/>')
    ((path, message),) = refusal(other)
    assert path == "/ClinicalDocument/templateId"
    assert "another volet (templateId 1.2.250.1.213.1.1.1.12)" in message


def test_an_unknown_template_version():
    newer = SYNTHETIC.replace(b'extension="2024.01"', b'extension="2031.01"')
    assert refusal(newer) == [("/ClinicalDocument/templateId[@root='1.2.250.1.213.1.1.1.51']/@extension",
                               "unknown template version 2031.01 of IPS-FR (known: 2024.01)")]


def test_an_ins_with_a_wrong_key():
    wrong = SYNTHETIC.replace(b'extension="261076912341774"', b'extension="261076912341775"')
    ((path, message),) = refusal(wrong)
    assert path == "/ClinicalDocument/recordTarget/patientRole/id/@extension"
    assert message == "invalid INS: INS key 75 does not match: expected 74"


def test_no_ins_at_all_and_other_header_problems_are_all_listed():
    raw = SYNTHETIC.replace(b'root="1.2.250.1.213.1.4.8"', b'root="1.2.3.4"').replace(
        b'<effectiveTime value="20260915103000+0200"/>', b"").replace(b'<birthTime value="19610703"/>', b"")
    problems = dict(refusal(raw))
    assert problems["/ClinicalDocument/effectiveTime"] == "the document has no (valid) effectiveTime"
    assert problems["/ClinicalDocument/recordTarget/patientRole/id"].startswith("the patient has no INS")
    assert problems["/ClinicalDocument/recordTarget/patientRole/patient/birthTime"] == \
        "the patient has no (valid) birth date"


def test_a_cda_without_structured_body():
    raw = SYNTHETIC[: SYNTHETIC.index(b"<component>")] + (
        b"<component><nonXMLBody><text mediaType='application/pdf' representation='B64'>JVBERg==</text>"
        b"</nonXMLBody></component></ClinicalDocument>")
    assert ("/ClinicalDocument/component/nonXMLBody",
            "the document has no structuredBody (a CDA level-3 medical summary is required)") in refusal(raw)


def test_parse_cda_returns_the_clinical_document():
    root = parse_cda(SYNTHETIC)
    assert root.tag == "{urn:hl7-org:v3}ClinicalDocument"


def test_too_large_a_document_is_refused_before_parsing():
    raw = SYNTHETIC + b"<!--" + b"x" * MAX_CDA_BYTES + b"-->"
    assert refusal(raw) == [("/", f"document is too large: {len(raw)} bytes, the limit is {MAX_CDA_BYTES} bytes")]


def test_xml_is_recognised_by_content():
    assert looks_like_xml(SYNTHETIC) and looks_like_xml(b"\xef\xbb\xbf  \n<ClinicalDocument/>")
    assert looks_like_xml("<ClinicalDocument/>".encode("utf-16"))
    assert not looks_like_xml(b'{"resourceType": "Bundle"}') and not looks_like_xml(b"")


def test_a_utf16_document_is_read():
    utf16 = SYNTHETIC.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert convert_cda(utf16, INS_SYSTEM).report.volet.name == "IPS-FR"
