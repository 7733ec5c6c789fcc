"""A broken foreign NCPeH never blocks requests for other countries.

Germany (B) asks France, which hangs (a real HTTPS server on FR's NCPeH port, holding FR's real
certificate, that never answers in time), and Italy, which is healthy. More French requests than
Germany's public listener has threads arrive at once; an Italian summary asked meanwhile must come
back at its normal speed, and every French request must end with a clear error within the time-out.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from gateway import storage
from gateway.records.synthetic import generate_patient
from gateway.services.population import store_documents
from tests.conftest import Running, make_topology
from tests.resilience.test_peer_failures import TRAITS, code_of, misbehaving
from tests.standin import standing_in

CONNECT_TIMEOUT, READ_TIMEOUT = 1.0, 2.0
BUDGET = CONNECT_TIMEOUT + READ_TIMEOUT
THREADS = 4  # threads of each listener: the French flood is three times that


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    home = tmp_path_factory.mktemp("isolation")
    topo = make_topology(home, ["FR", "DE", "IT"])
    topo.env = {**topo.env, "NCPEH_PEER_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
                "NCPEH_PEER_READ_TIMEOUT": str(READ_TIMEOUT), "NCPEH_THREADS": str(THREADS)}
    topo.prepare()
    it = topo.configs["IT"]
    traits, document = generate_patient("IT", 0, 7, size="small")
    store = storage.open_store(it.database_path)
    try:
        store_documents(store, it, [document])
        italian = store.records.find_by_identifier(traits.identifier_system, traits.identifier_value)
    finally:
        store.close()
    with standing_in(topo, misbehaving, "ok") as (running, peer):
        yield running, peer, f"it-{italian.id}"


def french_query(running: Running) -> tuple[requests.Response, float]:
    session = running.partner_session("DE")
    started = time.monotonic()
    resp = session.get(running.public("DE") + "/fhir/Patient", params=TRAITS, timeout=60)
    return resp, time.monotonic() - started


def italian_summary(running: Running, session: requests.Session, patient: str) -> tuple[requests.Response, float]:
    started = time.monotonic()
    resp = session.get(f"{running.public('DE')}/fhir/Patient/{patient}/$summary", timeout=60)
    return resp, time.monotonic() - started


def test_hanging_country_does_not_block_another_country(world):
    running, peer, italian = world
    it_session = running.partner_session("DE")
    resp, normal = italian_summary(running, it_session, italian)
    assert resp.status_code == 200, resp.text
    sessions = [running.partner_session("DE") for _ in range(3 * THREADS)]  # tokens first: not part of the flood
    peer.mode = "slow"
    try:
        with ThreadPoolExecutor(len(sessions)) as pool:
            started = time.monotonic()

            def flood(session: requests.Session) -> tuple[requests.Response, float]:
                resp = session.get(running.public("DE") + "/fhir/Patient", params=TRAITS, timeout=60)
                return resp, time.monotonic() - started

            french = [pool.submit(flood, s) for s in sessions]
            time.sleep(0.5)  # every thread of DE's public listener is now waiting for France, or would be
            resp, elapsed = italian_summary(running, it_session, italian)
            assert resp.status_code == 200, resp.text
            assert b'"document"' in resp.content
            assert elapsed < max(1.0, 5 * normal), f"the Italian summary took {elapsed:.2f}s while France hangs"
            answers = [f.result() for f in french]
    finally:
        peer.mode = "ok"
    # every French request ended with a clear error, none later than the time budget (plus queueing slack)
    assert {r.status_code for r, _ in answers} <= {502, 504}, [(r.status_code, r.text[:200]) for r, _ in answers]
    assert {code_of(r) for r, _ in answers} <= {"PEER_TIMEOUT", "PEER_BUSY", "PEER_CIRCUIT_OPEN"}
    assert max(t for _, t in answers) < BUDGET + 2.0, sorted(round(t, 2) for _, t in answers)
    # France answers again: the next request goes through once the breaker lets a trial call pass
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        resp, _ = french_query(running)
        if resp.status_code == 200:
            break
        time.sleep(1)
    assert resp.status_code == 200, resp.text
