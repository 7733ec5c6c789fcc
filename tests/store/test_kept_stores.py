"""The connections an app keeps (gateway.storage.KeptStores): one per thread and database, held by the app."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from gateway import storage


@pytest.fixture()
def paths(tmp_path):
    made = [tmp_path / f"db{i}.sqlite3" for i in range(storage.KeptStores.PER_THREAD + 1)]
    for path in made:
        storage.open_store(path).close()  # created and migrated once, as init_app does
    return made


def test_one_connection_per_thread_and_database(paths):
    kept = storage.KeptStores()
    first = kept.get(paths[0])
    assert kept.get(paths[0]) is first  # the same thread gets its connection again
    other: list[storage.Store] = []
    thread = threading.Thread(target=lambda: other.append(kept.get(paths[0])))
    thread.start()
    thread.join()
    assert other[0] is not first and other[0].path == first.path  # another thread has its own
    assert storage.KeptStores().get(paths[0]) is not first  # another app keeps its own


def test_least_recently_used_is_closed_beyond_the_bound(paths):
    kept = storage.KeptStores()
    oldest = kept.get(paths[0])
    for path in paths[1:]:
        kept.get(path)
    with pytest.raises(sqlite3.ProgrammingError):  # closed when the fifth database was opened
        oldest.db.execute("SELECT 1")
    assert kept.get(paths[0]) is not oldest


def test_a_dropped_connection_is_closed_and_replaced(paths):
    kept = storage.KeptStores()
    store = kept.get(paths[0])
    kept.drop(store)
    with pytest.raises(sqlite3.ProgrammingError):
        store.db.execute("SELECT 1")
    assert kept.get(paths[0]).ping()
