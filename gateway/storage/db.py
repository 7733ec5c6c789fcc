"""SQLite connections: WAL mode, durable commits, one connection per app context.

Only the storage modules issue SQL; everything above them calls repository methods, so that a
PostgreSQL backend can later be slotted in behind the same methods.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import sqlite_utils


class StorageError(Exception):
    """The database cannot be opened or is not a healthy ncpeh database."""


def _private(path: Path) -> None:
    """The database file, and its WAL and shared-memory files, readable by their owner only.

    A new database is created 0600 before SQLite opens it (SQLite gives its WAL and -shm files the
    database file's mode); one made by an older version (0644) is narrowed.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if name.stat().st_mode & 0o077:
                name.chmod(0o600)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise StorageError(f"{name}: cannot make the database file private ({exc.strerror})") from None


def connect(path: Path, *, check: bool = False) -> sqlite_utils.Database:
    """Open the database with the project's pragmas; ``check`` runs an integrity check first."""
    _private(path)
    try:
        conn = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 10000")
        if check:
            result = conn.execute("PRAGMA quick_check").fetchone()
            if not result or result[0] != "ok":
                raise StorageError(f"{path}: database failed its integrity check ({result and result[0]})")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise StorageError(f"{path}: cannot switch the database to WAL mode (got {mode})")
        # FULL: every commit is on disk before the answer leaves (audit records are never lost).
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{path}: not a usable SQLite database ({exc})") from None
    return sqlite_utils.Database(conn)


_write_locks: dict[str, threading.Lock] = {}
_write_locks_guard = threading.Lock()


def write_lock(conn: sqlite3.Connection) -> threading.Lock:
    """The lock this process's writers of ``conn``'s database file hold around a write transaction
    on the request path (audit records, replay cache).

    SQLite admits one writer at a time, and a connection that finds the database locked sleeps in its
    busy handler (1, 2, 5, 10... up to 100 ms) before trying again: under concurrency, threads slept
    far longer than the writer before them needed (a commit takes about a millisecond). Threads of
    one process queue on this lock instead and get it as soon as it is released; writers of other
    processes still meet SQLite's own locking (and busy handler).
    """
    row = conn.execute("PRAGMA database_list").fetchone()
    name = (row[2] if row else "") or f":memory:{id(conn)}"
    with _write_locks_guard:
        return _write_locks.setdefault(name, threading.Lock())
