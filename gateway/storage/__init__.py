"""Storage: the only place that speaks SQL. Blueprints and services use :func:`get_store`."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import sqlite_utils
from flask import Flask, current_app, g
from psycopg_pool import ConnectionPool

from gateway import timing
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

__all__ = ["DatabaseUnavailable", "Store", "StorageError", "Writers", "describe", "exists", "get_store", "init_app",
           "open_store"]


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


#: Connections kept per thread (each thread of a gunicorn worker keeps one per database).
_kept = threading.local()
_KEPT_PER_THREAD = 4


def _thread_store(path: Path, writers: Writers) -> Store:
    """This thread's connection to ``path``, opened once and kept.

    Opening a connection per request costs the pragmas, and closing the last connection of a WAL
    database costs a checkpoint and an fsync (~5 ms on a plain disk) on every request.
    """
    pid = os.getpid()
    stores: dict[Path, Store] = _kept.__dict__.setdefault("stores", {})
    if getattr(_kept, "pid", pid) != pid:  # inherited across a fork: never share the parent's connections
        stores.clear()
    _kept.pid = pid
    store = stores.pop(path, None)
    if store is None:
        store = open_store(path, migrate=False, writers=writers)
        while len(stores) >= _KEPT_PER_THREAD:  # e.g. many test apps in one process: close the oldest
            stores.pop(next(iter(stores))).close()
    stores[path] = store  # most recently used last
    return store


def _process_state(app: Flask, target: Path | str) -> tuple[Writers, ConnectionPool | None]:
    """This process's shared state for the app's database, kept on the app: what its writers share and,
    on PostgreSQL, its connection pool. Made in the process that uses it (gunicorn forks workers)."""
    pid = os.getpid()
    kept = app.extensions.get("ncpeh_storage_process")
    if kept is None or kept[0] != pid:
        pool = pg_pool(str(target), app.config["NCPEH"].threads + 2) if is_url(target) else None
        kept = app.extensions["ncpeh_storage_process"] = (pid, Writers(), pool)
    return kept[1], kept[2]


def get_store() -> Store:
    """The store of the current app context: this thread's kept SQLite connection (see :func:`_thread_store`),
    or a pooled PostgreSQL connection."""
    if "store" not in g:
        with timing.stage("db-open"):
            target = current_app.extensions["ncpeh_database_path"]
            writers, pool = _process_state(current_app, target)
            if pool is None:
                g.store = _thread_store(target, writers)
            else:  # a connection of the pool, taken at the first statement, given back at the end of the context
                g.store = Store(PgDatabase(PgConnection(pool, name=describe(target))), target, writers)
    return g.store


def _close_store(exc: BaseException | None = None) -> None:
    """End of the app context: the connection stays open for the thread's next request, never inside a
    transaction a failure left open (PostgreSQL: it goes back to the pool)."""
    store = g.pop("store", None)
    if store is not None and store.dialect != "sqlite":
        store.db.conn.release()
        return
    if store is None or not store.db.conn.in_transaction:
        return
    try:
        store.db.conn.execute("ROLLBACK")
    except Exception:  # noqa: BLE001 - an unusable connection is dropped; the next request opens another
        getattr(_kept, "stores", {}).pop(store.path, None)
        store.close()


def init_app(app: Flask) -> None:
    """Create or upgrade the schema once at start-up and register per-context teardown."""
    cfg = app.config["NCPEH"]
    open_store(cfg.database, migrate=True, check=True).close()
    app.extensions["ncpeh_database_path"] = cfg.database  # computed once, not on every request
    app.teardown_appcontext(_close_store)
