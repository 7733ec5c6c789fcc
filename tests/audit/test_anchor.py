"""Checkpoints of the audit chain (one ordered file whatever the number of writers, failures shown on
/_status) and the matching of both countries' records of an exchange (retries, refusals at B)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from gateway import storage
from gateway.app import create_app
from gateway.audit import checkpoint, events
from gateway.audit.events import Outcome
from gateway.audit.fhir import to_fhir
from gateway.audit.journal import Journal
from gateway.audit.reconcile import Exchanged, from_fhir, reconcile
from gateway.security.pki import load_private_key
from gateway.security.trustlist import key_id
from gateway.services.audit_anchor import AuditAnchor, weaknesses, write_checkpoint
from gateway.storage.records import utcnow
from tests.audit.test_chain import SAMPLES, entry
from tests.conftest import make_topology


@pytest.fixture()
def store(tmp_path):
    s = storage.open_store(tmp_path / "db.sqlite3")
    yield s
    s.close()


def test_concurrent_writers_keep_one_ordered_chain_of_checkpoints(tmp_path):
    path, file = tmp_path / "db.sqlite3", tmp_path / "checkpoints.jws"
    storage.open_store(path).close()
    key = ec.generate_private_key(ec.SECP256R1())
    kid = key_id(key.public_key())
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        s = storage.open_store(path, migrate=False)
        try:
            for i in range(10):
                s.audit.append(entry(request_id=f"w{n}-{i:04d}-x"))
                checkpoint.write(file, "FR", s.audit.head, utcnow, key, kid)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    lines = checkpoint.lines(file)
    s = storage.open_store(path)
    result = checkpoint.check(s.audit, lines, {kid: key.public_key()}, "FR")
    s.close()
    assert result.problems == [] and result.last.seq == 60 and result.checkpoints == len(lines)
    seqs = [checkpoint.read(line, {kid: key.public_key()}).seq for line in lines]
    assert seqs == sorted(set(seqs))  # strictly increasing: no writer anchored an older head after a newer one
    assert file.stat().st_mode & 0o777 == 0o600


def test_nothing_new_writes_nothing_and_no_syslog_socket_is_skipped(store, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    file = tmp_path / "cp.jws"
    assert checkpoint.write(file, "FR", store.audit.head, utcnow, key, "k") is None  # empty chain
    store.audit.append(entry())
    assert checkpoint.write(file, "FR", store.audit.head, utcnow, key, "k") is not None
    assert checkpoint.write(file, "FR", store.audit.head, utcnow, key, "k") is None
    assert Journal(str(tmp_path / "no-such-socket")).send("checkpoint FR x") is False


def test_each_checkpoint_also_goes_to_syslog_when_there_is_a_socket(store, tmp_path):
    """A syslog socket of our own stands for /dev/log (none on this machine)."""
    address = tmp_path / "log.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(address))
        server.settimeout(10)
        topo = make_topology(tmp_path / "home", ["FR"])
        topo.prepare()
        cfg = topo.configs["FR"]
        key = load_private_key(cfg.certs.signing_key)
        fr = storage.open_store(cfg.database_path)
        try:
            fr.audit.append(entry())
            line = write_checkpoint(cfg, fr, key, key_id(key.public_key()), Journal(str(address)))
        finally:
            fr.close()
        message = server.recv(4096).decode()
    assert message.startswith("<") and f"ncpeh-audit: checkpoint FR {line}" in message
    assert checkpoint.last_line(cfg.audit_checkpoints) == line


def test_the_journal_reports_a_line_it_could_not_deliver(tmp_path):
    """Review of #24, finding 3: a syslog socket nobody reads any more (the daemon stopped, its socket file
    left behind) is a failed delivery, not a copy kept."""
    address = tmp_path / "log.sock"
    journal = Journal(str(address))
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(address))
        server.settimeout(10)
        assert journal.send("checkpoint FR first") is True and journal.delivered is True
        assert "checkpoint FR first" in server.recv(4096).decode()
    assert address.exists()  # the socket file stays, nobody listens
    assert journal.send("checkpoint FR second") is False and journal.delivered is False
    assert Journal(str(tmp_path / "no-such-socket")).delivered is None


def test_a_failing_checkpoint_is_shown_on_status_and_the_request_is_still_served_and_recorded(tmp_path):
    topo = make_topology(tmp_path, ["FR", "DE"])
    topo.prepare()
    blocked = tmp_path / "a-directory"
    blocked.mkdir()
    cfg = dataclasses.replace(topo.configs["DE"], audit_checkpoint_file=blocked, checkpoint_every=1)
    client = create_app(cfg, "public").test_client()
    assert client.get("/_status").get_json()["checks"]["audit_anchor"]["code"] == "AUDIT_ANCHOR_WEAK"
    refused = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                          headers={"Authorization": "Basic bm9ib2R5Om5vdGhpbmc="})
    assert refused.status_code == 401
    s = storage.open_store(cfg.database_path)
    assert s.audit.tail().event == events.TOKEN
    s.close()
    deadline = time.monotonic() + 20
    while (check := client.get("/_status").get_json()["checks"]["audit_anchor"]).get("code") == "AUDIT_ANCHOR_WEAK":
        assert time.monotonic() < deadline, "the failed checkpoint was never reported"
        time.sleep(0.05)
    assert check["status"] == "warning" and check["code"] == "AUDIT_CHECKPOINT_FAILED"
    assert str(cfg.audit_checkpoints) not in json.dumps(check)  # no path on the unauthenticated status


def chattr(flag: str, path) -> bool:
    """Set or clear an inode flag with e2fsprogs' chattr; False where this machine does not allow it."""
    try:
        return subprocess.run(["chattr", flag, str(path)], capture_output=True, timeout=10).returncode == 0
    except OSError:
        return False


