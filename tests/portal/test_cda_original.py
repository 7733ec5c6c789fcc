"""The portal shows a summary France imported from a CI-SIS CDA document in the clinician's language, and
offers the original document and the PDFs embedded in it (each fetched from France on request, audited)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from gateway.services.population import import_paths
from tests.portal.conftest import Clinician, message

CDA = Path(__file__).resolve().parents[1] / "fixtures" / "cda"
DOMINIQUE = {"identifier": "279035121518989", "family": "PAT-TROIS", "given": "DOMINIQUE", "birthdate": "1979-03-28",
             "gender": "female"}


def import_cda(running, *names: str) -> None:
    store = running.store("FR")
    try:
        report = import_paths(store, running.configs["FR"], [CDA / n for n in names], processes=1)
    finally:
        store.close()
    assert not report.rejected, report.rejected


def test_cda_imported_summary_in_german_with_its_original_and_embedded_pdfs(countries, signed_in: Clinician):
    import_cda(countries, "IPS-FR_2024.01_DLU.xml")
    summary = signed_in.open_summary(DOMINIQUE)
    assert summary.status == 200, summary.text[:500]
    assert "PAT-TROIS" in summary.text
    link = summary.find("a", href="/original")
    assert link is not None and link.text == message("de", "Original document")

    page = signed_in.get("/original")
    assert page.status == 200, page.text[:500]
    assert message("de", "Download the original document (CDA)") in page.text
    assert "Attestation de la carte vitale" in page.text and "Attestation de mutuelle" in page.text
    cda = signed_in.http.get(signed_in.url("/original/document"), timeout=60)
    assert cda.status_code == 200
    assert cda.headers["Content-Type"].startswith("application/hl7-cda+xml")
    assert cda.headers["Content-Disposition"] == 'attachment; filename="original-fr-document.xml"'
    assert cda.content == (CDA / "IPS-FR_2024.01_DLU.xml").read_bytes()

    assert page.find("a", href="/original/embedded/doc-2") is not None
    pdf = signed_in.http.get(signed_in.url("/original/embedded/doc-2"), timeout=60)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    source = (CDA / "IPS-FR_2024.01_DLU.xml").read_text(encoding="utf-8")
    encoded = re.search(r'ID="doc-2">\s*<value[^>]*>([^<]+)</value>', source).group(1)
    assert pdf.content == base64.b64decode("".join(encoded.split()))

    missing = signed_in.get("/original/embedded/nothing-here")
    assert missing.status == 404
    assert "Traceback" not in missing.text


def test_a_summary_imported_as_fhir_offers_no_original(countries, signed_in: Clinician):
    summary = signed_in.open_summary()  # Marie Dupont, stored from FHIR JSON
    assert summary.status == 200
    assert summary.find("a", href="/original") is None


ELISE = {"identifier": "261076912341774", "family": "MARCHAND", "given": "ÉLISE", "birthdate": "1961-07-03",
         "gender": "female"}


def test_cda_imported_summary_is_shown_in_german(countries, signed_in: Clinician):
    import_cda(countries, "synthetic-ips-fr.xml")
    summary = signed_in.open_summary(ELISE)
    assert summary.status == 200, summary.text[:500]
    assert summary.find("html").attrs["lang"] == "de"
    assert summary.title == message("de", "Patient summary of %(given)s %(family)s", given="ÉLISE JEANNE",
                                    family="MARCHAND")
    text = summary.text
    assert "MARCHAND" in text
    assert "Diabetes mellitus, Typ 2" in text  # E11.9 as France sent it, displayed in German
    assert "E11.9" in text and "METFORMINE EUROGEN 1000 mg" in text  # the originals stay visible
    assert summary.find("a", href="/original") is not None


def test_original_document_pages_need_a_signed_in_clinician_and_a_patient(countries, signed_in: Clinician):
    for path in ("/original", "/original/document", "/original/embedded/doc-1"):
        anonymous = Clinician(countries, "DE").get(path)
        assert anonymous.url.split("?")[0].endswith("/signin"), (path, anonymous.url)
        no_patient = signed_in.get(path)  # signed in, but no patient confirmed in this session
        assert no_patient.status == 409, (path, no_patient.status)
