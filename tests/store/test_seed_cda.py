"""`ncpeh seed -c FR --format cda`: the synthetic French population in its real format, through the CDA import."""

from __future__ import annotations

import orjson

from gateway.records.cda.convert import convert_cda
from gateway.records.cda.header import volet_of
from gateway.records.cda.reader import parse_cda
from tests.store.test_import import ncpeh, stored

INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"


def test_seed_cda_stores_the_same_people_with_their_cda_originals(tmp_path):
    as_cda, as_fhir = tmp_path / "cda", tmp_path / "fhir"
    result = ncpeh(as_cda, "seed", "-c", "FR", "--format", "cda", "--patients", "12", "--processes", "1")
    assert result.returncode == 0, result.stderr
    assert "imported 12, updated 0, unchanged 0" in result.stdout
    assert ncpeh(as_fhir, "seed", "-c", "FR", "--patients", "12", "--processes", "1").returncode == 0
    cda_store, fhir_store = stored(as_cda), stored(as_fhir)
    people = cda_store.records.list_patients(100)
    assert [(p.identifier_value, p.family, p.given, p.birthdate, p.gender, p.birthplace) for p in people] == [
        (p.identifier_value, p.family, p.given, p.birthdate, p.gender, p.birthplace)
        for p in fhir_store.records.list_patients(100)]
    for person in people:
        summary = cda_store.records.current_summary(person.id)
        original = cda_store.records.original_document(person.id, summary.version)
        assert original.media_type == "application/hl7-cda+xml"
        assert volet_of(parse_cda(original.document)).name == "IPS-FR"
        # what is stored is what the import makes of the original
        assert orjson.loads(summary.document) == convert_cda(original.document, INS_SYSTEM).bundle
        fhir = orjson.loads(fhir_store.records.current_summary(
            fhir_store.records.find_by_identifier(INS_SYSTEM, person.identifier_value).id).document)
        cda = orjson.loads(summary.document)
        for doc in (fhir, cda):  # the same sections with the same number of problems, medications, allergies
            doc["counts"] = {s["code"]["coding"][0]["code"]: len(s.get("entry", []))
                             for s in doc["entry"][0]["resource"]["section"]}
        for code in ("11450-4", "10160-0", "48765-2", "11348-0", "11369-6", "47519-4"):
            assert fhir["counts"].get(code) == cda["counts"].get(code), (person.identifier_value, code)
    cda_store.close()
    fhir_store.close()


def test_seed_cda_is_french_only(tmp_path):
    result = ncpeh(tmp_path, "seed", "-c", "DE", "--format", "cda", "--patients", "1")
    assert result.returncode != 0
    assert result.stderr.strip() == "ncpeh: error: --format cda: CDA documents are the French national format, not DE's"
