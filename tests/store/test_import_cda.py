"""`ncpeh import` of CI-SIS CDA documents: a batch reported file by file, only valid documents stored,
each with its original CDA beside the IPS (same version), and nothing of a refused file kept."""

from __future__ import annotations

from pathlib import Path

import orjson

from tests.store.test_import import ncpeh, stored

CDA = Path(__file__).resolve().parents[1] / "fixtures" / "cda"
TEST_INS = "279035121518989"  # the ANS examples (INS test OID 1.2.250.1.213.1.4.10)
SYNTHETIC_INS = "261076912341774"


def test_batch_of_cda_documents_reports_each_file_and_stores_only_valid_ones(tmp_path):
    home = tmp_path / "home"
    synthetic = (CDA / "synthetic-ips-fr.xml").read_bytes()
    (tmp_path / "truncated.xml").write_bytes(synthetic[:2000])
    (tmp_path / "other-volet.xml").write_bytes(synthetic.replace(b'root="1.2.250.1.213.1.1.1.51" extension="2024.01"',
                                                                 b'root="1.2.250.1.213.1.1.1.12"'))
    files = [CDA / "VSM_1.4_2022.01.xml", CDA / "IPS-FR_2024.01_DLU.xml", CDA / "synthetic-ips-fr.xml",
             tmp_path / "truncated.xml", tmp_path / "other-volet.xml", CDA / "xxe-file.xml"]
    result = ncpeh(home, "import", "-c", "FR", *map(str, files))
    assert result.returncode == 1
    assert "imported 2, updated 1, unchanged 0, rejected 3" in result.stdout
    assert f"converted {CDA / 'VSM_1.4_2022.01.xml'} (VSM 1.4 201310: 9 sections, 11 of 11 entries mapped, 1 coded" \
        " details in the narrative only)" in result.stdout
    assert (f"converted {CDA / 'IPS-FR_2024.01_DLU.xml'} (IPS-FR 2024.01: 18 sections, 44 of 46 entries mapped,"
            " 38 coded details in the narrative only, 2 attached documents kept in the original)") in result.stdout
    # a tapering (doses in nested administrations) and a maximum dose are named: the Dosage is not all of it
    assert ("/ClinicalDocument/component/structuredBody/component[6]/section/entry[3]/substanceAdministration/"
            "entryRelationship[1]/substanceAdministration: dose step (a nested administration) not carried by a "
            "structured element: kept in the narrative") in result.stdout
    assert ("/ClinicalDocument/component/structuredBody/component[6]/section/entry[3]/substanceAdministration/"
            "maxDoseQuantity: maximum dose not carried by a structured element") in result.stdout
    assert ("/ClinicalDocument/component/structuredBody/component[3]/section/entry[2]/procedure/approachSiteCode:"
            " 229801003 (intra-arterial) not carried by a structured element: kept in the narrative") in result.stdout
    assert ("/ClinicalDocument/component/structuredBody/component[18]/section/entry[1]/organizer: attached document"
            " kept in the original CDA document") in result.stdout
    assert f"rejected {tmp_path / 'truncated.xml'}\n  /: not well-formed XML at line" in result.stderr
    assert f"rejected {tmp_path / 'other-volet.xml'}\n  /ClinicalDocument/templateId: a CI-SIS document of another" \
        in result.stderr
    assert f"rejected {CDA / 'xxe-file.xml'}\n  /: refused: the document declares a DOCTYPE" in result.stderr

    store = stored(home)
    records = store.records
    assert records.count_patients() == 2
    dominique = records.find_by_identifier("urn:oid:1.2.250.1.213.1.4.8", TEST_INS)
    assert (dominique.family, dominique.given, dominique.birthdate, dominique.gender, dominique.birthplace) == (
        "PAT-TROIS", "DOMINIQUE MARIE-LOUISE", "1979-03-28", "female", "51215")
    # two versions (the VSM, then the IPS-FR), each with its own original beside it
    assert [s.version for s in records.summary_history(dominique.id)] == [1, 2]
    for version, name in ((1, "VSM_1.4_2022.01.xml"), (2, "IPS-FR_2024.01_DLU.xml")):
        original = records.original_document(dominique.id, version)
        assert original.document == (CDA / name).read_bytes()
        assert original.media_type == "application/hl7-cda+xml"
    current = orjson.loads(records.current_summary(dominique.id).document)
    assert current["entry"][0]["resource"]["relatesTo"][0]["code"] == "transforms"
    store.close()

    again = ncpeh(home, "import", "-c", "FR", str(CDA / "synthetic-ips-fr.xml"))
    assert "imported 0, updated 0, unchanged 1, rejected 0" in again.stdout


def test_nothing_of_a_file_an_xxe_document_points_to_reaches_the_store_or_a_log(tmp_path):
    home = tmp_path / "home"
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CANARY-6b1f\n")
    xxe = tmp_path / "xxe.xml"
    xxe.write_text((CDA / "xxe-file.xml").read_text().replace("file:///etc/passwd", secret.as_uri()))
    param = tmp_path / "param.xml"
    param.write_text(f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % p SYSTEM "{secret.as_uri()}"> %p;]>'
                     '<ClinicalDocument xmlns="urn:hl7-org:v3"/>')
    result = ncpeh(home, "import", "-c", "FR", str(xxe), str(param), str(CDA / "billion-laughs.xml"),
                   str(CDA / "external-dtd.xml"))
    assert result.returncode == 1
    assert "rejected 4" in result.stdout
    assert result.stderr.count("refused: the document declares a DOCTYPE") == 4
    assert "CANARY" not in result.stdout + result.stderr
    store = stored(home)
    assert store.records.count_patients() == 0
    store.close()
    for path in home.rglob("*"):  # database, WAL, audit trail, logs
        if path.is_file():
            assert b"CANARY" not in path.read_bytes(), path


def test_a_cda_file_over_the_limit_is_refused_unread(tmp_path):
    big = tmp_path / "big.xml"
    with big.open("wb") as handle:
        handle.write((CDA / "synthetic-ips-fr.xml").read_bytes())
        handle.write(b"<!--" + b"x" * (10 * 1024 * 1024) + b"-->")
    result = ncpeh(tmp_path / "home", "import", "-c", "FR", str(big))
    assert result.returncode == 1
    assert f"rejected {big}\n  /: document is too large:" in result.stderr