def test_status_warns_while_the_account_that_writes_the_database_could_rewrite_the_checkpoints(tmp_path):
    """Review of #24, finding 3: the default layout (file in the data dir, not append-only, no journal) is
    shown as AUDIT_ANCHOR_WEAK on /_status, codes only; each reason goes once the operator fixes it."""
    topo = make_topology(tmp_path / "home", ["FR", "DE"])
    topo.prepare()
    cfg = topo.configs["DE"]
    client = create_app(cfg, "public").test_client()
    check = client.get("/_status").get_json()["checks"]["audit_anchor"]
    assert check["status"] == "warning" and check["code"] == "AUDIT_ANCHOR_WEAK"
    assert check["weaknesses"] == ["not_append_only", "in_data_dir", "no_journal"]  # no /dev/log on this machine
    assert str(cfg.data_dir) not in json.dumps(check)

    elsewhere = tmp_path / "anchor" / "checkpoints.jws"
    elsewhere.parent.mkdir()
    elsewhere.touch()
    moved = dataclasses.replace(cfg, audit_checkpoint_file=elsewhere)
    key = load_private_key(cfg.certs.signing_key)
    address = tmp_path / "log.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(address))
        anchor = AuditAnchor(moved, key, key_id(key.public_key()), Journal(str(address)))
        assert anchor.status()["weaknesses"] == ["not_append_only"]
        if not chattr("+a", elsewhere):
            pytest.skip("chattr +a is not allowed here (needs CAP_LINUX_IMMUTABLE)")
        try:
            assert checkpoint.append_only(elsewhere) is True
            assert anchor.status() == {"status": "ok", "journal": True, "weaknesses": [], "last_written_here": None}
            store = storage.open_store(cfg.database_path)
            try:
                store.audit.append(entry())
                assert anchor.checkpoint(store) is not None  # appending still works
            finally:
                store.close()
            server.close()  # syslog stops reading: the next line is not delivered
            store = storage.open_store(cfg.database_path)
            try:
                store.audit.append(entry())
                assert anchor.checkpoint(store) is not None
            finally:
                store.close()
            assert anchor.status()["weaknesses"] == ["journal_undelivered"]
        finally:
            chattr("-a", elsewhere)


def test_a_filesystem_without_inode_flags_is_named_as_such(tmp_path):
    topo = make_topology(tmp_path / "home", ["FR"])
    cfg = dataclasses.replace(topo.configs["FR"], audit_checkpoint_file=Path("/proc/self/status"))
    assert checkpoint.append_only(cfg.audit_checkpoints) is None
    (unknown, no_journal) = weaknesses(cfg, Journal(str(tmp_path / "no-log")))
    assert unknown.code == "append_only_unknown" and "this filesystem has no inode flags" in unknown.message
    assert no_journal.code == "no_journal"


def test_a_line_appended_by_someone_else_does_not_stop_the_anchoring(store, tmp_path):
    key, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    kid, file = key_id(key.public_key()), tmp_path / "cp.jws"
    store.audit.append(entry())
    assert checkpoint.write(file, "FR", store.audit.head, utcnow, key, kid)
    far_ahead = checkpoint.Checkpoint("FR", 10**9, "0" * 64, 10**9, utcnow(), checkpoint.line_digest(
        checkpoint.last_line(file)))
    checkpoint.append(file, lambda last: checkpoint.sign(far_ahead, other, key_id(other.public_key())))
    store.audit.append(entry())
    assert checkpoint.write(file, "FR", store.audit.head, utcnow, key, kid) is not None  # still anchored
    result = checkpoint.check(store.audit, checkpoint.lines(file), {kid: key.public_key()}, "FR")
    assert result.last.seq == 2 and result.problems == ["checkpoint line 2: signed by an unknown key (kid "
                                                        f"{key_id(other.public_key())!r})"]


