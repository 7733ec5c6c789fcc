"""The Server-Timing header: where a cross-border request's time goes, on both sides (gateway.timing).

The header is off by default (it would show partner software the internal stage timings of both
countries): these tests, like the benchmark, turn it on with NCPEH_SERVER_TIMING=1.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from gateway import storage, timing
from gateway.services.population import store_documents
from tests.conftest import Running, load_fixture, make_topology, started

INS = "284057505612387"
TRAITS = {"country": "FR", "identifier": f"urn:oid:1.2.250.1.213.1.4.8|{INS}", "family": "Dupont",
          "given": "Marie", "birthdate": "1984-05-12", "gender": "female"}


@pytest.fixture(scope="module")
def timed_countries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """FR and DE with NCPEH_SERVER_TIMING=1, the fixture patient stored in FR."""
    topo = make_topology(tmp_path_factory.mktemp("server-timing"), ["FR", "DE"])
    topo.env = {**topo.env, "NCPEH_SERVER_TIMING": "1"}
    topo.prepare(patients=0)
    store = storage.open_store(topo.configs["FR"].database_path)
    store_documents(store, topo.configs["FR"], [load_fixture("ips-fr-dupont.json")])
    store.close()
    with started(topo) as running:
        yield running


def test_summary_answer_times_each_stage_of_both_countries(timed_countries):
    countries = timed_countries
    session = countries.partner_session("DE")
    base = countries.public("DE") + "/fhir"
    found = session.get(f"{base}/Patient", params=TRAITS, timeout=10)
    patient_id = found.json()["entry"][0]["resource"]["id"]
    resp = session.get(f"{base}/Patient/{patient_id}/$summary", timeout=10)
    assert resp.status_code == 200, resp.text
    stages = timing.parse(resp.headers["Server-Timing"])
    for name in ("rate-limit", "auth", "clinician", "sign", "peer", "translate", "audit", "app",
                 "peer-verify", "peer-replay", "peer-store", "peer-audit", "peer-app"):
        assert stages.get(name, 0) > 0, (name, stages)
    assert stages["app"] >= stages["peer"] >= stages["peer-app"] >= stages["peer-verify"] >= stages["peer-replay"]
    assert stages["app"] >= stages["auth"] + stages["clinician"] + stages["audit"]
    assert INS not in resp.headers["Server-Timing"] and patient_id not in resp.headers["Server-Timing"]


def test_stages_outside_a_request_are_ignored():
    with timing.stage("nothing"):
        time.sleep(0.001)
    timing.add("nothing", 1.0)
    timing.add_remote("peer", "verify;dur=1.0")

    @timing.timed("nothing")
    def work() -> int:
        return 42

    assert work() == 42
    assert timing.parse("a;dur=1.5, b, c;desc=x;dur=2, a;dur=0.5") == {"a": 2.0, "c": 2.0}


def test_each_answer_carries_its_own_requests_figures():
    from flask import Flask

    app = Flask(__name__)
    timing.init_app(app)

    @app.get("/work")
    def work():  # noqa: ANN202
        timing.add("step", 0.002)
        timing.add("step", 0.001)
        timing.add_remote("peer", "verify;dur=0.25")
        return "done"

    @app.get("/fail")
    def fail():  # noqa: ANN202
        timing.add("step", 0.5)
        raise RuntimeError("boom")

    client = app.test_client()
    for _ in range(2):  # the same thread: nothing carried over from the previous request
        stages = timing.parse(client.get("/work").headers["Server-Timing"])
        assert stages["step"] == 3.0 and stages["peer-verify"] == 0.25 and stages["app"] > 0
    assert client.get("/fail").status_code == 500
    assert timing.parse(client.get("/work").headers["Server-Timing"])["step"] == 3.0
