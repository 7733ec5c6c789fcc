"""State several nodes share, on both backends: one audit chain with several writing processes, the replay
cache, rate-limit buckets, portal sessions; migrations by replicas starting together; an older schema said
plainly; on PostgreSQL, a server lost while serving and back again without a restart."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from gateway import storage
from gateway.audit.verify import verify
from gateway.server.postgres import make_cluster
from gateway.storage import migrations
from gateway.storage.ratelimit import RateLimiter
from gateway.storage.users import MAX_FAILED_ATTEMPTS, MAX_FAILURES_PER_ADDRESS
from tests.audit.test_chain import entry

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def target(tmp_path: Path, backend: str) -> str | Path:
    """The test's database: its PostgreSQL URL, or a SQLite file."""
    return os.environ["NCPEH_DATABASE_URL"] if backend == "postgresql" else tmp_path / "db.sqlite3"


def test_append_only_on_both_backends(target):
    s = storage.open_store(target)
    for i in range(3):
        s.audit.append(entry(request_id=f"req-{i}"))
    assert s.audit.trigger_problems() == []
    for sql in ("UPDATE audit_events SET outcome = '8'", "DELETE FROM audit_events"):
        with pytest.raises(Exception, match="append-only"):
            s.db.execute(sql)
    result = verify(s.audit)
    assert result.ok and result.count == 3 and s.audit.high_water() == 3
    s.close()


def test_a_nul_character_in_an_audited_value_is_stored_as_u_fffd_and_the_chain_verifies(target):
    """A NUL reaching storage (PostgreSQL's text cannot hold it) is made U+FFFD before chaining, on both backends.
    (The request hook escapes control characters before; storage does not count on its callers for this.)"""
    s = storage.open_store(target)
    stored = s.audit.append(dataclasses.replace(entry(), patient_id="fr-\x00abc", request_id="req-\x00"))
    assert stored.patient_id == "fr-\ufffdabc" and s.audit.get(stored.seq).request_id == "req-\ufffd"
    assert verify(s.audit).ok
    s.close()


WRITER = textwrap.dedent("""
    import sys, threading
    from gateway import storage
    from tests.audit.test_chain import entry
    target, node = sys.argv[1], sys.argv[2]
    errors = []

    def writer(t):
        s = storage.open_store(target, migrate=False)
        try:
            for i in range(15):
                s.audit.append(entry(request_id=f"{node}-{t}-{i:03d}"))
        except BaseException as exc:
            errors.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for t in threads: t.start()
    for t in threads: t.join()
    sys.exit(repr(errors) if errors else 0)
""")


def test_several_processes_write_one_chain(target):
    """Three processes ("nodes") of four threads each append at once: one chain, every record once, in order."""
    storage.open_store(target).close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(target), f"n{n}"], env=env, cwd=ROOT,
                              stderr=subprocess.PIPE, text=True) for n in range(3)]
    for proc in procs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
    s = storage.open_store(target)
    result = verify(s.audit)
    assert result.ok and result.count == 3 * 4 * 15, result.lines()
    ids = [e.request_id for e in s.audit.entries()]
    assert len(set(ids)) == len(ids) == 180
    assert [e.seq for e in s.audit.entries()] == list(range(1, 181))
    s.close()


def test_an_assertion_used_on_one_node_is_refused_on_another(target):
    one, other = storage.open_store(target), storage.open_store(target, migrate=False)
    expires = int(time.time()) + 60
    assert one.replay.remember("DE", "jti-1", "hcp", expires)
    assert not other.replay.remember("DE", "jti-1", "hcp", expires)
    assert other.replay.remember_all("DE", [("jti-1", "hcp", expires), ("jti-2", "trc", expires)]) == {"jti-2"}
    assert not one.replay.remember("DE", "jti-2", "trc", expires)
    assert one.replay.remember("FR", "jti-1", "hcp", expires)  # per issuing country
    one.close()
    other.close()


def test_rate_limit_buckets_are_shared(tmp_path, backend):
    where = os.environ["NCPEH_DATABASE_URL"] if backend == "postgresql" else tmp_path / "ratelimit.sqlite3"
    first, second = RateLimiter(where), RateLimiter(where)
    now = 1_000_000.0
    assert first.take("client-a", 60, 3, now).allowed
    assert second.take("client-a", 60, 3, now).allowed
    assert first.take("client-a", 60, 3, now).allowed
    refused = second.take("client-a", 60, 3, now)
    assert not refused.allowed and refused.retry_after == 1
    assert second.take("client-a", 60, 3, now + 1.0).allowed  # refilled at one per second
    assert not first.take("client-a", 60, 3, now + 1.0).allowed  # the other limiter sees it spent
    assert first.take("client-b", 60, 3, now).allowed  # buckets are per client
    first.close()
    second.close()


def test_portal_sessions_are_shared(target):
    one, other = storage.open_store(target), storage.open_store(target, migrate=False)
    user = one.users.add("Dr.Weber", "correct horse battery", professional_id="10001", name="Dr Weber", role="221",
                         organisation="Klinik", organisation_id="urn:oid:1.2.3", language="de")
    assert other.users.get_by_username("dr.weber").id == user.id  # usernames ignore case on both backends
    pending = one.users.open_pending_signin(user.id)  # the step between password and second factor
    assert other.users.consume_pending_signin(pending) and not one.users.consume_pending_signin(pending)
    token = one.users.open_session(user.id, {"country": "FR"})
    assert other.users.session(token).state["country"] == "FR"
    other.users.update_state(token, {"family": "Brunet"})
    one.users.add_nonce(token, "n-1")
    assert other.users.consume_nonce(token, "n-1") and not one.users.consume_nonce(token, "n-1")
    assert one.users.session(token).state["family"] == "Brunet"
    one.users.end_session(token)
    assert other.users.session(token).expired()
    one.close()
    other.close()


