"""PostgreSQL unreachable at start (one line naming the server, non-zero exit) or lost while serving (503
OperationOutcome, /_status degraded, portal page, nothing half-written), and service back without a restart."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from gateway.server.demo import Topology
from gateway.server.postgres import free_port
from tests.conftest import Running, free_ports
from tests.multinode.test_replicas import ROOT, _require_binaries


@pytest.fixture()
def fr_on_postgresql() -> Iterator[Running]:
    _require_binaries()
    home = Path(tempfile.mkdtemp(prefix="ncpeh-dbloss-"))
    public, ncp = free_ports(2)
    topo = Topology(["FR"], home, {"FR": (public, ncp)}, env={"NCPEH_THREADS": "4"}, database="postgresql")
    try:
        topo.prepare(patients=3)
        topo.start(timeout=90)
        yield Running(topo)
    finally:
        topo.stop()
        shutil.rmtree(home, ignore_errors=True)


def test_unreachable_at_start_is_one_line_naming_the_server(fr_on_postgresql):
    topo = fr_on_postgresql.topo
    cfg = topo.configs["FR"]
    env = {**topo.process_env(cfg), "NCPEH_DATABASE_URL": f"postgresql://ncpeh:secret-pw@127.0.0.1:{free_port()}/x",
           "NCPEH_PUBLIC_PORT": str(free_port()), "NCPEH_NCP_PORT": str(free_port())}
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "serve", "-c", str(cfg.source), "--listener", "public"],
                          env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ncpeh: error: PostgreSQL at 127.0.0.1:"), done.stderr
    assert "secret-pw" not in done.stderr


def test_lost_while_serving_503_then_back_without_restart(fr_on_postgresql):
    running = fr_on_postgresql
    topo = running.topo
    base = running.public("FR")
    session = requests.Session()
    session.trust_env = False
    session.verify = running.ca("FR")
    assert session.get(f"{base}/_status", timeout=10).json()["checks"]["database"]["status"] == "ok"
    partner = running.partner_session("FR", clinician=None)
    assert partner.get(f"{base}/fhir/CodeSystem/$lookup", timeout=10, params={
        "system": "http://snomed.info/sct", "code": "38341003"}).status_code in (200, 404)
    store = running.store("FR")
    count_before = store.audit.count()
    store.close()
    form = session.get(f"{base}/signin", timeout=10, headers={"Accept": "text/html"})
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)

    assert topo.cluster is not None
    topo.cluster.stop("immediate")
    try:
        status = session.get(f"{base}/_status", timeout=20)
        assert status.status_code == 503 and status.json()["checks"]["database"]["status"] == "error"
        token = session.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"}, timeout=20,
                             auth=(running.partner_credentials("FR")["client_id"], "whatever"))
        assert token.status_code == 503, token.text
        outcome = token.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["details"]["coding"][0]["code"] in ("DATABASE_UNAVAILABLE", "AUDIT_UNAVAILABLE")
        page = session.post(f"{base}/signin", timeout=20, headers={"Accept": "text/html", "Referer": f"{base}/signin"},
                            data={"csrf_token": csrf, "username": "physician", "password": "not-checked"})
        assert page.status_code == 503 and "text/html" in page.headers["Content-Type"], (page.status_code, page.text[:300])
        assert "Traceback" not in page.text
    finally:
        topo.cluster.start()
    deadline = time.monotonic() + 30
    while session.get(f"{base}/_status", timeout=10).status_code != 200:  # the same processes, no restart
        assert time.monotonic() < deadline, "service did not resume"
        time.sleep(0.5)
    creds = running.partner_credentials("FR")
    token = session.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"}, timeout=20,
                         auth=(creds["client_id"], creds["client_secret"]))
    assert token.status_code == 200, token.text
    store = running.store("FR")
    try:
        result = subprocess.run([sys.executable, "-m", "gateway.cli", "audit", "verify", "-c",
                                 str(topo.configs["FR"].source)], env=topo.process_env(topo.configs["FR"]),
                                capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert result.returncode == 0, result.stderr
        assert store.audit.count() > count_before  # the records written since the server came back
    finally:
        store.close()
