"""Hostile-case catalogue, part 3: someone who can write the database file rewrites the audit trail.

FR and DE exchange over real gunicorn; their servers write signed checkpoints of their chains (every 4
records, and every half second while records are added). Each test then tampers with a copy of the
whole installation the way an attacker with file access would, and runs the real ``ncpeh`` command.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from gateway import audit_trail as trail
from gateway import storage
from gateway.audit import checkpoint, events
from gateway.audit.chain import AuditEntry
from gateway.audit.verify import verify
from gateway.config import CountryConfig
from gateway.security.trustlist import key_id
from gateway.services.audit_anchor import verification_keys
from gateway.services.population import store_documents
from gateway.storage.audit import EXPECTED_TRIGGERS
from tests.audit.test_exchange import exchange
from tests.conftest import load_fixture, make_topology, started

EVERY = "4"
NOOP_TRIGGERS = [f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events BEGIN SELECT 1; END"
                 for verb in ("UPDATE", "DELETE")]


@dataclass
class Anchored:
    home: Path
    configs: dict[str, CountryConfig]
    exchanges: list[tuple[str, str]]  # (identification request id, summary request id)


def head_at(path: Path) -> tuple[int, str, int]:
    """(seq, hash, count) of the chain's last record."""
    store = storage.open_store(path, migrate=False)
    try:
        return store.audit.head()
    finally:
        store.close()


def anchored_head(cfg: CountryConfig) -> int:
    """The record the file's last checkpoint covers (0: none)."""
    line = checkpoint.last_line(cfg.audit_checkpoints)
    return checkpoint.read(line, verification_keys(cfg)).seq if line else 0


@pytest.fixture(scope="module")
def anchored(tmp_path_factory) -> Anchored:
    home = tmp_path_factory.mktemp("anchored")
    topo = make_topology(home, ["FR", "DE"])
    topo.env = {**topo.env, "NCPEH_AUDIT_CHECKPOINT_EVERY": EVERY, "NCPEH_AUDIT_CHECKPOINT_SECONDS": "0.5"}
    topo.prepare(patients=0)
    store = storage.open_store(topo.configs["FR"].database_path)
    store_documents(store, topo.configs["FR"], [load_fixture("ips-fr-dupont.json")])
    store.close()
    done = []
    with started(topo) as running:
        for _ in range(3):  # each exchange anchored before the next: at least three checkpoints per country
            search_id, summary_id, _, _ = exchange(running)
            done.append((search_id, summary_id))
            deadline = time.monotonic() + 30
            while any(anchored_head(cfg) < head_at(cfg.database_path)[0] for cfg in topo.configs.values()):
                assert time.monotonic() < deadline, "the servers did not anchor their chains"
                time.sleep(0.1)
    return Anchored(home, topo.configs, done)


@pytest.fixture
def home(anchored, tmp_path) -> Path:
    """A copy of the installation (certificates, databases, checkpoint files) to tamper with."""
    copy = tmp_path / "home"
    shutil.copytree(anchored.home, copy, ignore=shutil.ignore_patterns("logs"))
    return copy


