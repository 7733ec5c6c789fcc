"""IPS document validation: real third-party examples pass, broken variants report JSON paths."""

from __future__ import annotations

import copy
import json

import pytest

from gateway.records.ips_validation import (
    DocumentParseError,
    Problem,
    birthplace_of,
    json_path,
    parse_json_document,
    validate_ips,
)

NL_SYSTEM = "urn:oid:2.16.840.1.113883.2.4.6.3"  # the Dutch identifier of the HL7 examples


@pytest.fixture(scope="module")
def hl7_example(fixtures_dir):
    return json.loads((fixtures_dir / "Bundle-IPS-examples-Bundle-01.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def hl7_minimal(fixtures_dir):
    return json.loads((fixtures_dir / "hl7-ips-bundle-minimal.json").read_text(encoding="utf-8"))


@pytest.fixture
def doc(hl7_example):
    return copy.deepcopy(hl7_example)


def paths(problems: list[Problem]) -> list[str]:
    return [p.path for p in problems]


def test_official_hl7_example_is_valid(hl7_example):
    assert validate_ips(hl7_example) == []
    assert validate_ips(hl7_example, country_identifier_system=NL_SYSTEM) == []


def test_hl7_minimal_example_is_valid(hl7_minimal):
    assert validate_ips(hl7_minimal, country_identifier_system=NL_SYSTEM) == []


def test_patient_without_country_identifier(hl7_example):
    problems = validate_ips(hl7_example, country_identifier_system="urn:oid:1.2.250.1.213.1.4.8")
    assert problems == [Problem("$.entry[1].resource.identifier",
                                "the Patient has no identifier in system urn:oid:1.2.250.1.213.1.4.8")]


def test_model_errors_have_json_paths(doc):
    doc["entry"][0]["resource"]["section"][2]["code"] = "oops"
    doc["entry"][1]["resource"]["birthDate"] = "1972-13-01"
    doc["entry"][4]["resource"]["colour"] = "blue"
    del doc["entry"][6]["resource"]["status"]
    problems = validate_ips(doc)
    by_path = {p.path: p.message for p in problems}
    assert "expected an object" in by_path["$.entry[0].resource.section[2].code"]
    assert "1972-13-01" in by_path["$.entry[1].resource.birthDate"]
    assert "unknown element 'colour'" in by_path["$.entry[4].resource.colour"]
    assert "required element 'status' is missing" in by_path["$.entry[6].resource.status"]
    # the broken section code also means the allergies section is no longer recognised
    assert "$.entry[0].resource.section" in by_path


def test_unknown_resource_type(doc):
    doc["entry"][5]["resource"]["resourceType"] = "Nope"
    assert Problem("$.entry[5].resource.resourceType", "unknown FHIR R4 resource type 'Nope'") in validate_ips(doc)


def test_not_a_document(doc):
    doc["type"] = "collection"
    assert paths(validate_ips(doc)) == ["$.type"]


def test_not_a_bundle():
    assert validate_ips({"resourceType": "Patient"}) == [
        Problem("$.resourceType", "an IPS document must be a Bundle, got 'Patient'")]
    assert paths(validate_ips([1, 2])) == ["$"]


def test_missing_identifier_and_timestamp(doc):
    del doc["identifier"], doc["timestamp"]
    assert set(paths(validate_ips(doc))) == {"$.identifier", "$.timestamp"}


def test_no_patient(doc):
    del doc["entry"][1]
    problems = validate_ips(doc)
    assert "$.entry" in paths(problems)
    assert any(p.path == "$.entry[0].resource.subject.reference" and "does not resolve" in p.message for p in problems)


def test_first_entry_not_composition(doc):
    doc["entry"][0], doc["entry"][1] = doc["entry"][1], doc["entry"][0]
    problems = validate_ips(doc)
    assert problems[0].path == "$.entry[0].resource"
    assert "must be a Composition" in problems[0].message


def test_wrong_composition_type(doc):
    doc["entry"][0]["resource"]["type"]["coding"][0]["code"] = "34133-9"
    assert paths(validate_ips(doc)) == ["$.entry[0].resource.type"]


def test_subject_not_a_patient(doc):
    doc["entry"][0]["resource"]["subject"]["reference"] = doc["entry"][2]["fullUrl"]  # the Practitioner
    problems = validate_ips(doc)
    assert problems[0].path == "$.entry[0].resource.subject.reference"
    assert "must be a Patient" in problems[0].message


@pytest.mark.parametrize(("index", "code"), [(0, "11450-4"), (1, "10160-0"), (2, "48765-2")])
def test_missing_required_section(doc, index, code):
    del doc["entry"][0]["resource"]["section"][index]
    problems = validate_ips(doc)
    assert len(problems) == 1
    assert problems[0].path == "$.entry[0].resource.section"
    assert code in problems[0].message


def test_required_section_without_entries(doc):
    del doc["entry"][0]["resource"]["section"][1]["entry"]
    assert paths(validate_ips(doc)) == ["$.entry[0].resource.section[1].entry"]
    doc["entry"][0]["resource"]["section"][1]["emptyReason"] = {"coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/list-empty-reason", "code": "unavailable"}]}
    assert validate_ips(doc) == []


