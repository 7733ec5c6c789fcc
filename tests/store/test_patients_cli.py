"""`ncpeh patients`: whom a tester can search for, as a table or JSON, recorded as an administrative read."""

from __future__ import annotations

import json

from gateway import storage
from gateway.config import country_file, load_config
from tests.store.test_seed_and_coverage import ncpeh


def test_patients_lists_identity_traits_and_is_audited(tmp_path):
    assert ncpeh(tmp_path, "seed", "-c", "FR", "--patients", "5", "--seed", "3").returncode == 0
    listed = ncpeh(tmp_path, "patients", "-c", "FR", "--limit", "3", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    cfg = load_config(country_file("FR"), env={"NCPEH_HOME": str(tmp_path)})
    store = storage.open_store(cfg.database_path)
    try:
        assert rows == [{k: getattr(p, k) for k in rows[0]} for p in store.records.list_patients(3)]
        first = store.records.find_by_identifier(cfg.identifier.system, rows[0]["identifier_value"])
        assert first is not None and first.family == rows[0]["family"]
        (entry,) = [e for e in store.audit.entries() if e.event == "admin.patients.list"]
        assert entry.detail["listed"] == 3 and "Brunet" not in json.dumps(entry.detail)
    finally:
        store.close()
    rest = json.loads(ncpeh(tmp_path, "patients", "-c", "FR", "--offset", "3", "--format", "json").stdout)
    assert len(rest) == 2 and {r["id"] for r in rest}.isdisjoint({r["id"] for r in rows})
    table = ncpeh(tmp_path, "patients", "-c", "FR", "--limit", "2")
    assert table.stdout.splitlines()[0].startswith("INS") and rows[0]["identifier_value"] in table.stdout


def test_patients_refuses_a_missing_database_and_bad_limits(tmp_path):
    missing = ncpeh(tmp_path, "patients", "-c", "FR")
    assert missing.returncode == 1 and "no database yet" in missing.stderr and "Traceback" not in missing.stderr
    bad = ncpeh(tmp_path, "patients", "-c", "FR", "--limit", "0")
    assert bad.returncode == 2 and "--limit" in bad.stderr