def later(stamp: str, seconds: float) -> str:
    return (dt.datetime.fromisoformat(stamp) + dt.timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


def anchored_store(store, tmp_path, at: str | None = None):  # noqa: ANN201 - (Checkpoint, key)
    """One record, anchored by a checkpoint signed at ``at`` (default: now)."""
    key = ec.generate_private_key(ec.SECP256R1())
    store.audit.append(entry())
    line = checkpoint.write(tmp_path / "cp.jws", "FR", store.audit.head, lambda: at or utcnow(), key, "k")
    return checkpoint.read(line, {"k": key.public_key()})


def test_records_past_the_last_checkpoint_are_refused_once_a_running_anchor_would_have_covered_them(store, tmp_path):
    """Review of #24, finding 2: lines removed from the end of the file (no key needed), or a stalled
    anchor, show only through the records left after the last remaining checkpoint."""
    last = anchored_store(store, tmp_path)
    first = store.audit.append(entry(request_id="req-after"))
    assert checkpoint.unanchored(store.audit, last, every=3, seconds=60) == []  # recent, and few
    soon = dt.datetime.fromisoformat(later(first.recorded, 60 + checkpoint.DELAY_MARGIN_SECONDS - 1))
    assert checkpoint.unanchored(store.audit, last, every=3, seconds=60, now=soon) == []
    too_late = soon + dt.timedelta(seconds=2)
    (late,) = checkpoint.unanchored(store.audit, last, every=3, seconds=60, now=too_late)
    assert late.startswith(f"1 records after the last checkpoint (record #1, {last.at}), the first #{first.seq} "
                           f"recorded at {first.recorded}, are still not anchored, though checkpoints are written at "
                           "least every 60 s: the newest checkpoint lines were removed")
    for i in range(3):
        store.audit.append(entry(request_id=f"req-more-{i}"))
    (many,) = checkpoint.unanchored(store.audit, last, every=3, seconds=60)
    assert many.startswith("4 records after the last checkpoint (record #1, ") and "more than audit.checkpoint_every (3)" \
        in many


def test_a_record_older_than_the_checkpoint_that_ends_before_it_is_refused(store, tmp_path):
    """A checkpoint says the chain ended at #1 when it was signed: a later record cannot predate it."""
    signed = later(utcnow(), 60 + checkpoint.DELAY_MARGIN_SECONDS + 5)
    last = anchored_store(store, tmp_path, at=signed)
    store.audit.append(entry(request_id="req-after"))
    (found,) = checkpoint.unanchored(store.audit, last, every=100, seconds=60)
    assert f"before the checkpoint of {signed} that ends the chain at record #1" in found


def test_a_chain_never_anchored_is_refused_once_it_should_have_been(store):
    first = store.audit.append(entry())
    assert checkpoint.unanchored(store.audit, None, every=100, seconds=60) == []
    now = dt.datetime.fromisoformat(later(first.recorded, 60 + checkpoint.DELAY_MARGIN_SECONDS + 1))
    (found,) = checkpoint.unanchored(store.audit, None, every=100, seconds=60, now=now)
    assert found.startswith(f"1 records (no checkpoint), the first #1 recorded at {first.recorded}, are still not "
                            "anchored")


@pytest.mark.parametrize("sample", [s for s in SAMPLES if s.side], ids=lambda e: f"{e.event}-{e.side}-{e.outcome}")
def test_an_exported_record_keeps_its_side_and_peer(store, sample):
    stored = store.audit.append(sample)
    found = from_fhir(to_fhir(stored, "https://ncp.example"))
    if stored.event not in (events.IDENTIFY, events.SUMMARY):
        assert found is None
        return
    assert found == Exchanged.from_entry(stored)


def record(recorder, side, event=events.SUMMARY, outcome=Outcome.SUCCESS, digest="d1", jti=None, rid="req-1"):
    peer = "DE" if recorder == "FR" else "FR"
    return Exchanged(recorder, peer, side, event, rid, outcome, f"#{recorder}", digest if event == events.SUMMARY
                     else None, jti)


def test_a_retry_at_b_matches_either_attempt_at_a_and_refusals_only_at_b_are_not_discrepancies():
    a = [record("FR", events.RESPONDING, digest="lost", jti="j1"), record("FR", events.RESPONDING, digest="d2", jti="j2")]
    b = [record("DE", events.REQUESTING, digest="d2"),
         record("DE", events.REQUESTING, outcome=Outcome.REFUSED, rid="req-refused-at-b")]
    result = reconcile("FR", "DE", a, b)
    assert result.ok and result.matched == 1
    wrong = reconcile("FR", "DE", a, [record("DE", events.REQUESTING, digest="d3")])
    assert not wrong.ok and "SHA-256 d3" in wrong.problems[0] and "FR sent d2, lost" in wrong.problems[0]
