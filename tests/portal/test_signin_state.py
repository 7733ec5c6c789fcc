"""Sign-in state in storage (real SQLite): failure counters per name, pending second factors, and a
database made before either (its locks and TOTP secrets in clear) brought up to date."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

import pyotp
import pytest

from gateway import storage
from gateway.config import country_file, load_config
from gateway.security import secretbox
from gateway.services import accounts
from gateway.storage import migrations, users
from gateway.storage.db import connect
from gateway.storage.users import FAILURE_WINDOW, LOCKOUT_SECONDS, MAX_FAILED_ATTEMPTS, PENDING_SIGNIN_SECONDS

T0 = 1_800_000_000


@pytest.fixture
def store(tmp_path):
    s = storage.open_store(tmp_path / "db.sqlite3")
    yield s
    s.close()


def add(store, username: str = "anna", totp: str | None = None) -> users.User:  # noqa: ANN001
    return store.users.add(username, "correct horse battery staple", professional_id="1", name="Anna", role="221",
                           organisation="Org", organisation_id="urn:oid:1", language="de", totp_secret=totp)


def fail(store, name: str, times: int, at: int) -> list[bool]:  # noqa: ANN001
    return [store.users.record_failure(name, None, now=at + i) for i in range(times)]


def test_any_name_locks_after_repeated_failures_and_unlocks_later(store):
    add(store)
    for name in ("anna", "nobody"):
        assert fail(store, name, MAX_FAILED_ATTEMPTS, T0) == [False] * (MAX_FAILED_ATTEMPTS - 1) + [True]
        assert store.users.name_locked(name, now=T0 + MAX_FAILED_ATTEMPTS)
        assert not store.users.name_locked(name, now=T0 + MAX_FAILED_ATTEMPTS + LOCKOUT_SECONDS)
    assert store.users.get_by_username("ANNA").locked(now=T0 + 10)  # the account shows its name's lock


def test_old_failures_stop_counting(store):
    fail(store, "nobody", MAX_FAILED_ATTEMPTS - 1, T0)
    assert fail(store, "nobody", 1, T0 + FAILURE_WINDOW + 10) == [False]
    assert not store.users.name_locked("nobody", now=T0 + FAILURE_WINDOW + 11)


def test_counters_are_bounded_locked_names_kept(store, monkeypatch):
    monkeypatch.setattr(users, "MAX_TRACKED_NAMES", 3)
    fail(store, "target", MAX_FAILED_ATTEMPTS, T0)
    for i in range(10):
        fail(store, f"spray-{i}", 1, T0 + 10 + i)
    rows = store.db.execute("SELECT name_hash FROM portal_signin_failures").fetchall()
    assert len(rows) <= 4 and store.users.name_locked("target", now=T0 + 30)
    assert not [r for r in rows if "target" in r[0] or "spray" in r[0]]  # names are never stored, only their hash


def test_a_success_or_an_administrator_clears_the_count(store):
    user = add(store)
    fail(store, "anna", MAX_FAILED_ATTEMPTS - 1, int(time.time()))
    store.users.record_success(user.id)
    assert store.users.get(user.id).failed_attempts == 0
    fail(store, "anna", MAX_FAILED_ATTEMPTS, int(time.time()))
    assert store.users.get(user.id).locked()
    store.users.set_active("anna", True)
    assert not store.users.get(user.id).locked()


def test_a_pending_second_factor_is_used_once_and_expires(store):
    user = add(store)
    token = store.users.open_pending_signin(user.id, now=T0)
    assert store.users.pending_signin(token, now=T0 + PENDING_SIGNIN_SECONDS) == user.id
    assert store.users.pending_signin(token, now=T0 + PENDING_SIGNIN_SECONDS + 1) is None
    assert store.users.consume_pending_signin(token, now=T0 + 1)
    assert not store.users.consume_pending_signin(token, now=T0 + 2)
    assert store.users.pending_signin(token, now=T0 + 2) is None
    assert store.db.execute("SELECT COUNT(*) FROM portal_pending_signins WHERE token_hash = ?",
                            (token,)).fetchone()[0] == 0  # only the token's hash is ever stored
    for ending in (lambda: fail(store, "anna", MAX_FAILED_ATTEMPTS, int(time.time())),
                   lambda: store.users.set_password("anna", "another long password")):
        token = store.users.open_pending_signin(user.id)
        ending()
        assert store.users.pending_signin(token) is None
        store.users.set_active("anna", True)


def test_totp_secrets_are_refused_in_clear(store):
    with pytest.raises(ValueError, match="sealed"):
        add(store, totp=pyotp.random_base32())
    add(store)
    with pytest.raises(ValueError, match="sealed"):
        store.users.set_totp("anna", pyotp.random_base32())


def test_a_database_made_before_sealing_is_brought_up_to_date(tmp_path):
    """Old schema (up to m006), a world-readable file, a TOTP secret in clear and a locked account:
    opening keeps the lock and narrows the file; `ncpeh init-db` seals the secret, which still works."""
    data = tmp_path / "var" / "de"
    data.mkdir(parents=True)
    path = data / "ncpeh.sqlite3"
    db = connect(path)
    migrations.migrations.apply(db, stop_before="m007_signin_failures_by_name")
    secret = pyotp.random_base32()
    locked_until = int(time.time()) + 600
    db.execute("INSERT INTO portal_users (username, professional_id, name, role, organisation, organisation_id, language,"
               " password_hash, totp_secret, failed_attempts, locked_until, created_at) VALUES ('Old.Doc', '1', 'Dr Old',"
               " '221', 'Org', 'urn:oid:1', 'de', ?, ?, 0, ?, '2025-01-01T00:00:00Z')",
               (users.hash_password("correct horse battery staple"), secret, locked_until))
    db.conn.close()
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if name.exists():
            name.chmod(0o644)

    old = storage.open_store(path)
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        user = old.users.get_by_username("old.doc")
        assert user.locked() and user.locked_until == locked_until  # the lock moved to the per-name counters
    finally:
        old.close()

    env = {**{k: v for k, v in os.environ.items() if not k.startswith("NCPEH_")},
           "NCPEH_HOME": str(tmp_path), "NCPEH_DATA_DIR": str(data)}
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "init-db", "-c", "DE"], env=env, text=True,
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    cfg = load_config(country_file("DE"), env=env)
    upgraded = storage.open_store(path)
    try:
        user = upgraded.users.get_by_username("old.doc")
    finally:
        upgraded.close()
    assert secretbox.is_sealed(user.totp_secret) and secret not in user.totp_secret
    assert secret.encode() not in b"".join(p.read_bytes() for p in data.glob("ncpeh.sqlite3*"))
    assert accounts.totp_secret(cfg, user) == secret
    assert accounts.totp_step(accounts.totp_secret(cfg, user), pyotp.TOTP(secret).now()) is not None
    (cfg.totp_key_path).unlink()  # the key file lost: refused with a message naming it
    with pytest.raises(accounts.TotpUnavailable, match=f"restore the key file {cfg.totp_key_path}"):
        accounts.totp_secret(cfg, user)


def test_a_reserved_attempt_with_the_right_secret_is_taken_back_alone(store):
    """reserve_attempt counts before the secret is checked; release_attempt takes back only that attempt: a right
    password after four wrong second-factor codes leaves four counted (the fifth wrong code locks), and a lock
    set by an attempt whose secret was right is lifted."""
    add(store)
    for i in range(MAX_FAILED_ATTEMPTS - 1):
        assert store.users.reserve_attempt("anna", "192.0.2.1", now=T0 + i).locked_now is False
    right = store.users.reserve_attempt("anna", "192.0.2.1", now=T0 + 10)
    assert right.refused is None and right.locked_now is True and store.users.name_locked("anna", T0 + 11)
    store.users.release_attempt("anna", right)
    assert not store.users.name_locked("anna", T0 + 11)
    assert store.users.reserve_attempt("anna", "192.0.2.1", now=T0 + 12).locked_now is True  # four still counted
    assert store.users.reserve_attempt("anna", "192.0.2.1", now=T0 + 13).refused == "ACCOUNT_LOCKED"
    rows = store.db.execute("SELECT COUNT(*) FROM portal_login_failures WHERE address = '192.0.2.1'").fetchone()[0]
    assert rows == MAX_FAILED_ATTEMPTS + 1  # the right attempt's address row taken back, the refused one counted
