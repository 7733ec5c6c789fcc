"""Storage: the only place that speaks SQL. Blueprints and services use :func:`get_store`."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils
from flask import Flask, current_app, g

from gateway.storage import migrations
from gateway.storage.audit import AuditStore
from gateway.storage.clients import ClientStore
from gateway.storage.db import StorageError, connect
from gateway.storage.records import RecordStore
from gateway.storage.replay import ReplayCache

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

    def ping(self) -> bool:
        try:
            self.db.execute("SELECT 1").fetchone()
            return True
        except Exception:  # noqa: BLE001 - any failure means "not reachable" for /_status
            return False

    def schema_version(self) -> int:
        return migrations.schema_version(self.db)

    def close(self) -> None:
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


def get_store() -> Store:
    """The store of the current app context (opened on first use, closed at teardown)."""
    if "store" not in g:
        g.store = open_store(current_app.config["NCPEH"].database_path, migrate=False)
    return g.store


def _close_store(exc: BaseException | None = None) -> None:
    store = g.pop("store", None)
    if store is not None:
        store.close()


def init_app(app: Flask) -> None:
    """Create or upgrade the schema once at start-up and register per-context teardown."""
    cfg = app.config["NCPEH"]
    open_store(cfg.database_path, migrate=True, check=True).close()
    app.teardown_appcontext(_close_store)
