"""What the partner API answers when the patient's country answers something unusual: several matches
(409 for $summary), a failure (502), no answer in time (504). Each answer fits /openapi.json and leaves
nothing stored behind.

France's NCPeH listener is a real HTTPS server on 127.0.0.1 holding France's real server certificate (so
that Germany's channel, pinned to the trust list, accepts it) whose answers the test chooses.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from openapi_core import OpenAPI

from tests.conftest import Running, make_topology
from tests.partner_api.conftest import DUPONT, FR_INS_SYSTEM, INS, Partner, add_partner, code_of, conforms, served_openapi
from tests.partner_api.conftest import stored_state as stored_state_of
from tests.standin import StandIn, reply, standing_in

READ_TIMEOUT = 1.0


def patient(pid: str, given: str) -> dict:
    return {"resourceType": "Patient", "id": pid, "identifier": [{"system": FR_INS_SYSTEM, "value": INS}],
            "name": [{"family": "DUPONT", "given": [given]}], "gender": "female", "birthDate": "1984-05-12"}


def answer(request, mode: str) -> None:
    """France's NCPeH endpoint, answering as ``mode`` says: 'two matches', '5xx', 'slow', 'hostile id'."""
    if mode == "slow":
        time.sleep(READ_TIMEOUT * 3)
    status, body = 200, {"resourceType": "Bundle", "type": "searchset", "total": 2, "entry": [
        {"resource": patient("a1", "Marie")}, {"resource": patient("a2", "Marie Louise")}]}
    if mode == "5xx":
        status, body = 500, {"oops": True}
    if mode == "hostile id":
        body["entry"] = [{"resource": patient("../../oauth/token?x=", "Marie")}]
    reply(request, status, body)  # 'slow': the caller may have given up waiting


@dataclass
class World:
    running: Running
    france: StandIn
    partner: Partner
    api: OpenAPI


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    topo = make_topology(tmp_path_factory.mktemp("foreign-answers"), ["FR", "DE"])
    topo.env = {**topo.env, "NCPEH_PEER_CONNECT_TIMEOUT": "1", "NCPEH_PEER_READ_TIMEOUT": str(READ_TIMEOUT)}
    topo.prepare(patients=0)
    with standing_in(topo, answer, "two matches") as (running, france):
        yield World(running, france, add_partner(running, rate=100_000), served_openapi(running)[1])


@pytest.fixture
def stored_state(world: World) -> Iterator[None]:
    """Nothing the partner API stores changes (France is not a real instance here: Germany only)."""
    de_only = Running(world.running.topo)
    de_only.configs = {"DE": world.running.configs["DE"]}
    before = stored_state_of(de_only, required=("DE.clients",))
    yield
    assert stored_state_of(de_only, required=("DE.clients",)) == before


SUMMARY_BODY = {"resourceType": "Parameters", "parameter": [
    {"name": "identifier", "valueIdentifier": {"system": FR_INS_SYSTEM, "value": INS}},
    {"name": "family", "valueString": "Dupont"}, {"name": "given", "valueString": "Marie"},
    {"name": "birthdate", "valueDate": "1984-05-12"}, {"name": "gender", "valueCode": "female"}]}


def calls(world: World) -> dict:
    session = world.partner.session()
    fhir = world.partner.fhir
    return {
        "search": lambda: session.get(fhir + "/Patient", params={"country": "FR", **DUPONT}, timeout=15),
        "GET $summary by id": lambda: session.get(fhir + "/Patient/fr-a1/$summary", timeout=15),
        "GET $summary": lambda: session.get(fhir + "/Patient/$summary", params=DUPONT, timeout=15),
        "POST $summary": lambda: session.post(fhir + "/Patient/$summary", data=json.dumps(SUMMARY_BODY),
                                              headers={"Content-Type": "application/fhir+json"}, timeout=15),
    }


def test_several_matches_are_listed_by_the_search(world, stored_state):
    world.france.mode = "two matches"
    resp = conforms(world.api, calls(world)["search"]())
    assert resp.status_code == 200
    assert [e["resource"]["id"] for e in resp.json()["entry"]] == ["fr-a1", "fr-a2"]


@pytest.mark.parametrize("call", ["GET $summary", "POST $summary"])
def test_several_matches_for_summary_by_identifier_is_409(world, stored_state, call):
    world.france.mode = "two matches"
    resp = conforms(world.api, calls(world)[call]())
    assert resp.status_code == 409, resp.text
    assert code_of(resp) == "AMBIGUOUS_PATIENT"
    assert resp.json()["issue"][0]["code"] == "conflict"
    assert "Marie" not in resp.text and INS not in resp.text  # who matched is not told


@pytest.mark.parametrize("mode, status, code", [("5xx", 502, "PEER_UNAVAILABLE"), ("slow", 504, "PEER_TIMEOUT")])
@pytest.mark.parametrize("call", ["search", "GET $summary by id", "POST $summary"])
def test_failing_or_silent_foreign_country_is_502_or_504(world, stored_state, mode, status, code, call):
    world.france.mode = mode
    started = time.monotonic()
    try:
        resp = conforms(world.api, calls(world)[call]())
    finally:
        world.france.mode = "two matches"
    assert resp.status_code == status, resp.text
    assert code_of(resp) in (code, "PEER_CIRCUIT_OPEN")
    assert resp.headers["X-Request-ID"] and "Traceback" not in resp.text
    assert time.monotonic() - started < 1 + READ_TIMEOUT + 3
    calls(world)["search"]()  # a healthy answer closes the circuit breaker again for the next case


def test_a_foreign_patient_id_that_is_not_a_fhir_id_is_refused(world, stored_state):
    world.france.mode = "hostile id"
    try:
        resp = conforms(world.api, calls(world)["search"]())
    finally:
        world.france.mode = "two matches"
    assert resp.status_code == 502, resp.text
    assert code_of(resp) == "PEER_BAD_ANSWER"
    assert "oauth" not in resp.text
    calls(world)["search"]()  # close the circuit breaker again, if this opened it
