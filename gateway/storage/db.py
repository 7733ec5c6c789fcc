"""Connections: SQLite (WAL mode, durable commits) or PostgreSQL (psycopg 3 and its pool).

Only the storage modules issue SQL; everything above them calls repository methods. The repositories
write SQLite's SQL; on PostgreSQL :class:`PgConnection` reads it through a thin dialect layer
(placeholders, ``BEGIN IMMEDIATE``, ``LIMIT -1``), and the few statements that differ more (pragmas,
the audit chain's head, triggers) say so per dialect where they are written.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import sqlite_utils
from psycopg import conninfo
from psycopg.pq import ConnStatus, TransactionStatus
from psycopg_pool import ConnectionPool, PoolTimeout


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


@dataclass(eq=False)
class Writers:
    """What the writers of one database in this process share: kept on the store, and handed to the stores
    opened beside it (the threads of a gunicorn worker, see :func:`gateway.request_store.get_store`).

    ``lock``: held around a write transaction on the request path (audit records, replay cache). SQLite
    admits one writer at a time, and a connection that finds the database locked sleeps in its busy
    handler (1, 2, 5, 10... up to 100 ms) before trying again: under concurrency, threads slept far longer
    than the writer before them needed (a commit takes about a millisecond). Threads queue on this lock
    instead and get it as soon as it is released; other processes still meet SQLite's own locking (and
    busy handler); on PostgreSQL rows lock themselves and the lock only queues this process's threads.
    ``queue``, ``guard``, ``commits``: the audit trail's group commit (:mod:`gateway.storage.audit`).
    ``last_purge``: when the replay cache last purged expired entries.
    """

    lock: threading.Lock = field(default_factory=threading.Lock)
    queue: list[Any] = field(default_factory=list)
    guard: threading.Lock = field(default_factory=threading.Lock)
    commits: int = 0
    last_purge: float = 0.0


# --- PostgreSQL ---------------------------------------------------------------------------------------------

SQLITE, POSTGRESQL = "sqlite", "postgresql"


class DatabaseUnavailable(StorageError):
    """The database server cannot be reached (now): the request fails with 503, a later one may succeed."""


def is_url(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL database (a ``postgresql://`` URL) rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def describe(target: str | Path) -> str:
    """``target`` as messages name it: a URL without its password (``host:port/dbname``), or the file."""
    if not is_url(target):
        return str(target)
    info = conninfo.conninfo_to_dict(str(target))
    return f"PostgreSQL at {info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


def dialect(conn: object) -> str:
    """The SQL dialect of a connection or database (``sqlite`` or ``postgresql``)."""
    return getattr(conn, "dialect", SQLITE)


@functools.lru_cache(maxsize=1024)
def _pg_sql(sql: str, params: str) -> str:
    """The repositories' SQL (SQLite's) as PostgreSQL reads it: ``?`` or ``:name`` placeholders become
    ``%s``/``%(name)s``, ``BEGIN IMMEDIATE`` (take the write lock now) is a plain ``BEGIN`` (rows lock
    themselves), ``LIMIT -1`` (no limit) is ``LIMIT ALL``. ``params``: ``""`` none, ``"seq"`` or ``"named"``."""
    if sql.lstrip().upper().startswith("BEGIN IMMEDIATE"):
        return "BEGIN"
    sql = sql.replace("LIMIT -1", "LIMIT ALL")
    if not params:
        return sql
    sql = sql.replace("%", "%%")
    if params == "named":
        return re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", r"%(\1)s", sql)
    return sql.replace("?", "%s")


class PgConnection:
    """A PostgreSQL connection that reads the repositories' SQL as :class:`sqlite3.Connection` does
    (autocommit unless ``BEGIN``, ``execute`` returns a cursor, ``in_transaction``).

    Taken from the pool at the first statement and given back by :meth:`release` (end of the request);
    a connection lost mid-request raises :class:`DatabaseUnavailable` and is dropped, so that the next
    request gets a working one once the server is back (no restart).
    """

    dialect = POSTGRESQL

    def __init__(self, pool: ConnectionPool | None = None, raw: psycopg.Connection | None = None,
                 name: str = "PostgreSQL") -> None:
        self._pool, self._raw, self.name = pool, raw, name

    @property
    def raw(self) -> psycopg.Connection:
        return self.acquire(POOL_TIMEOUT)

    def acquire(self, timeout: float) -> psycopg.Connection:
        """The connection, taken from the pool now if need be, waiting at most ``timeout`` seconds."""
        if self._raw is None:
            assert self._pool is not None, "a closed connection"
            try:
                self._raw = self._pool.getconn(timeout=timeout)
            except (PoolTimeout, psycopg.OperationalError) as exc:
                raise DatabaseUnavailable(f"{self.name}: unreachable ({_reason(exc)})") from None
        return self._raw

    @property
    def in_transaction(self) -> bool:
        return self._raw is not None and self._raw.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> psycopg.Cursor:
        kind = "" if not params else "named" if isinstance(params, Mapping) else "seq"
        if self._raw is None and sql.strip().upper() == "ROLLBACK":  # the connection was lost (and released)
            return _NO_ROWS
        try:
            return self.raw.execute(_pg_sql(sql, kind), params or None)  # type: ignore[arg-type]
        except psycopg.OperationalError as exc:
            if self._raw is not None and not self._raw.closed and self._raw.info.status == ConnStatus.OK:
                raise  # e.g. a statement timeout or serialisation failure: the connection is fine
            self.release()
            raise DatabaseUnavailable(f"{self.name}: connection lost ({_reason(exc)})") from None

    def release(self) -> None:
        """Give the connection back (rolled back if a failure left a transaction open), or close it."""
        raw, self._raw = self._raw, None
        if raw is None:
            return
        if self._pool is None:
            raw.close()
            return
        if not raw.closed and raw.info.transaction_status != TransactionStatus.IDLE:
            try:
                raw.rollback()
            except psycopg.Error:
                raw.close()
        self._pool.putconn(raw)  # a closed (broken) connection is discarded by the pool

    def close(self) -> None:
        self.release()


class _NoRows:
    """What a ROLLBACK after a lost connection returns: nothing to roll back, no rows."""

    rowcount = 0

    def fetchone(self) -> None:
        return None

    def fetchall(self) -> list:
        return []

    def __iter__(self):  # noqa: ANN204
        return iter(())


_NO_ROWS: Any = _NoRows()


class PgDatabase:
    """What the repositories and migrations use on PostgreSQL in place of :class:`sqlite_utils.Database`."""

    dialect = POSTGRESQL

    def __init__(self, conn: PgConnection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> psycopg.Cursor:
        return self.conn.execute(sql, params)


#: How long a request waits for a pooled connection (or a new one) before answering 503; a health check, less.
POOL_TIMEOUT = 5.0
PING_TIMEOUT = 1.0
CONNECT_TIMEOUT = 5


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def connect_pg(url: str) -> PgDatabase:
    """One connection of its own (CLI, migrations); unreachable server or wrong credentials: :class:`StorageError`."""
    name = describe(url)
    try:
        raw = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"{name}: cannot connect ({_reason(exc)})") from None
    return PgDatabase(PgConnection(raw=raw, name=name))


def pg_pool(url: str, size: int) -> ConnectionPool:
    """A process's pool of connections to ``url`` (``size``: its threads); broken connections are checked out."""
    return ConnectionPool(url, min_size=1, max_size=max(size, 1), open=True, name=describe(url),
                          kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT},
                          check=ConnectionPool.check_connection, timeout=POOL_TIMEOUT, reconnect_timeout=0)
