"""Storage: the only place that speaks SQL (no Flask here: the store of a request is
:func:`gateway.request_store.get_store`)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import sqlite_utils

from gateway.storage import migrations
from gateway.storage.audit import AuditStore
from gateway.storage.clients import ClientStore
from gateway.storage.db import (
    PING_TIMEOUT,
    DatabaseUnavailable,
    PgConnection,
    PgDatabase,
    StorageError,
    Writers,
    connect,
    connect_pg,
    describe,
    dialect,
    is_url,
    pg_pool,
)
from gateway.storage.records import RecordStore
from gateway.storage.replay import ReplayCache
from gateway.storage.users import UserStore

__all__ = ["DatabaseUnavailable", "KeptStores", "PgConnection", "PgDatabase", "Store", "StorageError", "Writers",
           "describe", "exists", "is_url", "open_store", "pg_pool"]


class Store:
    """One connection and the repositories built on it (``path``: the SQLite file, or the PostgreSQL URL)."""

    def __init__(self, db: sqlite_utils.Database | PgDatabase, path: Path | str, writers: Writers | None = None) -> None:
        self.db = db
        self.path = path
        #: What this process's writers of the database share (write lock, audit group commit): pass it to
        #: the stores opened beside this one (``open_store(..., writers=store.writers)``).
        self.writers = writers or Writers()
        self.dialect = dialect(db)
        #: How messages name the database: the file, or PostgreSQL's host, port and name (never the password).
        self.name = describe(path)
        self.records = RecordStore(db)
        self.clients = ClientStore(db)
        self.audit = AuditStore(db, self.writers)
        self.replay = ReplayCache(db, self.writers)
        self.users = UserStore(db)  # clinician accounts and sessions of the portal

    def ping(self) -> bool:
        """Whether the database answers (``/_status``); a pooled connection is waited for briefly only."""
        try:
            if isinstance(self.db, PgDatabase):
                self.db.conn.acquire(PING_TIMEOUT)
            self.db.execute("SELECT 1").fetchone()
            return True
        except Exception:  # noqa: BLE001 - any failure means "not reachable" for /_status
            return False

    def table_names(self) -> list[str]:
        """The database's tables, sorted (tests compare their contents before and after a request)."""
        if isinstance(self.db, PgDatabase):
            sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        else:
            sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
        return sorted(row[0] for row in self.db.execute(sql).fetchall())

    def schema_version(self) -> int:
        return migrations.schema_version(self.db)

    def close(self) -> None:
        """Close the connection (a pooled PostgreSQL connection goes back to its pool)."""
        self.replay.close()
        self.db.conn.close()


def exists(target: Path | str) -> bool:
    """Whether the database is there: the SQLite file exists, or (PostgreSQL) it is configured."""
    return is_url(target) or Path(target).exists()


def open_store(path: Path | str, *, migrate: bool = True, check: bool = False, writers: Writers | None = None) -> Store:
    """Open the SQLite file ``path`` or the PostgreSQL database at URL ``path``; ``migrate``: create or upgrade
    the schema; ``check``: an integrity check (SQLite), and a schema older than the code is refused."""
    db: sqlite_utils.Database | PgDatabase = connect_pg(path) if is_url(path) else connect(Path(path), check=check)
    name = describe(path)
    try:
        if migrate:
            migrations.apply(db)
        elif check and (found := migrations.schema_version(db)) < migrations.latest_version():
            raise StorageError(f"{name}: schema version {found} is older than this version's"
                               f" {migrations.latest_version()}: run 'ncpeh init-db' to upgrade it")
    except StorageError:
        db.conn.close()
        raise
    except Exception as exc:
        db.conn.close()
        raise StorageError(f"{name}: schema migration failed ({' '.join(str(exc).split())[:300]})") from None
    return Store(db, path, writers)


class KeptStores:
    """The SQLite connections an app keeps, one per thread and database (each thread of a gunicorn worker keeps
    its own), held by the app: no module-level state.

    Opening a connection per request costs the pragmas, and closing the last connection of a WAL
    database costs a checkpoint and an fsync (~5 ms on a plain disk) on every request.
    """

    PER_THREAD = 4  # e.g. several databases in one thread: the least recently used is closed

    def __init__(self) -> None:
        self._local = threading.local()  # per thread: {path: Store}, and the pid they were opened in

    def _stores(self) -> dict[Path, Store]:
        stores: dict[Path, Store] = self._local.__dict__.setdefault("stores", {})
        pid = os.getpid()
        if getattr(self._local, "pid", pid) != pid:  # inherited across a fork: never share the parent's connections
            stores.clear()
        self._local.pid = pid
        return stores

    def get(self, path: Path, writers: Writers | None = None) -> Store:
        """This thread's connection to ``path``, opened once and kept (``writers``: what this process's
        writers of the database share)."""
        stores = self._stores()
        store = stores.pop(path, None)
        if store is None:
            store = open_store(path, migrate=False, writers=writers)
            while len(stores) >= self.PER_THREAD:
                stores.pop(next(iter(stores))).close()
        stores[path] = store  # most recently used last
        return store

    def drop(self, store: Store) -> None:
        """Forget (and close) this thread's connection of ``store``: it is not usable any more."""
        self._stores().pop(store.path, None)
        store.close()
