"""Per-client rate limiting of the partner API: a token bucket per client, shared by every worker.

gunicorn runs several worker processes (``server.workers``), each with threads: a per-process
counter would multiply the allowance by the number of workers. The buckets therefore live in a
small SQLite file of their own (``<data_dir>/ratelimit.sqlite3``), refilled and spent by one
UPSERT statement per request (atomic: writers of every process serialise on it). It is
not the main database: buckets are throw-away state, so the file is opened with ``synchronous =
OFF`` (no fsync on the hot path) and a lost or deleted file simply starts every bucket full.

On PostgreSQL (several replicas) the buckets are an UNLOGGED table of the country's database, shared by
every node: the same statement with PostgreSQL's LEAST/GREATEST, no WAL on the hot path, and a crash of
the server empties it (every bucket starts full again), as losing the SQLite file does.
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from psycopg_pool import ConnectionPool

from gateway.storage.db import PgConnection, is_url, pg_pool

#: Refill the bucket for the time elapsed (up to ``burst``), spend one token when there is one; a new
#: bucket starts full. One statement: atomic, whichever process runs it.
_REFILLED = "min(:burst, tokens + max(0.0, :now - updated) * :rate)"
_SPEND = f"""
INSERT INTO token_buckets (key, tokens, updated, allowed)
VALUES (:key, max(:burst - 1.0, 0.0), :now, :burst >= 1.0)
ON CONFLICT (key) DO UPDATE SET
    tokens = CASE WHEN {_REFILLED} >= 1.0 THEN {_REFILLED} - 1.0 ELSE {_REFILLED} END,
    allowed = {_REFILLED} >= 1.0,
    updated = :now
RETURNING tokens, allowed
"""  # noqa: S608 - a fixed expression, values bound
#: A token given back (a reserved attempt that succeeded), never above the burst.
_GIVE_BACK = "UPDATE token_buckets SET tokens = min(tokens + 1.0, ?) WHERE key = ?"
_PG_GIVE_BACK = _GIVE_BACK.replace("min(", "LEAST(")
#: Buckets untouched this long have refilled (any burst of at most 24 hours' worth of requests): deleting them
#: changes nothing, a missing bucket starts full. Without it, each claimed client id and address (callers
#: choose them) would add a row for ever.
PRUNE_AFTER = 24 * 3600
PRUNE_EVERY = 60
_PRUNE = "DELETE FROM token_buckets WHERE updated < ?"
_PG_SPEND = (_SPEND.replace("min(", "LEAST(").replace("max(", "GREATEST(")  # and the stored row named, as PostgreSQL requires
             .replace("tokens + ", "token_buckets.tokens + ").replace("- updated", "- token_buckets.updated"))
_PG_TABLE = ("CREATE UNLOGGED TABLE IF NOT EXISTS token_buckets (key TEXT PRIMARY KEY, tokens DOUBLE PRECISION NOT NULL,"
             " updated DOUBLE PRECISION NOT NULL, allowed BOOLEAN NOT NULL)")
#: Advisory lock key while creating the table (replicas starting together).
_PG_TABLE_LOCK = 0x6E6370726C


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after: int  # seconds until one request is allowed again (0 when allowed)


class RateLimiter:
    """Token buckets: ``burst`` requests at once, refilled at ``per_minute / 60`` per second."""

    def __init__(self, path: Path | str, pool_size: int = 4) -> None:
        """``path``: the SQLite file of the buckets, or the country's PostgreSQL URL (shared by its replicas)."""
        self.path = path
        self._pruned = 0.0  # when this limiter last deleted refilled buckets
        self._local = threading.local()
        self._write_lock = threading.Lock()  # this process's threads queue here, not in SQLite's busy handler
        self._pool: ConnectionPool | None = None
        if is_url(path):
            self._pool = pg_pool(str(path), pool_size)
            with self._pg() as conn:
                conn.execute("BEGIN")
                conn.execute("SELECT pg_advisory_xact_lock(?)", (_PG_TABLE_LOCK,))
                conn.execute(_PG_TABLE)
                conn.execute("COMMIT")
            return
        conn = self._connect()
        conn.execute(
            "CREATE TABLE IF NOT EXISTS token_buckets (key TEXT PRIMARY KEY, tokens REAL NOT NULL,"
            " updated REAL NOT NULL, allowed INTEGER NOT NULL)"
        )

    def _pg(self) -> _Borrowed:
        assert self._pool is not None
        return _Borrowed(PgConnection(self._pool, name=str(self._pool.name)))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=5, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 5000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = OFF")
            self._local.conn = conn
        return conn

    def take(self, key: str, per_minute: int, burst: int, now: float | None = None) -> Decision:
        """Spend one request of ``key``'s bucket, or say how long to wait."""
        now = time.time() if now is None else now
        self.prune(now)
        rate = max(per_minute, 1) / 60.0
        params = {"key": key, "burst": float(burst), "rate": rate, "now": now}
        (tokens, allowed), = self._run(_SPEND, _PG_SPEND, params)
        allowed = bool(allowed)
        retry = 0 if allowed else max(1, math.ceil((1.0 - tokens) / rate))
        return Decision(allowed, int(tokens), retry)

    def give_back(self, key: str, burst: int) -> None:
        """Return one request to ``key``'s bucket (at most ``burst``): a reserved attempt that succeeded."""
        self._run(_GIVE_BACK, _PG_GIVE_BACK, (float(burst), key))

    def prune(self, now: float | None = None) -> None:
        """Delete the buckets that have refilled (untouched for :data:`PRUNE_AFTER`), at most once a minute."""
        now = time.time() if now is None else now
        if now - self._pruned < PRUNE_EVERY:
            return
        self._pruned = now
        self._run(_PRUNE, _PRUNE, (now - PRUNE_AFTER,))

    def _run(self, sql: str, pg_sql: str, params: tuple | dict) -> list[tuple]:
        """One statement (``pg_sql`` on PostgreSQL), its own transaction, read to the end: it (and its commit)
        completes here. SQLite: this process's threads queue on the write lock, not in SQLite's busy handler."""
        if self._pool is not None:
            with self._pg() as conn:
                cursor = conn.execute(pg_sql, params)
                return cursor.fetchall() if cursor.description else []
        with self._write_lock:
            return self._connect().execute(sql, params).fetchall()


class _Borrowed:
    """A pooled PostgreSQL connection for one statement (given back, or dropped when it broke)."""

    def __init__(self, conn: PgConnection) -> None:
        self.conn = conn

    def __enter__(self) -> PgConnection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.release()

