"""`ncpeh patients`: whom a tester can search for, as a table or JSON, recorded as an administrative read."""

from __future__ import annotations

import json
import os

from gateway import storage
from tests.postgres import country
from tests.store.test_seed_and_coverage import ncpeh


def test_patients_lists_identity_traits_and_is_audited(tmp_path):
    assert ncpeh(tmp_path, "seed", "-c", "FR", "--patients", "5", "--seed", "3").returncode == 0
    listed = ncpeh(tmp_path, "patients", "-c", "FR", "--limit", "3", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    cfg = country("FR", tmp_path)
    store = storage.open_store(cfg.database)
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


def test_patients_refuses_a_missing_database_and_bad_limits(tmp_path, backend, monkeypatch):
    if backend == "postgresql":  # a database the server does not have: one line naming the server, exit 1
        url = os.environ["NCPEH_DATABASE_URL"].rsplit("/", 1)[0] + "/no_such_database"
        monkeypatch.setenv("NCPEH_DATABASE_URL", url)
    missing = ncpeh(tmp_path, "patients", "-c", "FR")
    assert missing.returncode != 0 and "Traceback" not in missing.stderr, missing.stderr
    if backend == "postgresql":
        assert len(missing.stderr.strip().splitlines()) == 1, missing.stderr
        assert "PostgreSQL at 127.0.0.1:" in missing.stderr and "no_such_database" in missing.stderr
        assert os.environ["NCPEH_DATABASE_URL"].split(":")[2].split("@")[0] not in missing.stderr  # no password
    else:
        assert missing.returncode == 1 and "no database yet" in missing.stderr
    bad = ncpeh(tmp_path, "patients", "-c", "FR", "--limit", "0")
    assert bad.returncode == 2 and "--limit" in bad.stderr
