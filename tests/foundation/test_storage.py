"""SQLite store: WAL, durable commits, versioned migrations, versioned summaries."""

from __future__ import annotations

import pytest

from gateway import storage
from gateway.storage import migrations
from gateway.storage.records import PatientRecord


def record(value="284057505612387", document=b'{"v": 1}'):
    return PatientRecord("urn:oid:1.2.250.1.213.1.4.8", value, "DUPONT", "Marie Louise", "1984-05-12",
                         "female", "75056", document)


def test_wal_mode_and_durable_settings(tmp_path):
    store = storage.open_store(tmp_path / "db.sqlite3")
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_migrations_are_versioned_and_idempotent(tmp_path):
    path = tmp_path / "db.sqlite3"
    store = storage.open_store(path)
    version = store.schema_version()
    assert version == len(migrations.migrations._migrations)
    store.close()
    again = storage.open_store(path)
    assert again.schema_version() == version
    assert migrations.apply(again.db) == []


def test_summaries_are_versioned_and_deduplicated(tmp_path):
    store = storage.open_store(tmp_path / "db.sqlite3")
    assert store.records.save_records([record()]) == {"imported": 1, "updated": 0, "unchanged": 0}
    assert store.records.save_records([record()]) == {"imported": 0, "updated": 0, "unchanged": 1}
    assert store.records.save_records([record(document=b'{"v": 2}')]) == {"imported": 0, "updated": 1,
                                                                          "unchanged": 0}
    patient = store.records.find_by_identifier("urn:oid:1.2.250.1.213.1.4.8", "284057505612387")
    assert patient is not None and patient.consent == "allowed"
    current = store.records.current_summary(patient.id)
    assert current.version == 2 and current.document == b'{"v": 2}'
    assert [s.version for s in store.records.summary_history(patient.id)] == [1, 2]


def test_failed_batch_writes_nothing(tmp_path):
    store = storage.open_store(tmp_path / "db.sqlite3")

    def records():
        yield record()
        raise RuntimeError("boom in the middle")

    with pytest.raises(RuntimeError):
        store.records.save_records(records())
    assert store.records.count_patients() == 0


def test_corrupt_database_is_refused_with_its_path(tmp_path):
    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(storage.StorageError) as info:
        storage.open_store(path, check=True)
    assert str(path) in str(info.value)


def test_sql_metacharacters_are_data(tmp_path):
    store = storage.open_store(tmp_path / "db.sqlite3")
    store.records.save_records([record(value="x' OR '1'='1")])
    assert store.records.find_by_identifier("urn:oid:1.2.250.1.213.1.4.8", "' OR 1=1 --") is None
    assert store.records.find_by_identifier("urn:oid:1.2.250.1.213.1.4.8", "x' OR '1'='1") is not None
