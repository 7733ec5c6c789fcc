"""Storage: the only place that speaks SQL. Blueprints and services use :func:`get_store`."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import sqlite_utils
from flask import Flask, current_app, g

from gateway import timing
from gateway.storage import migrations
from gateway.storage.audit import AuditStore
from gateway.storage.clients import ClientStore
from gateway.storage.db import StorageError, connect
from gateway.storage.records import RecordStore
from gateway.storage.replay import ReplayCache
from gateway.storage.users import UserStore

__all__ = ["Store", "StorageError", "get_store", "init_app", "open_store"]


class Store:
    """One connection and the repositories built on it."""

    def __init__(self, db: sqlite_utils.Database, path: Path) -> None:
        self.db = db
        self.path = path
        self.records = RecordStore(db)
        self.clients = ClientStore(db)
        self.audit = AuditStore(db)
        self.replay = ReplayCache(db)
        self.users = UserStore(db)  # clinician accounts and sessions of the portal

    def ping(self) -> bool:
        try:
            self.db.execute("SELECT 1").fetchone()
            return True
        except Exception:  # noqa: BLE001 - any failure means "not reachable" for /_status
            return False

    def schema_version(self) -> int:
        return migrations.schema_version(self.db)

    def close(self) -> None:
        self.replay.close()
        self.db.conn.close()


def open_store(path: Path, *, migrate: bool = True, check: bool = False) -> Store:
    db = connect(path, check=check)
    if migrate:
        try:
            migrations.apply(db)
        except Exception as exc:
            db.conn.close()
            raise StorageError(f"{path}: schema migration failed ({exc})") from None
    return Store(db, path)


class KeptStores:
    """The connections an app keeps, one per thread and database (each thread of a gunicorn worker keeps its
    own), held by the app (``app.extensions["ncpeh_kept_stores"]``): no module-level state.

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

    def get(self, path: Path) -> Store:
        """This thread's connection to ``path``, opened once and kept."""
        stores = self._stores()
        store = stores.pop(path, None)
        if store is None:
            store = open_store(path, migrate=False)
            while len(stores) >= self.PER_THREAD:
                stores.pop(next(iter(stores))).close()
        stores[path] = store  # most recently used last
        return store

    def drop(self, store: Store) -> None:
        """Forget (and close) this thread's connection of ``store``: it is not usable any more."""
        self._stores().pop(store.path, None)
        store.close()


def get_store() -> Store:
    """The store of the current app context: this thread's kept connection (see :class:`KeptStores`)."""
    if "store" not in g:
        with timing.stage("db-open"):
            g.store = current_app.extensions["ncpeh_kept_stores"].get(current_app.extensions["ncpeh_database_path"])
    return g.store


def _close_store(exc: BaseException | None = None) -> None:
    """End of the app context: the connection stays open for the thread's next request, never inside a
    transaction a failure left open."""
    store = g.pop("store", None)
    if store is None or not store.db.conn.in_transaction:
        return
    try:
        store.db.conn.execute("ROLLBACK")
    except Exception:  # noqa: BLE001 - an unusable connection is dropped; the next request opens another
        current_app.extensions["ncpeh_kept_stores"].drop(store)


def init_app(app: Flask) -> None:
    """Create or upgrade the schema once at start-up and register per-context teardown."""
    cfg = app.config["NCPEH"]
    open_store(cfg.database_path, migrate=True, check=True).close()
    app.extensions["ncpeh_database_path"] = cfg.database_path  # computed once, not on every request
    app.extensions["ncpeh_kept_stores"] = KeptStores()
    app.teardown_appcontext(_close_store)
