"""The store of a request: this thread's kept SQLite connection or a pooled PostgreSQL connection, per app.

The web layer's side of :mod:`gateway.storage` (which knows nothing of Flask): :func:`init_app` creates or
upgrades the schema at start-up and keeps, on the app, what its processes share; :func:`get_store` gives the
views, hooks and the audit trail the store of the current app context.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app, g
from psycopg_pool import ConnectionPool

from gateway import timing
from gateway.storage import (
    KeptStores,
    PgConnection,
    PgDatabase,
    Store,
    Writers,
    describe,
    is_url,
    open_store,
    pg_pool,
)

__all__ = ["get_store", "init_app"]


@dataclass
class _ProcessStores:
    """One process's state for the app's database (gunicorn forks workers: made in the process that uses it)."""

    pid: int
    writers: Writers = field(default_factory=Writers)  # write lock and audit group commit of this process
    pool: ConnectionPool | None = None  # PostgreSQL: this process's connection pool
    kept: KeptStores = field(default_factory=KeptStores)  # SQLite: each thread's kept connection


def _process_state(app: Flask, target: Path | str) -> _ProcessStores:
    state: _ProcessStores | None = app.extensions.get("ncpeh_storage_process")
    pid = os.getpid()
    if state is None or state.pid != pid:
        pool = pg_pool(str(target), app.config["NCPEH"].threads + 2) if is_url(target) else None
        state = app.extensions["ncpeh_storage_process"] = _ProcessStores(pid, pool=pool)
    return state


def get_store() -> Store:
    """The store of the current app context: this thread's kept SQLite connection, or a pooled PostgreSQL
    connection (taken at the first statement, given back at the end of the context)."""
    if "store" not in g:
        with timing.stage("db-open"):
            target = current_app.extensions["ncpeh_database_path"]
            state = _process_state(current_app, target)
            if state.pool is None:
                g.store = state.kept.get(target, state.writers)
            else:
                g.store = Store(PgDatabase(PgConnection(state.pool, name=describe(target))), target, state.writers)
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
        _process_state(current_app, store.path).kept.drop(store)


def init_app(app: Flask) -> None:
    """Create or upgrade the schema once at start-up and register per-context teardown."""
    cfg = app.config["NCPEH"]
    open_store(cfg.database, migrate=True, check=True).close()
    app.extensions["ncpeh_database_path"] = cfg.database  # computed once, not on every request
    app.teardown_appcontext(_close_store)
