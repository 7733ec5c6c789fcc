"""Replay cache of signed assertions: each (issuer, jti) is accepted once, across workers and restarts."""

from __future__ import annotations

import sqlite3
import time

import sqlite_utils

from gateway import timing
from gateway.storage.db import POSTGRESQL, Writers, dialect
from gateway.storage.records import utcnow

#: Forgotten entries are purged at most this often (seconds), by whichever request comes first.
PURGE_INTERVAL = 60


class ReplayCache:
    def __init__(self, db: sqlite_utils.Database, writers: Writers) -> None:
        self.conn = db.conn
        self._writers = writers
        self._write_lock = writers.lock
        self._writer: sqlite3.Connection | None = None

    def _writer_conn(self) -> sqlite3.Connection:
        """A second connection to the same file, opened once with ``synchronous = NORMAL``.

        Entries are written without their own fsync: safe from a crash of the process, and atomic,
        so a jti is accepted once across workers. They reach the disk with the audit record of the
        same request, committed with synchronous FULL before any answer leaves (one WAL, synced in
        order): no answer is given for an assertion the cache could forget. This saves two fsyncs
        (HCP and TRC) per request at country A, and keeps the pragma off the hot path.
        """
        if self._writer is None and dialect(self.conn) == POSTGRESQL:
            self._writer = self.conn  # one shared table for every node; each insert commits on its own
        if self._writer is None:
            row = self.conn.execute("PRAGMA database_list").fetchone()
            path = row[2] if row else ""
            if not path:  # an in-memory database: nothing to sync, and no second connection can see it
                self._writer = self.conn
            else:
                writer = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
                writer.execute("PRAGMA busy_timeout = 10000")
                writer.execute("PRAGMA synchronous = NORMAL")
                self._writer = writer
        return self._writer

    def remember(self, issuer: str, jti: str, kind: str, expires_at: int, now: int | None = None) -> bool:
        """Record the assertion; False when this issuer's ``jti`` was already seen (a replay).

        ``expires_at`` is the last second at which the assertion could still pass the time checks
        (its ``exp`` plus the clock-skew allowance); the entry is kept at least until then. Inside a
        transaction of the store's connection, the entry joins it (committed or rolled back with it).
        """
        return jti in self.remember_all(issuer, [(jti, kind, expires_at)], now)

    @timing.timed("replay")
    def remember_all(self, issuer: str, items: list[tuple[str, str, int]], now: int | None = None) -> set[str]:
        """Record every ``(jti, kind, expires_at)`` of ``issuer`` in one statement; returns the jtis that
        were not seen before (the others are replays). See :meth:`remember`."""
        if not items:
            return set()
        if len(items) > 64:
            raise ValueError("at most 64 assertions at once")
        now = int(time.time()) if now is None else now
        seen_at = utcnow()
        rows = [value for jti, kind, expires_at in items for value in (issuer, jti, kind, int(expires_at), seen_at)]
        values = ", ".join(["(?, ?, ?, ?, ?)"] * len(items))  # placeholders only: the values are bound
        sql = (f"INSERT INTO assertion_replay (issuer, jti, kind, expires_at, seen_at) VALUES {values}"  # noqa: S608
               " ON CONFLICT DO NOTHING RETURNING jti")
        if self.conn.in_transaction or dialect(self.conn) == POSTGRESQL:  # PostgreSQL: rows lock themselves
            return self._insert(self.conn, sql, rows, now)
        with self._write_lock:  # see gateway.storage.db.Writers
            return self._insert(self._writer_conn(), sql, rows, now)

    def _insert(self, conn: sqlite3.Connection, sql: str, rows: list, now: int) -> set[str]:
        self._purge(conn, now)
        return {row[0] for row in conn.execute(sql, rows).fetchall()}  # read to the end: the statement completes

    def close(self) -> None:
        if self._writer is not None and self._writer is not self.conn:
            self._writer.close()
        self._writer = None

    def seen(self, issuer: str, jti: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM assertion_replay WHERE issuer = ? AND jti = ?", (issuer, jti)
        ).fetchone()
        return row is not None

    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM assertion_replay").fetchone()[0])

    def _purge(self, conn: sqlite3.Connection, now: int) -> None:
        if now - self._writers.last_purge < PURGE_INTERVAL:
            return
        self._writers.last_purge = now
        conn.execute("DELETE FROM assertion_replay WHERE expires_at < ?", (now,))
