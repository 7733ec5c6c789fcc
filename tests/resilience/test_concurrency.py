"""Many simultaneous cross-border requests through the real chain (partner API -> B -> mutual TLS -> A):
every one answered without error, and every one recorded exactly once on each side, in intact chains."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import requests

from gateway import storage
from gateway.audit import events
from gateway.audit.verify import verify
from gateway.services.population import store_documents
from tests.conftest import Running, load_fixture, make_topology

TRAITS = {"country": "FR", "identifier": "urn:oid:1.2.250.1.213.1.4.8|284057505612387", "family": "Dupont",
          "given": "Marie", "birthdate": "1984-05-12", "gender": "female"}
CLIENTS, ROUNDS = 32, 3


def test_simultaneous_requests_all_answered_and_audited_once_on_both_sides(tmp_path):
    topo = make_topology(tmp_path, ["FR", "DE"])
    topo.env = {**topo.env, "NCPEH_WORKERS": "2", "NCPEH_THREADS": "4"}  # two processes share each chain
    topo.prepare(patients=0)
    store = storage.open_store(topo.configs["FR"].database_path)
    store_documents(store, topo.configs["FR"], [load_fixture("ips-fr-dupont.json")])
    fr_id = store.records.find_by_identifier("urn:oid:1.2.250.1.213.1.4.8", "284057505612387").id
    store.close()
    topo.start()
    running = Running(topo)
    results: list[tuple[str, str, int, str | None, bytes]] = []
    failures: Counter = Counter()
    lock = threading.Lock()
    try:
        template = running.partner_session("DE")  # one token and clinician assertion, one connection per client
        base = running.public("DE") + "/fhir"
        barrier = threading.Barrier(CLIENTS)

        def client(n: int) -> None:
            session = requests.Session()
            session.trust_env = False
            session.verify = template.verify
            session.headers.update(template.headers)
            barrier.wait(30)  # every client fires at the same moment
            for i in range(ROUNDS):
                kind = "summary" if (n + i) % 2 else "identify"
                request_id = f"conc-{n}-{i}-{uuid.uuid4().hex[:8]}"
                url = f"{base}/Patient/fr-{fr_id}/$summary" if kind == "summary" else f"{base}/Patient"
                try:
                    resp = session.get(url, params=None if kind == "summary" else TRAITS, timeout=60,
                                       headers={"X-Request-ID": request_id})
                except requests.RequestException as exc:
                    with lock:
                        failures[type(exc).__name__] += 1
                    continue
                with lock:
                    # Germany's id of the exchange (the partner's value is recorded beside it)
                    results.append((resp.headers.get("X-Request-ID"), kind, resp.status_code, request_id,
                                    resp.content))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not any(thread.is_alive() for thread in threads)
    finally:
        topo.stop()

    assert not failures, failures
    assert len(results) == CLIENTS * ROUNDS
    bad = [(rid, status, body[:200]) for rid, _, status, _, body in results if status != 200]
    assert not bad, bad[:3]
    assert all(rid and rid != sent for rid, _, _, sent, _ in results)
    assert len({rid for rid, *_ in results}) == len(results)
    ids = {rid for rid, *_ in results}
    assert all(b'"document"' in body for _, kind, _, _, body in results if kind == "summary")
    assert all(b'"searchset"' in body for _, kind, _, _, body in results if kind == "identify")

    de_store, fr_store = running.store("DE"), running.store("FR")
    try:
        for store in (de_store, fr_store):
            outcome = verify(store.audit)
            assert outcome.ok, str(outcome.broken)
        expected = {events.IDENTIFY: "identify", events.SUMMARY: "summary"}
        for side, store in (("B", de_store), ("A", fr_store)):
            recorded = Counter()
            kinds = {}
            for entry in store.audit.entries():
                if entry.request_id in ids and entry.event in expected:
                    recorded[entry.request_id] += 1
                    kinds[entry.request_id] = (expected[entry.event], entry.outcome)
            missing = [rid for rid, *_ in results if recorded[rid] != 1]
            assert not missing, (side, len(missing), missing[:5])
            assert all(kinds[rid] == (kind, "0") for rid, kind, *_ in results), side
    finally:
        de_store.close()
        fr_store.close()
