"""Audit trail storage: append-only, hash-chained rows of ``audit_events``.

The database itself refuses UPDATE and DELETE of audit rows (triggers, see migration
``m004_audit``). Appending takes the write lock (``BEGIN IMMEDIATE``), reads the tail and inserts
in the same transaction, so that every process and thread writing to one database extends one
chain; ``seq`` is the primary key, so two writers can never both attach to the same tail.
Commits are durable (``PRAGMA synchronous = FULL``, set for every connection by :mod:`.db`).

On PostgreSQL (several nodes writing one chain) the lock is the chain's head row: every appending
transaction first locks ``audit_head`` (``SELECT ... FOR UPDATE``), so appends of every node are
serialised; the row also keeps the largest ``seq`` ever assigned (SQLite's ``sqlite_sequence``) and the
last record's hash, so that an append is two statements (read and lock the head; insert and move it).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import sqlite_utils

from gateway.audit.chain import FIELDS, GENESIS, AuditEntry
from gateway.storage.db import POSTGRESQL, Writers, dialect
from gateway.storage.migrations import PG_APPEND_ONLY_FUNCTION, PG_TRIGGERS

_COLUMNS = ", ".join(FIELDS)
_PLACEHOLDERS = ", ".join("?" for _ in FIELDS)
_SELECT = f"SELECT {_COLUMNS} FROM audit_events"  # noqa: S608 - fixed column list
#: The chain's tail (seq, hash) and the largest seq ever assigned (survives deletion of the last rows).
_TAIL = ("SELECT (SELECT seq FROM audit_events ORDER BY seq DESC LIMIT 1),"
         " (SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1),"
         " (SELECT seq FROM sqlite_sequence WHERE name = 'audit_events')")
#: The triggers of migration ``m004_audit`` as SQLite keeps them (``sqlite_master.sql``). They are compared
#: by their SQL, not by name: a no-op trigger of the same name (``SELECT 1``, ``RAISE(IGNORE)``) protects nothing.
EXPECTED_TRIGGERS = {
    f"audit_events_no_{verb.lower()}": f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events"
                                       " BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END"
    for verb in ("UPDATE", "DELETE")
}


def normalised_sql(sql: str | None) -> str:
    """``sql`` with every run of whitespace made one space (SQLite stores a statement's text as written)."""
    return " ".join((sql or "").split())


#: PostgreSQL: the chain's head row (largest seq ever assigned, hash of the last record), locked by every appender.
_PG_HEAD = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"
#: PostgreSQL: the record and the new head in one statement (one round trip).
_PG_INSERT = (f"WITH added AS (INSERT INTO audit_events ({_COLUMNS}) VALUES ({_PLACEHOLDERS}) RETURNING seq, hash)"  # noqa: S608
              " UPDATE audit_head SET seq = added.seq, hash = added.hash FROM added WHERE audit_head.id = 1")


def append_locked(conn: sqlite3.Connection, draft: AuditEntry) -> AuditEntry:
    """Chain and insert ``draft``; the caller holds the write lock (inside ``BEGIN IMMEDIATE``).

    PostgreSQL: the head row is locked first (every node's appends wait there); it holds the last seq and hash,
    and is moved on in the statement that inserts the record."""
    draft = _storable(draft)
    if dialect(conn) == POSTGRESQL:
        high, head_hash = conn.execute(_PG_HEAD).fetchone()
        entry = draft.chained(high + 1, head_hash or GENESIS)
        conn.execute(_PG_INSERT, entry.to_row())
        return entry
    tail_seq, tail_hash, high = conn.execute(_TAIL).fetchone()
    entry = draft.chained(max(tail_seq or 0, high or 0) + 1, tail_hash or GENESIS)
    conn.execute(f"INSERT INTO audit_events ({_COLUMNS}) VALUES ({_PLACEHOLDERS})", entry.to_row())  # noqa: S608
    return entry


def _storable(draft: AuditEntry) -> AuditEntry:
    """``draft`` with NUL characters (which PostgreSQL's text cannot hold; a hostile request may carry them) made
    U+FFFD, on both backends and before chaining: the hash covers exactly what is stored."""
    changes = {f.name: value.replace("\x00", "\ufffd") for f in dataclasses.fields(draft)
               if isinstance(value := getattr(draft, f.name), str) and "\x00" in value}
    return dataclasses.replace(draft, **changes) if changes else draft


@dataclass(eq=False)
class _Pending:
    draft: AuditEntry
    entry: AuditEntry | None = None
    error: BaseException | None = None
    done: bool = False


def _commit(conn: sqlite3.Connection, batch: list[_Pending]) -> None:
    """Chain and commit ``batch`` in one transaction (write lock held); every item is done afterwards,
    with its entry or, when the transaction failed, the error (none of them was committed)."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        entries = [append_locked(conn, item.draft) for item in batch]
        _before_commit(len(batch))
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        for item in batch:
            item.error, item.done = exc, True
        return
    for item, entry in zip(batch, entries, strict=True):
        item.entry, item.done = entry, True


def _before_commit(size: int) -> None:
    """Test hook (``NCPEH_TEST_KILL_IN_GROUP_COMMIT=N``): the process kills itself before committing a batch
    of at least N records, as a crash in the middle of a group commit would."""
    limit = os.environ.get("NCPEH_TEST_KILL_IN_GROUP_COMMIT")
    if limit and size >= int(limit):
        os.kill(os.getpid(), signal.SIGKILL)


class AuditStore:
    def __init__(self, db: sqlite_utils.Database, writers: Writers) -> None:
        self.conn = db.conn
        self._write_lock = writers.lock
        self._group = writers

    @property
    def group_commits(self) -> int:
        """How many transactions this process's group commit made on this database (tests, metrics)."""
        return self._group.commits

    @property
    def queued(self) -> int:
        """How many records wait for the next group commit."""
        with self._group.guard:
            return len(self._group.queue)

    # --- writing -------------------------------------------------------------------------------

    def append(self, draft: AuditEntry) -> AuditEntry:
        """Append one record and commit it (durably) before returning.

        Group commit: the records of this process's concurrent writers queue up while one of them
        commits; the next to get the write lock chains and commits the whole queue in one transaction
        (one fsync), in queue order, and each caller returns only once its own record is committed.

        Inside a transaction the caller already opened with ``BEGIN IMMEDIATE``, the record joins
        that transaction instead (committed, or rolled back, with the action it describes).
        """
        conn = self.conn
        if conn.in_transaction:
            return append_locked(conn, draft)
        pending = _Pending(draft)
        group = self._group
        with group.guard:
            group.queue.append(pending)
        with self._write_lock:  # the process's writers queue here, not in SQLite's busy handler
            if not pending.done:  # no one committed it while this thread waited: commit the queue
                with group.guard:
                    batch, group.queue = group.queue, []
                _commit(conn, batch)
                group.commits += 1
        if pending.error is not None:
            raise pending.error
        assert pending.entry is not None
        return pending.entry

    # --- reading -------------------------------------------------------------------------------

    def entries(self, *, since: str | None = None, until: str | None = None,
                after_seq: int = 0) -> Iterator[AuditEntry]:
        """Records in chain order (``since``/``until``: ISO timestamps, inclusive/exclusive)."""
        where, params = ["seq > ?"], [after_seq]
        if since:
            where.append("recorded >= ?")
            params.append(since)
        if until:
            where.append("recorded < ?")
            params.append(until)
        cur = self.conn.execute(f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY seq", params)  # noqa: S608
        for row in cur:
            yield AuditEntry.from_row(row)

    def raw_rows(self) -> Iterator[tuple]:
        """Every row as stored (for verification), in ``seq`` order."""
        yield from self.conn.execute(f"{_SELECT} ORDER BY seq")  # noqa: S608

    def get(self, seq: int) -> AuditEntry | None:
        row = self.conn.execute(f"{_SELECT} WHERE seq = ?", (seq,)).fetchone()  # noqa: S608
        return AuditEntry.from_row(row) if row else None

    def by_request_id(self, request_id: str) -> list[AuditEntry]:
        rows = self.conn.execute(f"{_SELECT} WHERE request_id = ? ORDER BY seq", (request_id,))  # noqa: S608
        return [AuditEntry.from_row(row) for row in rows]

    def for_patient(self, patient_id: str, events: Sequence[str], *, side: str | None = None,
                    limit: int = 500) -> list[AuditEntry]:
        """A patient's records of the given events, newest first."""
        marks = ", ".join("?" for _ in events)
        sql = f"{_SELECT} WHERE patient_id = ? AND event IN ({marks})"  # noqa: S608
        params: list = [patient_id, *events]
        if side:
            sql += " AND side = ?"
            params.append(side)
        sql += " ORDER BY seq DESC LIMIT ?"
        params.append(limit)
        return [AuditEntry.from_row(row) for row in self.conn.execute(sql, params)]

    def count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM audit_events").fetchone()[0]

    def tail(self) -> AuditEntry | None:
        row = self.conn.execute(f"{_SELECT} ORDER BY seq DESC LIMIT 1").fetchone()  # noqa: S608
        return AuditEntry.from_row(row) if row else None

    def high_water(self) -> int:
        """The largest ``seq`` ever assigned (survives deletion of the last rows)."""
        if dialect(self.conn) == POSTGRESQL:
            row = self.conn.execute("SELECT seq FROM audit_head WHERE id = 1").fetchone()
        else:
            row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_events'").fetchone()
        return row[0] if row else 0

    def head(self) -> tuple[int, str, int] | None:
        """(seq, hash, number of records) of the chain's last record, read in one statement; None when empty."""
        row = self.conn.execute("SELECT seq, hash, (SELECT count(*) FROM audit_events) FROM audit_events"
                                " ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1], row[2]) if row else None

    def count_through(self, seq: int) -> int:
        """How many records have a ``seq`` up to ``seq`` (included)."""
        return self.conn.execute("SELECT count(*) FROM audit_events WHERE seq <= ?", (seq,)).fetchone()[0]

    def exchanges(self, peer_country: str, events: Sequence[str], *, since: str | None = None,
                  until: str | None = None) -> list[AuditEntry]:
        """Records of cross-border calls with ``peer_country`` (either side, with a request id), in chain order."""
        marks = ", ".join("?" for _ in events)
        sql = (f"{_SELECT} WHERE peer_country = ? AND event IN ({marks})"  # noqa: S608 - fixed columns, placeholders
               " AND side IS NOT NULL AND request_id IS NOT NULL")
        params: list = [peer_country, *events]
        if since:
            sql += " AND recorded >= ?"
            params.append(since)
        if until:
            sql += " AND recorded < ?"
            params.append(until)
        return [AuditEntry.from_row(row) for row in self.conn.execute(sql + " ORDER BY seq", params)]

    def trigger_problems(self) -> list[str]:
        """What is wrong with the triggers on ``audit_events`` (compared by their SQL): one line per problem."""
        if dialect(self.conn) == POSTGRESQL:
            return self._pg_trigger_problems()
        found = {name: sql for name, sql in self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND lower(tbl_name) = 'audit_events'")}
        return _compare_triggers(found, EXPECTED_TRIGGERS)

    def _pg_trigger_problems(self) -> list[str]:
        """PostgreSQL: the triggers (``pg_get_triggerdef``, enabled) and the body of the function they run."""
        rows = self.conn.execute(
            "SELECT t.tgname, pg_get_triggerdef(t.oid), t.tgenabled, p.proname, p.prosrc FROM pg_trigger t"
            " JOIN pg_proc p ON p.oid = t.tgfoid WHERE t.tgrelid = 'audit_events'::regclass AND NOT t.tgisinternal"
        ).fetchall()
        found = {name: " ".join(definition.replace("public.", "").split()) for name, definition, *_ in rows}
        expected = {name: " ".join(sql.split()) for name, sql in PG_TRIGGERS.items()}
        problems = _compare_triggers(found, expected)
        body = normalised_sql(PG_APPEND_ONLY_FUNCTION.split("$$")[1])
        for name, _definition, enabled, function, source in rows:
            if enabled == "D":
                problems.append(f"trigger {name} is disabled: UPDATE or DELETE of audit rows is not refused")
            if name in expected and normalised_sql(source) != body:
                problems.append(f"trigger {name} runs {function}(), whose body is not the expected one"
                                f" ({normalised_sql(source)[:160]!r})")
        return problems

    def protected(self) -> bool:
        """Both triggers that refuse UPDATE and DELETE are in place, as migration m004 created them."""
        return not self.trigger_problems()


def _compare_triggers(found: dict[str, str], expected_triggers: dict[str, str]) -> list[str]:
    """One line per trigger of ``expected_triggers`` missing or different in ``found``, and per unexpected one."""
    problems = []
    for name, expected in expected_triggers.items():
        if name not in found:
            problems.append(f"trigger {name} is missing: UPDATE or DELETE of audit rows is not refused")
        elif normalised_sql(found[name]) != normalised_sql(expected):
            problems.append(f"trigger {name} is not the expected one (its SQL differs: "
                            f"{normalised_sql(found[name])[:160]!r})")
    problems += [f"unexpected trigger {name} on audit_events ({normalised_sql(sql)[:160]!r})"
                 for name, sql in sorted(found.items()) if name not in expected_triggers]
    return problems