def test_dangling_section_reference(doc):
    doc["entry"][0]["resource"]["section"][1]["entry"][1]["reference"] = "urn:uuid:00000000-0000-0000-0000-000000000000"
    assert validate_ips(doc) == [Problem(
        "$.entry[0].resource.section[1].entry[1].reference",
        "reference 'urn:uuid:00000000-0000-0000-0000-000000000000' does not resolve to an entry of the document")]


def test_duplicate_full_url(doc):
    doc["entry"][3]["fullUrl"] = doc["entry"][2]["fullUrl"]
    problems = validate_ips(doc)
    assert problems[0].path == "$.entry[3].fullUrl" and "already used by entry 2" in problems[0].message


def test_entry_without_full_url_or_resource(doc):
    del doc["entry"][4]["fullUrl"]
    del doc["entry"][5]["resource"]
    got = paths(validate_ips(doc))
    assert "$.entry[4].fullUrl" in got and "$.entry[5].resource" in got


def test_malformed_narrative(doc):
    doc["entry"][0]["resource"]["section"][0]["text"]["div"] = "<div xmlns=\"http://www.w3.org/1999/xhtml\">a < b</div>"
    doc["entry"][7]["resource"]["text"]["div"] = "<p>not a div</p>"
    got = {p.path: p.message for p in validate_ips(doc)}
    assert "not well-formed XHTML" in got["$.entry[0].resource.section[0].text.div"]
    assert "must be a <div" in got["$.entry[7].resource.text.div"]


XHTML = '<div xmlns="http://www.w3.org/1999/xhtml">{}</div>'


@pytest.mark.parametrize(("content", "expected"), [
    ("<p>x</p><script>alert(1)</script>", "element <script> is not allowed"),
    ('<p>x<img src="x" onerror="alert(1)"/></p>', "attribute 'onerror' of <img> is not allowed"),
    ('<p>x</p><iframe src="https://evil.example"/>', "element <iframe> is not allowed"),
    ('<p><a href="javascript:alert(1)">x</a></p>', "attribute 'href' of <a> has a URL scheme not allowed"),
    ('<p><a href=" jav&#x09;ascript:alert(1)">x</a></p>', "attribute 'href' of <a> has a URL scheme not allowed"),
    ('<p>x</p><object data="x"/><embed src="x"/><form/>', "element <object> is not allowed"),
    ('<p style="background: url(https://evil.example/x)">x</p>', "attribute 'style' of <p>"),
    ("<p> \n </p>", "no non-whitespace content (txt-2)"),
])
def test_narratives_with_active_content_or_without_text_are_refused(doc, content, expected):
    """Pen-test finding 5 (country A): FHIR's txt-1 and txt-2, with the element named by its path."""
    doc["entry"][7]["resource"]["text"]["div"] = XHTML.format(content)
    got = [p.message for p in validate_ips(doc) if p.path == "$.entry[7].resource.text.div"]
    assert any(expected in message for message in got), got


@pytest.mark.parametrize(("content", "what"), [
    ('<p>x</p><![CDATA[x><img src=x onerror=alert(document.domain)>]]>', "a CDATA section"),
    ('<p>x</p><?x ><img src=x onerror=alert(document.domain)>?>', "a processing instruction"),
    ('<p>x</p><!--><img src=x onerror=alert(document.domain)>-->', "a comment"),
])
def test_markup_an_html_parser_reads_otherwise_is_refused(doc, content, what):
    """Review of #24, finding 4: XML keeps these as text, an HTML parser ends them at the first '>' and
    builds the <img onerror> (the stored string is what partners render)."""
    doc["entry"][7]["resource"]["text"]["div"] = XHTML.format(content)
    got = [p.message for p in validate_ips(doc) if p.path == "$.entry[7].resource.text.div"]
    resource = doc["entry"][7]["resource"]
    assert any(what in message and f"{resource['resourceType']}/{resource['id']}" in message for message in got), got


def test_a_doctype_or_xml_declaration_in_a_section_narrative_is_refused(doc):
    section = doc["entry"][0]["resource"]["section"][0]
    section["text"]["div"] = '<?xml version="1.0"?><!DOCTYPE div>' + XHTML.format("<p>x</p>")
    got = [p.message for p in validate_ips(doc) if p.path == "$.entry[0].resource.section[0].text.div"]
    assert any("a processing instruction" in m and "section" in m for m in got), got
    assert any("a DOCTYPE" in m for m in got), got


