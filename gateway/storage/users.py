"""Clinician accounts of the portal, their sessions and failed sign-ins (the only SQL for them).

Accounts stand for the national login (in France Pro Santé Connect / e-CPS): professional
identifier (RPPS in France), name, role (ISCO-08, see :mod:`gateway.security.policy`),
organisation, preferred language. Passwords are hashed with Argon2id (``argon2-cffi``); a TOTP
second factor is optional per account, its secret stored sealed (:mod:`gateway.security.secretbox`).

Lockout: failures are counted per submitted name (:func:`signin_name`; stored as its hash), whether
or not an account has it, so that a lock tells nothing about which names exist. :data:`MAX_FAILED_ATTEMPTS` failures
within :data:`FAILURE_WINDOW` seconds lock the name for :data:`LOCKOUT_SECONDS`; the counters expire
and at most :data:`MAX_TRACKED_NAMES` unlocked ones are kept. An address with more than
:data:`MAX_FAILURES_PER_ADDRESS` failures in :data:`ADDRESS_WINDOW` seconds is throttled.

Between a right password and the second factor, the state is a row of ``portal_pending_signins``
(the browser holds a random token, the database its SHA-256), used once, for :data:`PENDING_SIGNIN_SECONDS`.

Sessions are server-side: the browser holds a random token (in the signed session cookie), the
database its SHA-256, the user, the idle and absolute deadlines and the state of the clinician's
current search (country, traits, the identity to confirm). Sign-out ends the session at once.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import sqlite_utils
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gateway.security.secretbox import is_sealed
from gateway.storage.db import POSTGRESQL, dialect
from gateway.storage.records import utcnow
from gateway.storage.signin_names import signin_name, signin_name_hash

MAX_FAILED_ATTEMPTS = 5
LOCKOUT_SECONDS = 15 * 60
#: Failures older than this no longer count towards a lock.
FAILURE_WINDOW = 15 * 60
#: Unlocked failure counters kept at most (the oldest go first); locked names are always kept.
MAX_TRACKED_NAMES = 20_000
#: How long the password step stays valid for the second factor.
PENDING_SIGNIN_SECONDS = 5 * 60
MAX_FAILURES_PER_ADDRESS = 30
ADDRESS_WINDOW = 15 * 60
#: A session ends after this long without a request, and in any case this long after sign-in.
IDLE_TIMEOUT = 20 * 60
ABSOLUTE_TIMEOUT = 10 * 60 * 60
#: Ended or expired sessions (and their search state) are deleted this long after their end.
SESSION_RETENTION = 60 * 60

_hasher = PasswordHasher()  # Argon2id, library defaults (RFC 9106 low-memory profile)
_COLUMNS = ("id, username, professional_id, name, role, organisation, organisation_id, language, active, totp_secret,"
            " last_login_at, created_at")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the account does not exist, so that the answer takes the same time."""
    return _hasher.hash(secrets.token_urlsafe(16))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class User:
    id: int
    username: str
    professional_id: str
    name: str
    role: str
    organisation: str
    organisation_id: str
    language: str
    active: bool
    totp_secret: str | None
    failed_attempts: int
    locked_until: int | None
    last_login_at: str | None
    created_at: str

    @property
    def totp_enabled(self) -> bool:
        return bool(self.totp_secret)

    def locked(self, now: float | None = None) -> bool:
        return bool(self.locked_until and self.locked_until > (time.time() if now is None else now))


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt reserved before its secret is checked (:meth:`UserStore.reserve_attempt`)."""

    refused: str | None  # RATE_LIMITED or ACCOUNT_LOCKED: no secret is to be checked
    locked_now: bool = False  # counted as the last failure allowed: the name is locked unless the secret is right
    address: str | None = None  # the address whose failure row was added (at ``at``), taken back if right
    at: int = 0


@dataclass(frozen=True)
class Session:
    token_hash: str
    user_id: int
    created_at: int
    last_seen: int
    expires_at: int
    ended: bool
    state: dict[str, Any]

    def expired(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return self.ended or now > self.expires_at or now > self.last_seen + IDLE_TIMEOUT


def _check_sealed(secret: str | None) -> None:
    if secret is not None and not is_sealed(secret):
        raise ValueError("a TOTP secret is stored sealed (gateway.services.accounts.seal_totp_secret), never in clear")


class UserStore:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.conn = db.conn
        #: Read-modify-write of a session's state: SQLite's BEGIN IMMEDIATE locks the database; on PostgreSQL
        #: (several nodes) the session's row is locked when read.
        self._for_update = " FOR UPDATE" if dialect(db.conn) == POSTGRESQL else ""

    # --- accounts --------------------------------------------------------------------------------

    def add(self, username: str, password: str, *, professional_id: str, name: str, role: str, organisation: str,
            organisation_id: str, language: str, totp_secret: str | None = None) -> User:
        """A new account; ``totp_secret`` sealed (``gateway.services.accounts.seal_totp_secret``), never in clear."""
        _check_sealed(totp_secret)
        self.conn.execute(
            "INSERT INTO portal_users (username, professional_id, name, role, organisation, organisation_id, language,"
            " password_hash, totp_secret, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (username, professional_id, name, role, organisation, organisation_id, language, hash_password(password),
             totp_secret, utcnow()),
        )
        user = self.get_by_username(username)
        assert user is not None
        return user

    def exists(self, username: str) -> bool:
        return self.conn.execute("SELECT 1 FROM portal_users WHERE username = ?", (username,)).fetchone() is not None

    def _user(self, row: Any) -> User | None:
        """The account, with its name's failure count and lock (``portal_signin_failures``)."""
        if row is None:
            return None
        counted = self.conn.execute("SELECT failures, locked_until FROM portal_signin_failures WHERE name_hash = ?",
                                    (signin_name_hash(signin_name(row[1])),)).fetchone()
        failures, locked_until = (int(counted[0]), counted[1]) if counted else (0, None)
        return User(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], bool(row[8]), row[9], failures,
                    locked_until, row[10], row[11])

    def get(self, user_id: int) -> User | None:
        return self._user(self.conn.execute(f"SELECT {_COLUMNS} FROM portal_users WHERE id = ?",  # noqa: S608
                                            (user_id,)).fetchone())

    def get_by_username(self, username: str) -> User | None:
        return self._user(self.conn.execute(f"SELECT {_COLUMNS} FROM portal_users WHERE username = ?",  # noqa: S608
                                            (username,)).fetchone())

    def list(self) -> list[User]:
        rows = self.conn.execute(f"SELECT {_COLUMNS} FROM portal_users ORDER BY username").fetchall()  # noqa: S608
        return [u for u in (self._user(r) for r in rows) if u is not None]

    def set_active(self, username: str, active: bool) -> bool:
        """Enable (and unlock) or disable an account; disabling also ends its sessions and pending sign-ins."""
        user = self.get_by_username(username)
        if user is None:
            return False
        self.conn.execute("UPDATE portal_users SET active = ? WHERE id = ?", (1 if active else 0, user.id))
        self.clear_failures(signin_name(user.username))
        if not active:
            self.end_sessions(user.id)
            self.drop_pending_signins(user.id)
        return True

    def set_password(self, username: str, password: str) -> bool:
        """New password; the account's open sessions end with the old one (a reset after a leak works)."""
        return self._change_credentials("UPDATE portal_users SET password_hash = ? WHERE username = ?",
                                        (hash_password(password), username), username)

    def set_totp(self, username: str, secret: str | None) -> bool:
        """New (or no) second factor, sealed; the account's open sessions end, as with a new password."""
        _check_sealed(secret)
        return self._change_credentials(
            "UPDATE portal_users SET totp_secret = ?, totp_last_step = NULL WHERE username = ?", (secret, username), username)

    def _change_credentials(self, sql: str, params: tuple, username: str) -> bool:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            changed = self.conn.execute(sql, params).rowcount == 1
            if changed:
                self.conn.execute("UPDATE portal_sessions SET ended = 1 WHERE ended = 0 AND user_id ="
                                  " (SELECT id FROM portal_users WHERE username = ?)", (username,))
                self.conn.execute("DELETE FROM portal_pending_signins WHERE user_id ="
                                  " (SELECT id FROM portal_users WHERE username = ?)", (username,))
            self.conn.execute("COMMIT")
            return changed
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def plaintext_totp_secrets(self) -> list[tuple[int, str, str]]:
        """(id, username, secret) of the accounts whose TOTP secret is still in clear (written before sealing)."""
        rows = self.conn.execute("SELECT id, username, totp_secret FROM portal_users WHERE totp_secret IS NOT NULL"
                                 " AND totp_secret != ''").fetchall()
        return [(int(r[0]), r[1], r[2]) for r in rows if not is_sealed(r[2])]

    def replace_totp_secret(self, user_id: int, old: str, sealed: str) -> bool:
        """Store the sealed form of a secret in clear, unless the row changed meanwhile (same second factor)."""
        _check_sealed(sealed)
        return self.conn.execute("UPDATE portal_users SET totp_secret = ? WHERE id = ? AND totp_secret = ?",
                                 (sealed, user_id, old)).rowcount == 1

    def set_language(self, user_id: int, language: str) -> None:
        self.conn.execute("UPDATE portal_users SET language = ? WHERE id = ?", (language, user_id))

    # --- sign-in ---------------------------------------------------------------------------------

    def check_password(self, username: str, password: str) -> User | None:
        """The account when the password is right (active or not, locked or not: the caller decides).

        Spends the same time whether or not the account exists; rehashes when the parameters changed.
        """
        row = self.conn.execute("SELECT id, password_hash FROM portal_users WHERE username = ?",
                                (username,)).fetchone()
        stored = row[1] if row else _dummy_hash()
        try:
            _hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if _hasher.check_needs_rehash(stored):
            self.conn.execute("UPDATE portal_users SET password_hash = ? WHERE id = ?", (hash_password(password), row[0]))
        return self.get(row[0])

    @staticmethod
    def spend_password_check(password: str) -> None:
        """Verify ``password`` against a dummy hash: a refusal decided without the password (a locked
        name) takes as long as one that checks it."""
        try:
            _hasher.verify(_dummy_hash(), password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            pass

    def name_locked(self, name: str, now: float | None = None) -> bool:
        """Whether sign-in under this name (see :func:`signin_name`) is locked, whether an account has it or not."""
        now = int(time.time() if now is None else now)
        row = self.conn.execute("SELECT locked_until FROM portal_signin_failures WHERE name_hash = ?",
                                (signin_name_hash(name),)).fetchone()
        return bool(row and row[0] and row[0] > now)

    def reserve_attempt(self, name: str | None, address: str | None, now: float | None = None, *,
                        throttle: bool = True) -> Attempt:
        """Reserve one sign-in attempt before any secret is checked, in one transaction (``BEGIN IMMEDIATE``):
        refused when the address is throttled (``throttle``) or the name locked (that attempt still counts for
        the address), else counted at once as a failure of the name and of the address, the name locked when
        it reaches the maximum. Concurrent attempts (threads, workers, replicas) therefore never check more
        secrets than the maximum. A right secret takes its attempt back (:meth:`release_attempt`)."""
        now = int(time.time() if now is None else now)
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            if throttle and self.address_throttled(address, now):
                attempt = Attempt("RATE_LIMITED")
            else:
                self._count_address(address, now)
                if name and self.name_locked(name, now):
                    attempt = Attempt("ACCOUNT_LOCKED")
                else:
                    attempt = Attempt(None, bool(name) and self._count_failure(str(name), now), address, now)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return attempt

    def release_attempt(self, name: str | None, attempt: Attempt) -> None:
        """The secret of a reserved attempt was right: that one failure is taken back, for the address and the
        name (a lock it set is lifted). Other failures stay counted until the sign-in completes
        (:meth:`record_success`): a right password does not reset the second factor's count."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            if attempt.address:
                row = (attempt.address, attempt.at)
                count = self.conn.execute("SELECT COUNT(*) FROM portal_login_failures WHERE address = ? AND at = ?",
                                          row).fetchone()[0]
                self.conn.execute("DELETE FROM portal_login_failures WHERE address = ? AND at = ?", row)
                for _ in range(max(0, count - 1)):  # identical rows: one fewer (portable: no rowid/ctid)
                    self.conn.execute("INSERT INTO portal_login_failures (address, at) VALUES (?, ?)", row)
            if name and attempt.locked_now:
                self.conn.execute("UPDATE portal_signin_failures SET failures = ?, locked_until = NULL"
                                  " WHERE name_hash = ?", (MAX_FAILED_ATTEMPTS - 1, signin_name_hash(name)))
            elif name:
                self.conn.execute("UPDATE portal_signin_failures SET failures = failures - 1"
                                  " WHERE name_hash = ? AND failures > 0", (signin_name_hash(name),))
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def record_failure(self, name: str | None, address: str | None, now: float | None = None) -> bool:
        """Count a failed attempt for the submitted name (known or not) and the address; True when the
        name is now locked."""
        now = int(time.time() if now is None else now)
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self._count_address(address, now)
            locked_now = bool(name) and self._count_failure(str(name), now)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return locked_now

    def _count_address(self, address: str | None, now: int) -> None:
        """One failed attempt from ``address`` (inside the caller's transaction); older ones than the window go."""
        if address:
            self.conn.execute("INSERT INTO portal_login_failures (address, at) VALUES (?, ?)", (address, now))
            self.conn.execute("DELETE FROM portal_login_failures WHERE at < ?", (now - ADDRESS_WINDOW,))

    def _count_failure(self, name: str, now: int) -> bool:
        key = signin_name_hash(name)
        self.conn.execute("DELETE FROM portal_signin_failures WHERE window_start < ? AND (locked_until IS NULL OR"
                          " locked_until <= ?)", (now - max(FAILURE_WINDOW, LOCKOUT_SECONDS), now))
        cut = now - FAILURE_WINDOW
        failures = self.conn.execute(
            "INSERT INTO portal_signin_failures AS f (name_hash, failures, window_start) VALUES (?, 1, ?)"
            " ON CONFLICT (name_hash) DO UPDATE SET"  # f: the stored row (unqualified names are ambiguous on PostgreSQL)
            " failures = CASE WHEN f.window_start < ? THEN 1 ELSE f.failures + 1 END,"
            " window_start = CASE WHEN f.window_start < ? THEN excluded.window_start ELSE f.window_start END"
            " RETURNING failures", (key, now, cut, cut)).fetchone()[0]
        if failures < MAX_FAILED_ATTEMPTS:
            self.conn.execute(
                "DELETE FROM portal_signin_failures WHERE name_hash IN (SELECT name_hash FROM portal_signin_failures WHERE"
                " locked_until IS NULL OR locked_until <= ? ORDER BY window_start DESC LIMIT -1 OFFSET ?)",
                (now, MAX_TRACKED_NAMES))
            return False
        self.conn.execute("UPDATE portal_signin_failures SET failures = 0, window_start = ?, locked_until = ?"
                          " WHERE name_hash = ?", (now, now + LOCKOUT_SECONDS, key))
        self.conn.execute("DELETE FROM portal_pending_signins WHERE user_id IN"
                          " (SELECT id FROM portal_users WHERE username = ?)", (name,))  # usernames ignore case
        return True

    def clear_failures(self, name: str) -> None:
        self.conn.execute("DELETE FROM portal_signin_failures WHERE name_hash = ?", (signin_name_hash(name),))

    def address_throttled(self, address: str | None, now: float | None = None) -> bool:
        if not address:
            return False
        now = int(time.time() if now is None else now)
        row = self.conn.execute("SELECT COUNT(*) FROM portal_login_failures WHERE address = ? AND at >= ?",
                                (address, now - ADDRESS_WINDOW)).fetchone()
        return int(row[0]) >= MAX_FAILURES_PER_ADDRESS

    def accept_totp_step(self, user_id: int, step: int) -> bool:
        """Remember the time step of an accepted code; False when it (or a later one) was already used."""
        return self.conn.execute(
            "UPDATE portal_users SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)",
            (step, user_id, step)).rowcount == 1

    def record_success(self, user_id: int) -> None:
        self.conn.execute("UPDATE portal_users SET last_login_at = ? WHERE id = ?", (utcnow(), user_id))
        row = self.conn.execute("SELECT username FROM portal_users WHERE id = ?", (user_id,)).fetchone()
        if row:
            self.clear_failures(signin_name(row[0]))

    # --- between the password and the second factor --------------------------------------------

    def open_pending_signin(self, user_id: int, now: float | None = None) -> str:
        """The password was right: a token for the second-factor step (only its hash is stored)."""
        now = int(time.time() if now is None else now)
        self.conn.execute("DELETE FROM portal_pending_signins WHERE expires_at < ?", (now,))
        token = secrets.token_urlsafe(32)
        self.conn.execute("INSERT INTO portal_pending_signins (token_hash, user_id, expires_at) VALUES (?, ?, ?)",
                          (_token_hash(token), user_id, now + PENDING_SIGNIN_SECONDS))
        return token

    def pending_signin(self, token: str | None, now: float | None = None) -> int | None:
        """The account waiting for its second factor under this token, while valid and unused."""
        if not token or not isinstance(token, str):
            return None
        now = int(time.time() if now is None else now)
        row = self.conn.execute("SELECT user_id FROM portal_pending_signins WHERE token_hash = ? AND expires_at >= ?",
                                (_token_hash(token), now)).fetchone()
        return int(row[0]) if row else None

    def consume_pending_signin(self, token: str | None, now: float | None = None) -> bool:
        """Use the token up (atomically); False when it was already used, expired or never existed."""
        if not token or not isinstance(token, str):
            return False
        now = int(time.time() if now is None else now)
        return self.conn.execute("DELETE FROM portal_pending_signins WHERE token_hash = ? AND expires_at >= ?",
                                 (_token_hash(token), now)).rowcount == 1

    def drop_pending_signins(self, user_id: int) -> int:
        return self.conn.execute("DELETE FROM portal_pending_signins WHERE user_id = ?", (user_id,)).rowcount

    # --- sessions --------------------------------------------------------------------------------

    def open_session(self, user_id: int, state: dict[str, Any] | None = None, now: float | None = None) -> str:
        """A new session for the user; returns the token the browser keeps (only its hash is stored)."""
        now = int(time.time() if now is None else now)
        self.purge_sessions(now)
        token = secrets.token_urlsafe(32)
        self.conn.execute(
            "INSERT INTO portal_sessions (token_hash, user_id, created_at, last_seen, expires_at, state)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (_token_hash(token), user_id, now, now, now + ABSOLUTE_TIMEOUT, json.dumps(state or {})),
        )
        return token

    def session(self, token: str | None) -> Session | None:
        if not token:
            return None
        row = self.conn.execute(
            "SELECT token_hash, user_id, created_at, last_seen, expires_at, ended, state FROM portal_sessions"
            " WHERE token_hash = ?", (_token_hash(token),)).fetchone()
        if row is None:
            return None
        return Session(row[0], row[1], row[2], row[3], row[4], bool(row[5]), json.loads(row[6] or "{}"))

    def touch(self, token: str, now: float | None = None) -> None:
        now = int(time.time() if now is None else now)
        self.conn.execute("UPDATE portal_sessions SET last_seen = ? WHERE token_hash = ? AND ended = 0",
                          (now, _token_hash(token)))

    def update_state(self, token: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Set (or, with None, remove) keys of the session state, atomically; returns the new state.

        The one-time form nonces are only changed by :meth:`add_nonce` and :meth:`consume_nonce`.
        """
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            row = self.conn.execute("SELECT state FROM portal_sessions WHERE token_hash = ?" + self._for_update,  # noqa: S608
                                    (_token_hash(token),)).fetchone()
            state = json.loads(row[0] or "{}") if row else {}
            for key, value in changes.items():
                if key == "nonces":
                    continue
                if value is None:
                    state.pop(key, None)
                else:
                    state[key] = value
            self.conn.execute("UPDATE portal_sessions SET state = ? WHERE token_hash = ?",
                              (json.dumps(state), _token_hash(token)))
            self.conn.execute("COMMIT")
            return state
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def consume_nonce(self, token: str, nonce: str) -> bool:
        """Remove a one-time form nonce from the session state, atomically; False when it is not there."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            row = self.conn.execute("SELECT state FROM portal_sessions WHERE token_hash = ? AND ended = 0"  # noqa: S608
                                    + self._for_update,
                                    (_token_hash(token),)).fetchone()
            state = json.loads(row[0] or "{}") if row else {}
            nonces = state.get("nonces") or []
            if not nonce or nonce not in nonces:
                self.conn.execute("COMMIT")
                return False
            nonces.remove(nonce)
            state["nonces"] = nonces
            self.conn.execute("UPDATE portal_sessions SET state = ? WHERE token_hash = ?",
                              (json.dumps(state), _token_hash(token)))
            self.conn.execute("COMMIT")
            return True
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def add_nonce(self, token: str, nonce: str, keep: int = 30) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            row = self.conn.execute("SELECT state FROM portal_sessions WHERE token_hash = ?" + self._for_update,  # noqa: S608
                                    (_token_hash(token),)).fetchone()
            state = json.loads(row[0] or "{}") if row else {}
            state["nonces"] = ([n for n in state.get("nonces") or [] if n != nonce] + [nonce])[-keep:]
            self.conn.execute("UPDATE portal_sessions SET state = ? WHERE token_hash = ?",
                              (json.dumps(state), _token_hash(token)))
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def end_session(self, token: str) -> None:
        """Sign-out: the session ends now and its search state is forgotten."""
        self.conn.execute("UPDATE portal_sessions SET ended = 1, state = '{}' WHERE token_hash = ?",
                          (_token_hash(token),))

    def end_sessions(self, user_id: int) -> int:
        """End every session of a user (account disabled); their search state is kept until purged."""
        return self.conn.execute("UPDATE portal_sessions SET ended = 1 WHERE user_id = ? AND ended = 0",
                                 (user_id,)).rowcount

    def expire_sessions(self, username: str, now: float | None = None) -> int:
        """Make a user's open sessions time out now, as if idle too long (operations, tests)."""
        now = int(time.time() if now is None else now)
        return self.conn.execute(
            "UPDATE portal_sessions SET last_seen = ? WHERE ended = 0 AND user_id ="
            " (SELECT id FROM portal_users WHERE username = ?)", (now - IDLE_TIMEOUT - 1, username)).rowcount

    def purge_sessions(self, now: float | None = None) -> int:
        now = int(time.time() if now is None else now)
        return self.conn.execute(
            "DELETE FROM portal_sessions WHERE expires_at < ? OR last_seen < ? OR (ended = 1 AND last_seen < ?)",
            (now - SESSION_RETENTION, now - IDLE_TIMEOUT - SESSION_RETENTION, now - SESSION_RETENTION)).rowcount

    def count_sessions(self, user_id: int) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM portal_sessions WHERE user_id = ? AND ended = 0",
                                     (user_id,)).fetchone()[0])
