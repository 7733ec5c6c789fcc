"""`ncpeh seed` (deterministic synthetic population) and `ncpeh terminology coverage` over the store."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from gateway import storage
from tests.postgres import country, home_env


def ncpeh(home, *args):
    env = {**os.environ, **home_env(home)}
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def identifiers(home, code):
    cfg = country(code, home)
    store = storage.open_store(cfg.database)
    rows = store.db.execute("SELECT identifier_value, family FROM patients ORDER BY identifier_value").fetchall()
    store.close()
    return rows


def test_seed_is_deterministic_and_idempotent(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for home in (a, b):
        result = ncpeh(home, "seed", "-c", "FR", "--patients", "30", "--seed", "7")
        assert result.returncode == 0, result.stderr
        assert "imported 30" in result.stdout
    assert identifiers(a, "FR") == identifiers(b, "FR")
    again = ncpeh(a, "seed", "-c", "FR", "--patients", "30", "--seed", "7")
    assert "unchanged 30" in again.stdout
    other = ncpeh(tmp_path / "c", "seed", "-c", "FR", "--patients", "30", "--seed", "8")
    assert other.returncode == 0
    assert identifiers(tmp_path / "c", "FR") != identifiers(a, "FR")


def test_seed_germany_uses_kvnr_and_german(tmp_path):
    assert ncpeh(tmp_path, "seed", "-c", "DE", "--patients", "5").returncode == 0
    cfg = country("DE", tmp_path)
    store = storage.open_store(cfg.database)
    docs = list(store.records.iter_current_documents())
    store.close()
    assert len(docs) == 5
    assert all(d["entry"][0]["resource"]["language"].startswith("de") for d in docs)
    for value, _ in identifiers(tmp_path, "DE"):
        assert len(value) == 10 and value[0].isalpha()


def test_coverage_report_over_the_store(tmp_path):
    assert ncpeh(tmp_path, "seed", "-c", "FR", "--patients", "20").returncode == 0
    result = ncpeh(tmp_path, "terminology", "coverage", "--store", "FR", "--format", "json", "--language", "de")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    cim10 = report["https://smt.esante.gouv.fr/terminologie-cim-10/"]
    assert cim10["seen"] > 0
    assert set(cim10["translated"]) == {"de"}
    assert isinstance(cim10["untranslated"], list)
    table = ncpeh(tmp_path, "terminology", "coverage", "--store", "FR")
    assert table.returncode == 0 and "loinc" in table.stdout.lower()
    bad = ncpeh(tmp_path, "terminology", "coverage", "--store", "FR", "--language", "tlh")
    assert bad.returncode == 2 and "supported" in bad.stderr