@pytest.mark.parametrize("style", [
    "background:u\\rl(https://attacker.example/t)",
    "background-image:image-set('https://attacker.example/t' 1x)",
    "background: url(https://evil.example/x)",
    "width: expression(alert(1))",
    "@import 'https://attacker.example/x.css'",
    "color: red; behavior: url(x.htc)",
    "position: fixed; top: 0",
    "list-style: url(https://attacker.example/t)",
    "color: r\\65 d",
])
def test_styles_outside_the_allow_list_are_refused(doc, style):
    """Finding 4: CSS escapes, image-set, @import, expression, or a property not on the allow-list."""
    doc["entry"][7]["resource"]["text"]["div"] = XHTML.format(f'<p style="{style}">x</p>')
    got = [p.message for p in validate_ips(doc) if p.path == "$.entry[7].resource.text.div"]
    assert any("attribute 'style' of <p>" in message for message in got), got


def test_ordinary_styles_are_accepted(doc):
    doc["entry"][7]["resource"]["text"]["div"] = XHTML.format(
        '<p style="display: inline-block; background-color: #d9e0e7; padding: 6px; margin: 4px; '
        'border: 1px solid #8da1b4; border-radius: 5px; line-height: 60%">a</p>'
        '<p style="background: LightGoldenRodYellow; color: rgb(10, 20, 30); font-family: \'Times New Roman\', serif;'
        ' font-weight: bold !important">b</p>')
    assert validate_ips(doc) == []


def test_contained_narratives_are_checked_too(doc):
    doc["entry"][7]["resource"]["contained"] = [
        {"resourceType": "Organization", "id": "o", "text": {"status": "generated",
                                                             "div": XHTML.format("<p onclick='x()'>x</p>")}}]
    got = {p.path: p.message for p in validate_ips(doc, model=False)}
    assert "attribute 'onclick' of <p>" in got["$.entry[7].resource.contained[0].text.div"]


def test_ordinary_narrative_formatting_is_accepted(doc):
    doc["entry"][7]["resource"]["text"]["div"] = XHTML.format(
        '<table class="grid" border="1"><tr><th scope="col">a</th><td style="color: red" colspan="2">b</td></tr>'
        '</table><p xml:lang="fr" lang="fr">c <a href="https://example.org/x">lien</a> <a href="#ref1">ref</a>'
        '<br/><img src="#img1" alt="i"/></p>')
    assert validate_ips(doc) == []


def test_relative_references_resolve(hl7_minimal):
    doc = copy.deepcopy(hl7_minimal)
    patient = doc["entry"][1]
    patient["fullUrl"] = "https://example.org/fhir/Patient/" + patient["resource"]["id"]
    doc["entry"][0]["resource"]["subject"]["reference"] = "Patient/" + patient["resource"]["id"]
    assert validate_ips(doc) == []


def test_problem_count_is_capped(doc):
    for entry in doc["entry"][1:]:
        for k in range(30):
            entry["resource"][f"junk{k}"] = 1
    problems = validate_ips(doc)
    assert len(problems) == 201 and problems[-1].message.startswith("... and ")


def test_model_pass_can_be_skipped(doc):
    doc["entry"][4]["resource"]["colour"] = "blue"
    assert validate_ips(doc, model=False) == []


def test_json_path():
    assert json_path(("entry", 0, "resource", "section", 2, "code")) == "$.entry[0].resource.section[2].code"
    assert json_path(("entry", 3, "resource", "function-after[validate(), str]", "_display")) == "$.entry[3].resource._display"


# --- parse_json_document ----------------------------------------------------------------------

def test_parse_ok(fixtures_dir):
    raw = (fixtures_dir / "hl7-ips-bundle-minimal.json").read_bytes()
    assert parse_json_document(raw, max_bytes=1 << 20)["resourceType"] == "Bundle"
    assert parse_json_document(b"\xef\xbb\xbf{\"a\": 1}", max_bytes=100) == {"a": 1}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"resourceType": "Bundle",', "malformed JSON at line 1, column 27"),
        (b'{"a": 1}\n{"b": 2}', "malformed JSON at line 2, column 1"),
        (b"", "document is empty"),
        (b"   \n", "document is empty"),
        (b"[1, 2]", "must be a JSON object, got an array"),
        (b'"Bundle"', "must be a JSON object, got a string"),
        (b'{"name": "\xff\xfe"}', "not valid UTF-8"),
    ],
)
def test_parse_errors(raw, message):
    with pytest.raises(DocumentParseError, match=message) as info:
        parse_json_document(raw, max_bytes=1000)
    assert info.value.problem.path == "$"


def test_parse_too_large():
    with pytest.raises(DocumentParseError, match=r"too large: 2.0 KiB, the limit is 1.0 KiB") as info:
        parse_json_document(b" " * 2048, max_bytes=1024)
    assert info.value.too_large


def test_birthplace_of():
    insee = {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace", "valueAddress": {
        "extension": [{"url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code",
                       "valueCoding": {"code": "2A004"}}], "city": "Ajaccio"}}]}
    assert birthplace_of(insee) == "2A004"
    assert birthplace_of({"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
                                         "valueAddress": {"city": "Köln"}}]}) == "Köln"
    assert birthplace_of({}) is None
