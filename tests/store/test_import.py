"""`ncpeh import`: validated, all-or-nothing per document, idempotent, with a summary line."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import pytest

from gateway import storage
from tests.conftest import load_fixture
from tests.postgres import country, home_env

INS = "284057505612387"


def ncpeh(home, *args):
    env = {**os.environ, **home_env(home)}
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def with_ins(doc: dict, ins: str) -> dict:
    doc = copy.deepcopy(doc)
    for entry in doc["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            entry["resource"]["identifier"][0]["value"] = ins
    return doc


def valid_ins(nir13: int) -> str:
    return f"{nir13}{97 - nir13 % 97:02d}"


@pytest.fixture()
def home(tmp_path):
    return tmp_path


def stored(home):
    cfg = country("FR", home)
    return storage.open_store(cfg.database)


def test_import_file_then_again_is_unchanged(home, tmp_path):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(load_fixture("ips-fr-dupont.json")))
    first = ncpeh(home, "import", "-c", "FR", str(path))
    assert first.returncode == 0, first.stderr
    assert "imported 1, updated 0, unchanged 0, rejected 0" in first.stdout
    second = ncpeh(home, "import", "-c", "FR", str(path))
    assert "imported 0, updated 0, unchanged 1, rejected 0" in second.stdout
    assert stored(home).records.count_patients() == 1


def test_folder_and_ndjson_with_invalid_documents(home, tmp_path):
    good = load_fixture("ips-fr-dupont.json")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(with_ins(good, valid_ins(1840575056124))))
    not_document = copy.deepcopy(good)
    not_document["type"] = "collection"
    no_patient = copy.deepcopy(good)
    no_patient["entry"] = [e for e in no_patient["entry"] if e["resource"]["resourceType"] != "Patient"]
    wrong_key = with_ins(good, "284057505612300")
    lines = [json.dumps(with_ins(good, valid_ins(2900175056125))), "{not json", json.dumps(not_document),
             json.dumps(no_patient), json.dumps(wrong_key)]
    (folder / "batch.ndjson").write_text("\n".join(lines) + "\n")
    result = ncpeh(home, "import", "-c", "FR", str(folder))
    assert result.returncode == 1
    assert "imported 2, updated 0, unchanged 0, rejected 4" in result.stdout
    err = result.stderr
    assert "batch.ndjson:2" in err and "batch.ndjson:3" in err and "batch.ndjson:4" in err
    assert "$.type" in err  # not a document, reported by JSON path
    assert "Patient" in err
    assert "key" in err.lower()  # INS key failure explained
    assert stored(home).records.count_patients() == 2


def test_rejected_new_version_leaves_stored_summary_intact(home, tmp_path):
    good = load_fixture("ips-fr-dupont.json")
    (tmp_path / "v1.json").write_text(json.dumps(good))
    assert ncpeh(home, "import", "-c", "FR", str(tmp_path / "v1.json")).returncode == 0
    broken = copy.deepcopy(good)
    broken["entry"][0]["resource"]["section"] = broken["entry"][0]["resource"]["section"][:1]  # drops required ones
    (tmp_path / "v2.json").write_text(json.dumps(broken))
    result = ncpeh(home, "import", "-c", "FR", str(tmp_path / "v2.json"))
    assert result.returncode == 1 and "rejected 1" in result.stdout
    store = stored(home)
    patient = store.records.find_by_identifier("urn:oid:1.2.250.1.213.1.4.8", INS)
    assert store.records.current_summary(patient.id).version == 1


def test_new_version_is_kept_in_history(home, tmp_path):
    good = load_fixture("ips-fr-dupont.json")
    (tmp_path / "v1.json").write_text(json.dumps(good))
    changed = copy.deepcopy(good)
    changed["timestamp"] = "2026-11-01T10:00:00+01:00"
    (tmp_path / "v2.json").write_text(json.dumps(changed))
    ncpeh(home, "import", "-c", "FR", str(tmp_path / "v1.json"))
    result = ncpeh(home, "import", "-c", "FR", str(tmp_path / "v2.json"))
    assert "updated 1" in result.stdout
    store = stored(home)
    patient = store.records.find_by_identifier("urn:oid:1.2.250.1.213.1.4.8", INS)
    assert [s.version for s in store.records.summary_history(patient.id)] == [1, 2]
    assert json.loads(store.records.current_summary(patient.id).document)["timestamp"] == changed["timestamp"]


def test_oversized_and_missing_files(home, tmp_path):
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (10 * 1024 * 1024 + 10))
    result = ncpeh(home, "import", "-c", "FR", str(big), str(tmp_path / "missing.json"))
    assert result.returncode == 1
    assert "rejected 2" in result.stdout
    assert "too large" in result.stderr.lower() or "larger" in result.stderr.lower()
    assert "no such file" in result.stderr


def test_unicode_and_sql_metacharacters_in_names(home, tmp_path):
    doc = with_ins(load_fixture("ips-fr-dupont.json"), valid_ins(1840575056124))
    for entry in doc["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            entry["resource"]["name"][0]["family"] = "D'ÉPINAY'; DROP TABLE patients; --"
            entry["resource"]["name"][0]["given"] = ["Zoë", "Åsa"]
    (tmp_path / "u.json").write_text(json.dumps(doc, ensure_ascii=False))
    result = ncpeh(home, "import", "-c", "FR", str(tmp_path / "u.json"))
    assert result.returncode == 0, result.stderr
    patient = stored(home).records.find_by_identifier("urn:oid:1.2.250.1.213.1.4.8", valid_ins(1840575056124))
    assert patient.family == "D'ÉPINAY'; DROP TABLE patients; --" and patient.given == "Zoë Åsa"
