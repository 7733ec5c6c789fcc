"""Country A (FR) as two replicas on PostgreSQL behind HAProxy, country B (DE) sending cross-border load; one
replica of A is killed (SIGKILL) in the middle. Every request succeeds or fails cleanly, A's audit chain
verifies, its records match the answered requests (none lost, none duplicated), and an assertion one
replica accepted is refused by the other."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from gateway.audit import events
from gateway.server.demo import Topology, TopologyError
from gateway.server.postgres import INSTALL_HINT, ClusterError, bin_dir
from gateway.services.population import store_documents
from tests.conftest import CLINICIAN, Running, free_ports, load_fixture
from tests.security.helpers import TRAITS as PEER_TRAITS
from tests.security.helpers import assert_refused

INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
INS = "284057505612387"
TRAITS = {"country": "FR", **PEER_TRAITS}
ROOT = Path(__file__).resolve().parents[2]


def _require_binaries() -> None:
    try:
        bin_dir()
    except ClusterError as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{exc} (install with: {INSTALL_HINT})")
        pytest.skip(str(exc))
    if not (shutil.which("haproxy") or Path("/usr/sbin/haproxy").exists()):
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("haproxy is missing (install with: make haproxy)")
        pytest.skip("haproxy is missing (make haproxy)")


@pytest.fixture()
def ha() -> Iterator[Running]:
    """FR: two replicas behind HAProxy; DE: one instance; both on one throwaway PostgreSQL cluster."""
    _require_binaries()
    home = Path(tempfile.mkdtemp(prefix="ncpeh-multinode-"))  # under /tmp: reachable by the cluster's user
    ports = free_ports(4)
    topo = Topology(["FR", "DE"], home, {"FR": (ports[0], ports[1]), "DE": (ports[2], ports[3])},
                    env={"NCPEH_THREADS": "4", "NCPEH_PEER_READ_TIMEOUT": "8",
                         "NCPEH_RATE_PER_MINUTE": "1000000", "NCPEH_RATE_BURST": "100000",
                         "NCPEH_TOKEN_FAILURES_PER_ADDRESS": "100000", "NCPEH_TOKEN_FAILURES_PER_CLIENT": "100000"},
                    database="postgresql", replicas=2, replicated=("FR",))
    try:
        topo.prepare(patients=0)
        store = Running(topo).store("FR")
        store_documents(store, topo.configs["FR"], [load_fixture("ips-fr-dupont.json")])
        store.close()
        topo.start(timeout=90)
        yield Running(topo)
    finally:
        topo.stop()
        shutil.rmtree(home, ignore_errors=True)


def kill_replica(topo: Topology, code: str, index: int) -> list[int]:
    """SIGKILL both listeners of one replica: each gunicorn master and its workers (its process group)."""
    killed = []
    for proc in topo.replica_sets[code][index - 1].processes.values():
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        killed.append(proc.pid)
    return killed


def test_a_replica_killed_under_load_loses_nothing_and_replays_are_refused_everywhere(ha):
    topo = ha.topo
    fr_store = ha.store("FR")
    fr_id = fr_store.records.find_by_identifier(INS_SYSTEM, INS).id
    fr_store.close()
    base = ha.public("DE") + "/fhir"
    answered: list[tuple[str, int]] = []
    unclean: list[str] = []
    unanswered: Counter = Counter()
    stop = threading.Event()
    lock = threading.Lock()

    def load(n: int) -> None:
        session = ha.partner_session("DE")
        i = 0
        while not stop.is_set():
            i += 1
            url = f"{base}/Patient" if i % 2 else f"{base}/Patient/fr-{fr_id}/$summary"
            try:
                resp = session.get(url, params=TRAITS if i % 2 else None, timeout=30,
                                   headers={"X-Request-ID": f"load-{n}-{i}-{uuid.uuid4().hex[:8]}"})
            except requests.RequestException as exc:
                with lock:
                    unanswered[type(exc).__name__] += 1
                continue
            request_id = resp.headers.get("X-Request-ID", "")
            clean = resp.status_code == 200 or (
                resp.status_code in (502, 503, 504)
                and resp.headers.get("Content-Type", "").startswith("application/fhir+json")
                and resp.json().get("resourceType") == "OperationOutcome")
            with lock:
                answered.append((request_id, resp.status_code))
                if not clean:
                    unclean.append(f"{resp.status_code} {resp.text[:200]}")

    threads = [threading.Thread(target=load, args=(n,), daemon=True) for n in range(6)]
    try:
        for t in threads:
            t.start()
        time.sleep(4.0)
        before_kill = len(answered)
        kill_replica(topo, "FR", 1)
        time.sleep(5.0)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert not any(t.is_alive() for t in threads)

    statuses = Counter(status for _, status in answered)
    assert before_kill >= 10 and statuses[200] >= 30, (before_kill, statuses, unanswered)
    assert len(answered) > before_kill + 10, "the surviving replica kept answering"
    assert not unanswered, unanswered  # country B itself was never down: every request got an answer
    assert not unclean, unclean[:5]  # each one a success or a clean OperationOutcome (502/503/504)

    # `ncpeh audit verify` on country A's shared database: one intact chain written by both replicas
    cfg = topo.configs["FR"]
    verified = subprocess.run([sys.executable, "-m", "gateway.cli", "audit", "verify", "-c", str(cfg.source)],
                              env=topo.process_env(cfg), capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert verified.returncode == 0, verified.stderr
    assert "audit chain intact" in verified.stdout

    de_store, fr_store = ha.store("DE"), ha.store("FR")
    try:
        de_ids = Counter(e.request_id for e in de_store.audit.entries() if e.event in (events.IDENTIFY, events.SUMMARY))
        fr_records = [e for e in fr_store.audit.entries() if e.event in (events.IDENTIFY, events.SUMMARY)]
    finally:
        de_store.close()
        fr_store.close()
    # B recorded every answer it gave exactly once
    missing_b = [rid for rid, _ in answered if de_ids[rid] != 1]
    assert not missing_b, (len(missing_b), missing_b[:5])
    # A recorded every exchange B answered with success; an exchange at most twice (B retries a failed
    # connection once, with the same request id and the clinician session's HCP assertion)
    fr_ids = Counter(e.request_id for e in fr_records)
    missing_a = [rid for rid, status in answered if status == 200 and fr_ids[rid] < 1]
    assert not missing_a, (len(missing_a), missing_a[:5])
    assert all(e.detail.get("hcp_assertion_jti") for e in fr_records), "every record at A names its HCP assertion"
    assert all(count <= 2 for count in fr_ids.values()), [k for k, c in fr_ids.items() if c > 2][:5]
    assert set(fr_ids) <= {rid for rid, _ in answered}  # nothing recorded at A that B never asked

    # The killed replica comes back on its own ports. The clinician session's HCP assertion serves both
    # replicas; a TRC assertion (single-use) that one replica accepted is refused by the other and by itself.
    replica_1 = topo.restart_replica("FR", 1)
    replica_2 = topo.replica_sets["FR"][1]
    peer = ha.peer_session("DE")
    signer = ha.signer("DE")
    token = signer.hcp(CLINICIAN, "TREATMENT", ha.ncp("FR"))
    found = peer.get(f"https://127.0.0.1:{replica_1.ports[1]}/fhir/Patient", params=PEER_TRAITS, timeout=10,
                     headers={"Authorization": f"Bearer {token}"})
    assert found.status_code == 200, found.text
    patient_id = found.json()["entry"][0]["resource"]["id"]
    trc = signer.trc(CLINICIAN, "TREATMENT", patient_id, ha.ncp("FR"))

    def summary(port: int) -> requests.Response:
        return peer.get(f"https://127.0.0.1:{port}/fhir/Patient/{patient_id}/$summary", timeout=10,
                        headers={"Authorization": f"Bearer {token}", "X-TRC-Assertion": trc})

    assert summary(replica_2.ports[1]).status_code == 200
    assert_refused(summary(replica_1.ports[1]), 401, "ASSERTION_REPLAYED")
    assert_refused(summary(replica_2.ports[1]), 401, "ASSERTION_REPLAYED")


def test_replicas_need_postgresql_and_say_so(tmp_path):
    with pytest.raises(TopologyError, match="--replicas above 1 needs --database postgresql"):
        Topology(["FR", "DE"], tmp_path, {"FR": (1, 2), "DE": (3, 4)}, replicas=2)
    with pytest.raises(TopologyError, match="--database must be one of sqlite, postgresql"):
        Topology(["FR"], tmp_path, {"FR": (1, 2)}, database="mysql")
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "demo", "--home", str(tmp_path), "--replicas", "2"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode != 0
    assert done.stderr.strip() == "ncpeh: error: --replicas above 1 needs --database postgresql (replicas share one database)"