def test_sign_in_lockout_and_second_factor_steps_are_shared(target):
    """Failed sign-ins counted on one node lock the name on the other; a TOTP step used on one is refused on
    the other; an address throttled by failures on both nodes together."""
    one, other = storage.open_store(target), storage.open_store(target, migrate=False)
    user = one.users.add("nurse.kim", "correct horse battery", professional_id="10002", name="Kim", role="2221",
                         organisation="Klinik", organisation_id="urn:oid:1.2.3", language="de")
    now = 1_800_000_000
    locked = [(one if n % 2 else other).users.record_failure("nurse.kim", "192.0.2.7", now=now + n)
              for n in range(MAX_FAILED_ATTEMPTS)]
    assert locked == [False] * (MAX_FAILED_ATTEMPTS - 1) + [True]
    assert other.users.name_locked("nurse.kim", now=now + 10) and one.users.name_locked("nurse.kim", now=now + 10)
    assert other.users.get(user.id).locked(now=now + 10)
    for n in range(MAX_FAILURES_PER_ADDRESS):
        (one if n % 2 else other).users.record_failure(f"unknown-{n}", "192.0.2.8", now=now + n)
    assert one.users.address_throttled("192.0.2.8", now=now + 60) and not one.users.address_throttled("192.0.2.9")
    assert one.users.accept_totp_step(user.id, 1000) and not other.users.accept_totp_step(user.id, 1000)
    assert other.users.accept_totp_step(user.id, 1001)
    token = one.users.open_session(user.id)
    assert other.users.expire_sessions("nurse.kim") == 1 and one.users.session(token).expired()
    assert other.users.purge_sessions(now=int(time.time()) + 10 * 3600 + 7200) >= 1 and one.users.session(token) is None
    one.close()
    other.close()


MIGRATE = "import sys; from gateway import storage; storage.open_store(sys.argv[1]).close()"


def test_replicas_starting_together_migrate_once(target):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", MIGRATE, str(target)], env=env, cwd=ROOT, stderr=subprocess.PIPE,
                              text=True) for _ in range(3)]
    for proc in procs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
    s = storage.open_store(target, migrate=False, check=True)
    assert s.schema_version() == migrations.latest_version()
    assert migrations.apply(s.db) == []  # nothing left to apply
    s.close()


def test_wrong_credentials_are_said_plainly(backend):
    if backend != "postgresql":
        pytest.skip("credentials only on PostgreSQL")
    url = os.environ["NCPEH_DATABASE_URL"]
    password = url.split("@")[0].rsplit(":", 1)[1]
    wrong = url.replace(f":{password}@", ":not-the-password@")
    with pytest.raises(storage.StorageError) as info:
        storage.open_store(wrong)
    message = str(info.value)
    assert message.startswith("PostgreSQL at 127.0.0.1:") and "password authentication failed" in message
    assert "not-the-password" not in message and password not in message


def test_an_older_schema_is_said_plainly(target, backend):
    s = storage.open_store(target)
    table = "ncpeh_migrations" if backend == "postgresql" else "_sqlite_migrations"
    s.db.execute(f"DELETE FROM {table} WHERE name = 'm009_summary_originals'")  # noqa: S608 - a fixed name
    s.close()
    with pytest.raises(storage.StorageError, match=r"schema version 8 is older than this version's 9: run 'ncpeh init-db'"):
        storage.open_store(target, migrate=False, check=True)


def test_a_lost_server_fails_cleanly_and_service_resumes_without_restart(backend):
    """PostgreSQL stops under a pooled store: statements fail with DatabaseUnavailable (503), nothing half-written;
    once it is back the same pool serves again."""
    if backend != "postgresql":
        pytest.skip("a database server only on PostgreSQL")
    directory = Path(tempfile.mkdtemp(prefix="ncpeh-test-pg-lost-"))
    cluster = make_cluster(directory)
    try:
        cluster.create_database("lost")
        url = cluster.url("lost")
        storage.open_store(url).close()
        pool = storage.pg_pool(url, 2)
        use = lambda: storage.Store(storage.PgDatabase(storage.PgConnection(pool, name="lost")), url)  # noqa: E731
        s = use()
        s.audit.append(entry(request_id="before"))
        assert s.ping()
        s.close()
        cluster.stop("immediate")
        s = use()
        assert not s.ping()
        with pytest.raises(storage.DatabaseUnavailable, match="lost: "):
            s.audit.append(entry(request_id="while-down"))
        s.close()
        cluster.start()
        s = use()
        deadline = time.monotonic() + 20
        while not s.ping():
            assert time.monotonic() < deadline, "the pool did not reconnect"
            time.sleep(0.2)
        s.audit.append(entry(request_id="after"))
        assert [e.request_id for e in s.audit.entries()] == ["before", "after"]
        assert verify(s.audit).ok
        s.close()
        pool.close()
    finally:
        cluster.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)