def ncpeh(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NCPEH_HOME": str(home), "NCPEH_AUDIT_CHECKPOINT_EVERY": EVERY}
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def db(home: Path, code: str) -> Path:
    return home / "var" / code.lower() / "ncpeh.sqlite3"


def checkpoints(home: Path, code: str) -> Path:
    return home / "var" / code.lower() / "audit-checkpoints.jws"


def tamper(path: Path, *statements: str | tuple[str, tuple], triggers: list[str] | None = None) -> None:
    """What an attacker with write access to the file does: drop the triggers, change rows, put triggers back
    (``triggers``: the statements creating them; default: the genuine ones, identical)."""
    conn = sqlite3.connect(path, isolation_level=None)
    for name in EXPECTED_TRIGGERS:
        conn.execute(f"DROP TRIGGER {name}")
    for sql in statements:
        conn.execute(*sql) if isinstance(sql, tuple) else conn.execute(sql)
    for sql in triggers or list(EXPECTED_TRIGGERS.values()):
        conn.execute(sql)
    conn.close()


def rewrite(path: Path, seq: int, triggers: list[str] | None = None, **changes: str) -> None:
    """Change record ``seq`` and recompute its hash and every later one: the chain is consistent again."""
    conn = sqlite3.connect(path, isolation_level=None)
    for name in EXPECTED_TRIGGERS:
        conn.execute(f"DROP TRIGGER {name}")
    for sql in triggers or []:  # the attacker's no-op triggers, in place while rewriting
        conn.execute(sql)
    rows = conn.execute("SELECT * FROM audit_events WHERE seq >= ? ORDER BY seq", (seq,)).fetchall()
    prev = conn.execute("SELECT hash FROM audit_events WHERE seq = ?", (seq - 1,)).fetchone()[0]
    for row in rows:
        entry = AuditEntry.from_row(row)
        if entry.seq == seq:
            entry = AuditEntry(**{**entry.__dict__, **changes})
        chained = entry.chained(entry.seq, prev)
        conn.execute("UPDATE audit_events SET " + ", ".join(f"{k} = ?" for k in (*changes, "prev_hash", "hash"))  # noqa: S608
                     + " WHERE seq = ?", (*(getattr(chained, k) for k in changes), chained.prev_hash, chained.hash,
                                          entry.seq))
        prev = chained.hash
    if triggers is None:  # the genuine triggers put back, identical
        for sql in EXPECTED_TRIGGERS.values():
            conn.execute(sql)
    conn.close()


def chain_alone_is_fooled(path: Path) -> bool:
    store = storage.open_store(path, migrate=False)
    try:
        result = verify(store.audit)
        return result.broken is None
    finally:
        store.close()


def release_seq(path: Path, request_id: str) -> int:
    store = storage.open_store(path, migrate=False)
    try:
        (entry,) = [e for e in store.audit.by_request_id(request_id) if e.event == events.SUMMARY]
        return entry.seq
    finally:
        store.close()


# --- the servers anchor their chains ----------------------------------------------------------------


def test_servers_append_signed_checkpoints_that_verify(anchored, home):
    for code, cfg in anchored.configs.items():
        path = cfg.audit_checkpoints
        assert path.stat().st_mode & 0o777 == 0o600
        lines = checkpoint.lines(path)
        assert len(lines) >= 3
        found = [checkpoint.read(line, verification_keys(cfg)) for line in lines]
        assert all(cp.country == code for cp in found)
        assert [cp.seq for cp in found] == sorted(cp.seq for cp in found)  # workers never forked the file
        assert found[0].prev == "0" * 64 and found[1].prev == checkpoint.line_digest(lines[0])
        result = ncpeh(home, "audit", "verify", "-c", code)
        assert result.returncode == 0, result.stderr
        assert "audit chain intact" in result.stdout and f"anchored: {len(lines)} signed checkpoints" in result.stdout


def test_checkpoint_on_demand_signs_the_head_once(anchored, home):
    fr = anchored.configs["FR"]
    assert "no new record since the last checkpoint" in ncpeh(home, "audit", "checkpoint", "-c", "FR").stdout
    seq = append_record(db(home, "FR"))
    result = ncpeh(home, "audit", "checkpoint", "-c", "FR")
    assert result.returncode == 0 and f"checkpoint of record #{seq}" in result.stdout, result.stderr
    assert checkpoint.read(checkpoint.last_line(checkpoints(home, "FR")), verification_keys(fr)).seq == seq
    assert ncpeh(home, "audit", "verify", "-c", "FR").returncode == 0


def append_record(path: Path) -> int:
    """A new record (as the command line writes them); returns its seq."""
    store = storage.open_store(path, migrate=False)
    try:
        return store.audit.append(trail.draft(events.ADMIN_PREFIX + "test", recorder="FR", listener="cli",
                                              actor_type=events.ACTOR_OPERATOR)).seq
    finally:
        store.close()


# --- attacks on the chain -----------------------------------------------------------------------------


def test_newest_rows_deleted_and_sqlite_sequence_lowered_is_detected(home):
    path = db(home, "FR")
    seq = head_at(path)[0]
    tamper(path, ("DELETE FROM audit_events WHERE seq > ?", (seq - 3,)),
           ("UPDATE sqlite_sequence SET seq = ? WHERE name = 'audit_events'", (seq - 3,)))
    assert chain_alone_is_fooled(path)  # consistent, and nothing beyond the new end
    result = ncpeh(home, "audit", "verify", "-c", "FR")
    assert result.returncode == 1
    assert f"the chain ends at record #{seq - 3}, records #{seq - 2}..#{seq} were removed (truncated)" in result.stderr


def test_rewritten_record_with_recomputed_hashes_and_noop_triggers_is_detected(anchored, home):
    path = db(home, "FR")
    seq = release_seq(path, anchored.exchanges[0][1])
    rewrite(path, seq, triggers=NOOP_TRIGGERS, actor_id="de-lanr-someone-else", organisation="urn:oid:9.9.9")
    store = storage.open_store(path, migrate=False)
    names = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    store.close()
    assert set(EXPECTED_TRIGGERS) <= names  # the names are all there
    store = storage.open_store(path, migrate=False)
    assert verify(store.audit).broken.seq == 0  # ...but the triggers are reported, not the chain
    store.close()
    result = ncpeh(home, "audit", "verify", "-c", "FR")
    assert result.returncode == 1
    for name in EXPECTED_TRIGGERS:
        assert f"trigger {name} is not the expected one" in result.stderr
    assert f"record #{head_at(path)[0]} differs from the signed head: the chain up to it was rewritten" \
        in result.stderr


def test_rewritten_record_with_genuine_triggers_put_back_is_detected_by_the_checkpoints(anchored, home):
    path = db(home, "FR")
    seq = release_seq(path, anchored.exchanges[1][1])
    rewrite(path, seq, outcome="4", outcome_code="ACCESS_REFUSED")
    assert chain_alone_is_fooled(path)
    result = ncpeh(home, "audit", "verify", "-c", "FR")
    assert result.returncode == 1
    assert "differs from the signed head" in result.stderr and "trigger" not in result.stderr


def test_checkpoint_file_removed_as_well_is_reported_and_an_off_host_copy_still_detects(anchored, home, tmp_path):
    path = db(home, "FR")
    off_host = tmp_path / "shipped-checkpoints.jws"
    shutil.copy(checkpoints(home, "FR"), off_host)
    rewrite(path, release_seq(path, anchored.exchanges[2][1]), actor_role="999")
    checkpoints(home, "FR").unlink()
    result = ncpeh(home, "audit", "verify", "-c", "FR")
    assert result.returncode == 1
    assert "no checkpoint file, though the chain holds" in result.stderr
    shipped = ncpeh(home, "audit", "verify", "-c", "FR", "--checkpoints", str(off_host))
    assert shipped.returncode == 1 and "differs from the signed head" in shipped.stderr


def journal_export(lines: list[str], path: Path) -> Path:
    """The checkpoints as a remote syslog keeps them (and a line someone else on the host sent)."""
    path.write_text("Dec  4 20:00:00 ncp-fr ncpeh-audit: checkpoint FR not.a.checkpoint\n" + "".join(
        f"Dec  4 20:00:{i:02d} ncp-fr ncpeh-audit: checkpoint FR {line}\n" for i, line in enumerate(lines)))
    return path


def test_file_signed_afresh_with_the_own_key_is_detected_by_the_copy_kept_off_the_host(anchored, home, tmp_path):
    """Review of #24, finding 3: the service account reads the signing key and owns the checkpoint file: it
    rewrites the chain, empties the file and signs a new checkpoint with the NCPeH's own key. The file alone
    cannot show it; the copy that left the host does."""
    path, file = db(home, "FR"), checkpoints(home, "FR")
    shipped = journal_export(checkpoint.lines(file), tmp_path / "syslog-ncp-fr.log")
    seq = release_seq(path, anchored.exchanges[0][1])
    rewrite(path, seq, outcome="4", outcome_code="ACCESS_REFUSED")
    file.write_text("")
    assert ncpeh(home, "audit", "checkpoint", "-c", "FR").returncode == 0  # the NCPeH's own key
    fooled = ncpeh(home, "audit", "verify", "-c", "FR")
    assert fooled.returncode == 0 and "anchored: 1 signed checkpoints" in fooled.stdout, fooled.stderr
    assert "AUDIT_ANCHOR_WEAK (not_append_only)" in fooled.stderr and "(in_data_dir)" in fooled.stderr
    assert "not compared with a copy kept off the host" in fooled.stdout
    result = ncpeh(home, "audit", "verify", "-c", "FR", "--checkpoints-copy", str(shipped))
    assert result.returncode == 1
    assert "copy line 2 (" in result.stderr and "is missing from the checkpoint file" in result.stderr
    assert "differs from it: the chain up to it was rewritten" in result.stderr, result.stderr


def test_a_copy_that_lags_behind_the_file_passes(home, tmp_path):
    lines = checkpoint.lines(checkpoints(home, "FR"))
    shipped = journal_export(lines[:-1], tmp_path / "syslog-ncp-fr.log")
    result = ncpeh(home, "audit", "verify", "-c", "FR", "--checkpoints-copy", str(shipped))
    assert result.returncode == 0, result.stderr
    assert f"its {len(lines) - 1} signed checkpoints are all in" in result.stdout and "(1 other lines ignored)" \
        in result.stdout


def forged_key_line(line: str, key: ec.EllipticCurvePrivateKey, **claims) -> str:
    body = json.loads(base64.urlsafe_b64decode(line.split(".")[1] + "=="))
    cp = checkpoint.Checkpoint.from_claims({**body, **claims})
    return checkpoint.sign(cp, key, key_id(key.public_key()))


def altered_line(line: str, **claims) -> str:
    header, payload, signature = line.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=="))
    body.update(claims)
    encoded = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return f"{header}.{encoded}.{signature}"


@pytest.mark.parametrize("attack", ["altered", "own-key", "unsigned", "line-removed"])
def test_tampered_checkpoint_lines_are_detected(anchored, home, attack):
    """The attacker who rewrote the chain also rewrites the checkpoints to match it."""
    path, file = db(home, "FR"), checkpoints(home, "FR")
    if attack == "line-removed":  # enough lines to remove one in the middle
        for _ in range(2):
            append_record(path)
            assert ncpeh(home, "audit", "checkpoint", "-c", "FR").returncode == 0
    seq = head_at(path)[0]
    rewrite(path, seq, actor_id="de-lanr-someone-else")
    new_head = head_at(path)[1]
    lines = checkpoint.lines(file)
    last = lines[-1]
    if attack == "altered":
        lines[-1] = altered_line(last, head=new_head)
        expected = f"checkpoint line {len(lines)}: signature invalid: the line was forged or altered"
    elif attack == "own-key":
        lines[-1] = forged_key_line(last, ec.generate_private_key(ec.SECP256R1()), head=new_head)
        expected = f"checkpoint line {len(lines)}: signed by an unknown key"
    elif attack == "unsigned":
        header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": checkpoint.TYP}).encode()).rstrip(b"=")
        lines[-1] = header.decode() + "." + altered_line(last, head=new_head).split(".")[1] + "."
        expected = f"checkpoint line {len(lines)}: not a signed checkpoint"
    else:  # the last checkpoint (covering the rewrite) is dropped, and one in the middle
        del lines[-1]
        del lines[len(lines) // 2]
        assert len(lines) >= 2
        expected = "does not follow the line before it"
    file.write_text("".join(line + "\n" for line in lines))
    result = ncpeh(home, "audit", "verify", "-c", "FR")
    assert result.returncode == 1
    assert expected in result.stderr, result.stderr


def test_newest_checkpoint_line_removed_and_the_records_after_the_one_before_rewritten_is_detected(anchored, home):
    """Review of #24, finding 2: no key is needed to delete lines from the end of the file; the records
    the removed line covered are then more than checkpoint_every past the last checkpoint left."""
    path, file = db(home, "FR"), checkpoints(home, "FR")
    before = checkpoint.read(checkpoint.last_line(file), verification_keys(anchored.configs["FR"])).seq
    added = [append_record(path) for _ in range(int(EVERY) + 1)]
    assert ncpeh(home, "audit", "checkpoint", "-c", "FR").returncode == 0
    lines = checkpoint.lines(file)
    file.write_text("".join(line + "\n" for line in lines[:-1]))  # only the last line goes
    rewrite(path, added[1], actor_id="someone-else")
    assert chain_alone_is_fooled(path)
    result = ncpeh(home, "audit", "verify", "-c", "FR")
    assert result.returncode == 1, result.stdout
    assert (f"{len(added)} records after the last checkpoint (record #{before}" in result.stderr
            and f"are not anchored, more than audit.checkpoint_every ({EVERY})" in result.stderr), result.stderr


def test_unexpected_trigger_that_swallows_new_records_is_reported(home):
    path = db(home, "FR")
    tamper(path, "CREATE TRIGGER audit_events_keep_quiet BEFORE INSERT ON audit_events BEGIN SELECT RAISE(IGNORE); END")
    result = ncpeh(home, "audit", "verify", "-c", "FR")
    assert result.returncode == 1 and "unexpected trigger audit_events_keep_quiet" in result.stderr


# --- reconciling both countries' records -----------------------------------------------------------


def export(home: Path, code: str, out: Path) -> Path:
    result = ncpeh(home, "audit", "export", "-c", code, "--since", "1d", "--output", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_reconcile_reports_a_record_deleted_on_either_side_and_a_different_digest(anchored, home, tmp_path):
    (search_1, summary_1), (_, summary_2), (search_3, summary_3) = anchored.exchanges
    de_export = export(home, "DE", tmp_path / "de.ndjson")
    fine = ncpeh(home, "audit", "reconcile", "-c", "FR", str(de_export))
    assert fine.returncode == 0, fine.stderr
    assert "6 exchanges with DE reconciled" in fine.stdout

    # FR (country A) deletes its record of having released a summary
    tamper(db(home, "FR"), ("DELETE FROM audit_events WHERE request_id = ?", (summary_1,)))
    result = ncpeh(home, "audit", "reconcile", "-c", "FR", str(de_export))
    assert result.returncode == 1
    assert f"request {summary_1} (patient.summary): DE recorded an answer (#" in result.stderr
    assert "no record at FR" in result.stderr

    # DE (country B) deletes its record of an identification; FR reconciles with DE's new export
    tamper(db(home, "DE"), ("DELETE FROM audit_events WHERE request_id = ?", (search_3,)))
    result = ncpeh(home, "audit", "reconcile", "-c", "FR", str(export(home, "DE", tmp_path / "de-2.ndjson")))
    assert result.returncode == 1
    assert f"request {search_3} (patient.identify): answered by FR (#" in result.stderr
    assert "no record at DE" in result.stderr

    # the digest DE recorded of what it received differs from what FR sent
    lines = de_export.read_text().splitlines()
    changed = []
    for line in lines:
        if summary_2 in line and "document_sha256" in line:
            resource = json.loads(line)
            for entity in resource["entity"]:
                for detail in entity.get("detail", []):
                    if detail["type"] == "document_sha256":
                        detail["valueString"] = "f" * 64
            line = json.dumps(resource)
        changed.append(line)
    de_export.write_text("\n".join(changed) + "\n")
    result = ncpeh(home, "audit", "reconcile", "-c", "FR", str(de_export))
    assert result.returncode == 1
    assert f"request {summary_2} (patient.summary): DE received a document with SHA-256 {'f' * 64}" in result.stderr
    # from DE's side too (DE's view of FR's export)
    from_de = ncpeh(home, "audit", "reconcile", "-c", "DE", str(export(home, "FR", tmp_path / "fr.ndjson")))
    assert from_de.returncode == 1 and summary_1 in from_de.stderr and search_3 in from_de.stderr
    assert search_1 not in from_de.stderr and summary_3 not in from_de.stderr


def test_reconcile_refuses_an_unreadable_export(home, tmp_path):
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"resourceType": "AuditEvent"}\nnot json\n')
    result = ncpeh(home, "audit", "reconcile", "-c", "FR", str(bad))
    assert result.returncode == 2 and "line 2 is not JSON" in result.stderr and "Traceback" not in result.stderr
