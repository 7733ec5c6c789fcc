"""Replay cache of signed assertions: each (issuer, jti) is accepted once, across workers and restarts."""

from __future__ import annotations

import time
from contextlib import nullcontext

import sqlite_utils

from gateway import timing
from gateway.storage.db import write_lock
from gateway.storage.records import utcnow

#: Forgotten entries are purged at most this often (seconds), by whichever request comes first.
PURGE_INTERVAL = 60


class ReplayCache:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.conn = db.conn
        self._write_lock = write_lock(db.conn)

    @timing.timed("replay")
    def remember(self, issuer: str, jti: str, kind: str, expires_at: int, now: int | None = None) -> bool:
        """Record the assertion; False when this issuer's ``jti`` was already seen (a replay).

        ``expires_at`` is the last second at which the assertion could still pass the time checks
        (its ``exp`` plus the clock-skew allowance); the entry is kept at least until then.
        """
        now = int(time.time()) if now is None else now
        conn = self.conn
        # Written without its own fsync (synchronous NORMAL: safe from a crash of the process, and
        # atomic, so a jti is accepted once across workers). It reaches the disk with the audit
        # record of the same request, committed with synchronous FULL before any answer leaves
        # (one WAL, synced in order): no answer is given for an assertion the cache could forget.
        # This saves two fsyncs (HCP and TRC) per request at country A.
        level = conn.execute("PRAGMA synchronous").fetchone()[0]
        if not conn.in_transaction:
            conn.execute("PRAGMA synchronous = NORMAL")
        try:
            with nullcontext() if conn.in_transaction else self._write_lock:  # see gateway.storage.db.write_lock
                self._purge(now)
                cur = conn.execute(
                    "INSERT OR IGNORE INTO assertion_replay (issuer, jti, kind, expires_at, seen_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (issuer, jti, kind, int(expires_at), utcnow()),
                )
        finally:
            if not conn.in_transaction:
                conn.execute(f"PRAGMA synchronous = {int(level)}")
        return cur.rowcount == 1

    def seen(self, issuer: str, jti: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM assertion_replay WHERE issuer = ? AND jti = ?", (issuer, jti)
        ).fetchone()
        return row is not None

    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM assertion_replay").fetchone()[0])

    _last_purge = 0.0

    def _purge(self, now: int) -> None:
        if now - ReplayCache._last_purge < PURGE_INTERVAL:
            return
        ReplayCache._last_purge = now
        self.conn.execute("DELETE FROM assertion_replay WHERE expires_at < ?", (now,))
