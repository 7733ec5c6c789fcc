"""Audit group commit: concurrent writers' records share one durable transaction, each caller answered only
once its own record is committed, the chain one ordered chain; a crash mid-batch loses no answered record."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from gateway import storage
from gateway.audit.verify import verify
from tests.audit.test_chain import entry

ROOT = Path(__file__).resolve().parents[2]


def _wait_until(predicate, seconds: float = 20.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_queued_records_of_concurrent_writers_are_committed_in_one_transaction(tmp_path):
    path = tmp_path / "db.sqlite3"
    holder = storage.open_store(path)
    holder.audit.append(entry(request_id="req-first"))
    before = holder.audit.group_commits
    results: dict[int, object] = {}

    def writer(n: int) -> None:
        s = storage.open_store(path, migrate=False, writers=holder.writers)  # this process's writers share
        try:
            results[n] = s.audit.append(entry(request_id=f"req-w{n:04d}"))
        finally:
            s.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(12)]
    with holder.audit._write_lock:  # a commit in progress: the others queue up behind it
        for t in threads:
            t.start()
        _wait_until(lambda: holder.audit.queued == len(threads))
        assert not results  # nobody answered before its record is committed
    for t in threads:
        t.join()
    assert holder.audit.group_commits - before == 1  # twelve records, one transaction (one fsync)
    seqs = sorted(e.seq for e in results.values())
    assert seqs == list(range(2, 14))
    result = verify(holder.audit)
    assert result.ok and result.count == 13
    holder.close()


SCRIPT = textwrap.dedent("""
    import os, sys, threading, time
    from gateway import storage
    from tests.audit.test_chain import entry
    from pathlib import Path
    path = Path(sys.argv[1])
    s = storage.open_store(path)
    for i in range(3):
        s.audit.append(entry(request_id=f"req-answered-{i}"))
        print(f"answered req-answered-{i}", flush=True)
    os.environ["NCPEH_TEST_KILL_IN_GROUP_COMMIT"] = "4"

    def writer(n):
        w = storage.open_store(path, migrate=False, writers=s.writers)
        w.audit.append(entry(request_id=f"req-batch-{n}"))
        print(f"answered req-batch-{n}", flush=True)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    with s.audit._write_lock:
        for t in threads:
            t.start()
        while s.audit.queued < 4:
            time.sleep(0.01)
    for t in threads:
        t.join()
    print("survived", flush=True)
""")


def test_a_kill_during_a_group_commit_loses_no_answered_record(tmp_path):
    path = tmp_path / "db.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("NCPEH_TEST_KILL_IN_GROUP_COMMIT", None)
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(path)], capture_output=True, text=True, env=env,
                          timeout=60, cwd=ROOT)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    answered = {line.split()[1] for line in proc.stdout.splitlines() if line.startswith("answered ")}
    assert answered == {f"req-answered-{i}" for i in range(3)}  # no batch writer was answered
    s = storage.open_store(path)
    stored = {e.request_id for e in s.audit.entries()}
    assert answered <= stored and stored == answered  # every answered record; the unanswered batch all or nothing
    result = verify(s.audit)
    assert result.ok and result.count == 3
    s.audit.append(entry(request_id="req-after"))  # the chain goes on after the crash
    assert verify(s.audit).ok
    s.close()
