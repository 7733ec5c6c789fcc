"""The catalogue (ids, descriptions, specifications, severities), its documentation, and the reports."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from gateway.cli import main
from gateway.conformance import report, runner
from gateway.conformance.catalogue import Outcome, markdown_table
from gateway.conformance.checks_summary import _resolves

DOC = Path(__file__).resolve().parents[2] / "docs" / "conformance.md"
GROUPS_REQUIRED = {"TLS", "identification", "summary", "assertions", "consent", "errors", "performance"}


def test_the_catalogue_is_complete_and_well_formed() -> None:
    checks = runner.checks()
    assert len(checks) >= 40
    assert len({c.id for c in checks}) == len(checks)
    assert {c.group for c in checks} == GROUPS_REQUIRED
    for item in checks:
        assert re.fullmatch(r"[A-Z0-9]+(-[A-Z0-9]+)+", item.id), item.id
        assert item.severity in ("error", "warning")
        assert item.description and "\n" not in item.description
        assert any(name in item.spec for name in ("IHE", "eHDSI", "FHIR", "RFC")), item.id
    # what the issue asks for, by id
    for wanted in ("TLS-NO-TLS11", "TLS-CLIENT-CERT-REQUIRED", "TLS-OTHER-CA-REFUSED", "ID-WRONG-KEY", "ID-UNKNOWN",
                   "ID-SEVERAL", "SUM-DOCUMENT", "SUM-COMPOSITION-FIRST", "SUM-SECTIONS", "SUM-REFERENCES", "SUM-PIVOT",
                   "AS-HCP-MISSING", "AS-TRC-MISSING", "AS-HCP-EXPIRED", "AS-HCP-NOT-YET-VALID", "AS-HCP-WRONG-AUDIENCE",
                   "AS-HCP-WRONG-ISSUER", "AS-HCP-BAD-SIGNATURE", "AS-HCP-ALG-NONE", "AS-HCP-REUSE", "AS-TRC-REPLAY",
                   "AS-TRC-OTHER-PATIENT", "AS-PURPOSE-NOT-ALLOWED", "AS-ROLE-NOT-ALLOWED", "CONSENT-REFUSED",
                   "ERR-UNKNOWN-ROUTE", "PERF-SUMMARY-P50"):
        assert wanted in {c.id for c in checks}, wanted
    assert next(c for c in checks if c.id == "PERF-SUMMARY-P50").severity == "warning"


def test_the_documentation_lists_the_catalogue_as_registered() -> None:
    listed = CliRunner().invoke(main, ["conformance", "--list"])
    assert listed.exit_code == 0
    assert listed.output == markdown_table(runner.checks())
    text = DOC.read_text(encoding="utf-8")
    start, end = "<!-- catalogue: ncpeh conformance --list -->\n", "<!-- end of catalogue -->"
    assert start in text and end in text, "docs/conformance.md lost its catalogue markers"
    documented = text.split(start, 1)[1].split(end, 1)[0]
    assert documented == listed.output, "docs/conformance.md is stale: paste the output of 'ncpeh conformance --list'"


def _outcomes() -> list[Outcome]:
    checks = {c.id: c for c in runner.checks()}
    return [Outcome(checks["TLS-HANDSHAKE"], "pass", "TLSv1.3 negotiated"),
            Outcome(checks["SUM-DOCUMENT"], "fail", "got <script>alert('x')</script> & more"),
            Outcome(checks["CONSENT-REFUSED"], "skip", "no patient who opposed given"),
            Outcome(checks["PERF-SUMMARY-P50"], "fail", "slow")]


def test_junit_report() -> None:
    suite = ET.fromstring(report.junit_xml(_outcomes(), "https://ncp.example/fhir"))
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "2", "1")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["SUM-DOCUMENT"].find("failure").get("type") == "error"
    assert cases["SUM-DOCUMENT"].find("failure").get("message") == "got <script>alert('x')</script> & more"
    assert cases["PERF-SUMMARY-P50"].find("failure").get("type") == "warning"
    assert cases["CONSENT-REFUSED"].find("skipped").get("message") == "no patient who opposed given"
    assert cases["TLS-HANDSHAKE"].find("failure") is None and cases["TLS-HANDSHAKE"].find("skipped") is None
    assert runner.failed(_outcomes())
    assert not runner.failed([o for o in _outcomes() if o.check.id != "SUM-DOCUMENT"])  # a warning does not fail


def test_html_report_is_self_contained_and_escaped() -> None:
    page = report.html_report(_outcomes(), "https://ncp.example/fhir?<b>", "NOT CONFORMANT")
    assert "<script>" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in page
    assert "https://ncp.example/fhir?&lt;b&gt;" in page
    assert "<style>" in page and "<link" not in page and "src=" not in page and "@import" not in page
    assert page.count('<tr class="fail">') == 2 and page.count('<tr class="skip">') == 1


def test_the_subject_check_resolves_relative_references_as_fhir_does():
    """Found in review: a valid relative Composition.subject ('Patient/p') was reported as a failure."""
    entry = {"fullUrl": "https://a.example/fhir/Patient/p", "resource": {"resourceType": "Patient", "id": "p"}}
    assert _resolves(entry, "Patient/p") and _resolves(entry, "https://a.example/fhir/Patient/p")
    assert not _resolves(entry, "Patient/q") and not _resolves(entry, None)
    assert _resolves({"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient"}}, "urn:uuid:1")
