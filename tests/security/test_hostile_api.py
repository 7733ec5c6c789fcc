"""Hostile cases of the black-box test of issue #24 (findings 5, 6, 7, 9-13), through the real servers.

Each test names its finding. The trust-list rollback after a restart (finding 9) needs its own stopped
and restarted countries: ``test_19c_an_older_trust_list_put_back_is_refused_after_a_restart`` in
``tests/security/test_hostile_topologies.py``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from xml.etree import ElementTree

import pytest
import requests

from gateway import storage
from gateway.config import country_file, load_config
from gateway.security import pki
from tests.conftest import CLINICIAN, Running, load_fixture, make_topology
from tests.partner_api.conftest import conforms, served_openapi
from tests.security.helpers import INS, TRAITS, assert_refused
from tests.standin import StandIn, reply, standing_in

XHTML = "http://www.w3.org/1999/xhtml"
ACTIVE = ('<p>Synthèse</p><script>alert(1)</script><img src="x" onerror="alert(2)"/>'
          '<iframe src="https://evil.example/"></iframe><a href="javascript:alert(3)">lien</a>'
          '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(4)"/><form action="https://evil.example/"/>')
#: What must never reach partner software (lower case).
ACTIVE_MARKERS = ("<script", "onerror", "<iframe", "javascript:", "onload", "<svg", "<form", "<img", "alert(")


def _div(inner: str) -> str:
    return f'<div xmlns="{XHTML}">{inner}</div>'


def hostile_document() -> dict:
    """The fixture summary with active content in every kind of narrative."""
    doc = load_fixture("ips-fr-dupont.json")
    composition = doc["entry"][0]["resource"]
    composition["text"]["div"] = _div(ACTIVE)
    composition["section"][0]["text"]["div"] = _div("Allergie " + ACTIVE)
    patient = doc["entry"][1]["resource"]
    patient["text"] = {"status": "generated", "div": _div(ACTIVE)}
    patient["contained"] = [{"resourceType": "Organization", "id": "o1",
                             "text": {"status": "generated", "div": _div(ACTIVE)}}]
    return doc


# --- finding 5, country A: refused at import --------------------------------------------------------


def test_a_narrative_with_active_content_is_refused_at_import(tmp_path):
    doc = load_fixture("ips-fr-dupont.json")
    doc["entry"][0]["resource"]["section"][0]["text"]["div"] = _div("Allergie " + ACTIVE)
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    env = {**os.environ, "NCPEH_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "gateway.cli", "import", "-c", "FR", str(path)],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1 and "rejected 1" in result.stdout and "Traceback" not in result.stderr
    assert "$.entry[0].resource.section[0].text.div: element <script> is not allowed" in result.stderr
    assert "attribute 'onerror' of <img>" in result.stderr and "element <iframe>" in result.stderr
    cfg = load_config(country_file("FR"), env={"NCPEH_HOME": str(tmp_path)})
    store = storage.open_store(cfg.database_path)
    try:
        assert store.records.count_patients() == 0
    finally:
        store.close()


# --- a foreign country (France stands in) sending active content; Germany is real ----------------------


def _foreign_answer(request, mode: str) -> None:  # noqa: ANN001
    """France's NCPeH: the patient 'a1' (with a hostile narrative), and the hostile summary."""
    if "/$summary" in request.path:
        reply(request, 200, FOREIGN_BODY)
        return
    patient = copy.deepcopy(hostile_document()["entry"][1]["resource"])
    patient["id"] = "a1"
    reply(request, 200, {"resourceType": "Bundle", "type": "searchset", "total": 1, "entry": [{"resource": patient}]})


FOREIGN_BODY = json.dumps(hostile_document()).encode()


@dataclass
class World:
    running: Running
    france: StandIn


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    topo = make_topology(tmp_path_factory.mktemp("hostile-api"), ["FR", "DE"])
    topo.prepare(patients=0)
    with standing_in(topo, _foreign_answer, "active") as (running, france):
        yield World(running, france)


def _narratives(node, found: list[str]) -> list[str]:  # noqa: ANN001
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, dict) and "div" in value:
                found.append(value["div"])
            else:
                _narratives(value, found)
    elif isinstance(node, list):
        for item in node:
            _narratives(item, found)
    return found


def test_active_content_from_a_foreign_country_never_reaches_partner_software(world):
    """Finding 5, country B: every narrative is sanitised before the partner API returns it (search and
    summary); the digest B records is still that of the bytes France sent."""
    session = world.running.partner_session("DE")
    fhir = world.running.public("DE") + "/fhir"
    found = session.get(f"{fhir}/Patient", params={"country": "FR", **TRAITS}, timeout=15)
    assert found.status_code == 200, found.text
    resp = session.get(f"{fhir}/Patient/fr-a1/$summary", timeout=15)
    assert resp.status_code == 200, resp.text
    for answer in (found, resp):
        assert not [m for m in ACTIVE_MARKERS if m in answer.text.lower()], answer.text[:2000]
    divs = _narratives(resp.json(), [])
    assert len(divs) >= 5 and any("Synthèse" in div for div in divs)
    for div in divs + _narratives(found.json(), []):
        root = ElementTree.fromstring(div)  # still a FHIR narrative: one XHTML div, well-formed
        assert root.tag == f"{{{XHTML}}}div" and "".join(root.itertext()).strip()
    assert re.match(r"codings=\d+; mapped=\d+; untranslated=\d+", resp.headers["X-Terminology-Coverage"])
    store = world.running.store("DE")
    try:
        (record,) = store.audit.by_request_id(resp.headers["X-Request-ID"])
    finally:
        store.close()
    assert record.detail["document_sha256"] == hashlib.sha256(FOREIGN_BODY).hexdigest()


def test_status_names_no_file_when_the_trust_list_is_invalid(world):
    """Finding 11: the unauthenticated /_status gives a code, not the paths of the trust list and CA."""
    cfg = world.running.configs["DE"]
    good = cfg.trust_list.read_bytes()
    pki.atomic_write(cfg.trust_list, good[:-8] + b"AAAAAAAA")  # the signature no longer verifies
    try:
        resp = requests.get(world.running.public("DE") + "/_status", verify=world.running.ca("DE"), timeout=5)
        assert resp.status_code == 503
        assert resp.json()["checks"]["trust_list"] == {"status": "error", "loaded": False, "code": "TRUST_LIST_INVALID"}
        for secret_place in (str(cfg.home), str(cfg.trust_list), str(cfg.certs.ca_cert), "/tmp", ".jws", ".crt"):
            assert secret_place not in resp.text
    finally:
        pki.atomic_write(cfg.trust_list, good)
    deadline = time.monotonic() + 5
    while requests.get(world.running.public("DE") + "/_status", verify=world.running.ca("DE"), timeout=5).status_code \
            != 200:
        assert time.monotonic() < deadline, "the restored list was not taken again"
        time.sleep(0.1)


def test_concurrent_wrong_secrets_check_no_more_than_the_client_limit(world):  # before the flood: the address
    """Each authentication attempt spends its failure before the secret is checked (second review of #24,
    finding 1): 40 simultaneous wrong secrets for one new client id get at most its limit of checks (401),
    every other one is throttled (429) without its secret being looked at."""
    limit = world.running.configs["DE"].token_failures_per_client
    client_id = f"racer-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda i: _token(world, client_id, f"w{i}"), range(40)))
    statuses = Counter(resp.status_code for resp in answers)
    assert set(statuses) <= {401, 429} and 1 <= statuses[401] <= limit, statuses


# --- finding 6: the token endpoint under a flood (last in the module: the address stays throttled) ----------


def _token(world: World, client_id: str, secret: str) -> requests.Response:
    return requests.post(world.running.public("DE") + "/oauth/token", data={"grant_type": "client_credentials"},
                         auth=(client_id, secret), verify=world.running.ca("DE"), timeout=10)


def _throttled(resp: requests.Response) -> bool:
    if resp.status_code != 429:
        return False
    assert int(resp.headers["Retry-After"]) >= 1 and resp.json()["error"] == "temporarily_unavailable"
    return True


def test_wrong_secrets_for_one_client_are_throttled_and_the_right_one_waits_too(world):
    creds = world.running.partner_credentials("DE")
    answers = [_token(world, creds["client_id"], f"wrong-{i}") for i in range(25)]
    statuses = [resp.status_code for resp in answers]
    assert statuses[0] == 401 and 429 in statuses, statuses
    assert all(_throttled(resp) for resp in answers[statuses.index(429):])
    right = _token(world, creds["client_id"], creds["client_secret"])
    assert _throttled(right)  # the right secret too, during the window
    conforms(served_openapi(world.running)[1], right)  # a 429 the description announces
    store = world.running.store("DE")
    try:
        (record,) = store.audit.by_request_id(right.headers["X-Request-ID"])
    finally:
        store.close()
    assert (record.outcome_code, record.actor_id) == ("RATE_LIMITED", creds["client_id"])  # never lost, no secret
    assert creds["client_secret"] not in repr(record)


def test_wrong_secrets_from_one_address_are_throttled_whatever_the_client_id(world):
    """Unknown client ids, a new one each time: the same answers as for a known one, then 429."""
    statuses = []
    for _ in range(40):
        resp = _token(world, f"nobody-{uuid.uuid4().hex[:8]}", "wrong")
        statuses.append(resp.status_code)
        if _throttled(resp):
            break
    assert statuses[-1] == 429 and set(statuses[:-1]) <= {401}, statuses


# --- the shared two countries -------------------------------------------------------------------------


def test_two_client_authentication_methods_in_one_request_are_refused(countries):
    """Finding 10 (RFC 6749 §2.3): Basic auth of one client plus the form secret or an assertion of another."""
    creds = countries.partner_credentials("DE")
    session = requests.Session()
    session.trust_env, session.verify = False, countries.ca("DE")
    for extra in ({"client_id": "other-client", "client_secret": "whatever"},
                  {"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                   "client_assertion": "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJvdGhlciJ9.c2ln"}):
        resp = session.post(creds["token_url"], data={"grant_type": "client_credentials", **extra},
                            auth=(creds["client_id"], creds["client_secret"]), timeout=10)
        assert resp.status_code == 400 and resp.json()["error"] == "invalid_request", resp.text
        assert "one client authentication method" in resp.json()["error_description"]
        conforms(served_openapi(countries)[1], resp)


def test_control_characters_in_the_path_are_escaped_in_the_access_log(countries):
    """Finding 7: CR, LF and ESC of the request path cannot forge a line of the access log, and a bidirectional
    override cannot make it read differently (the audit records' rule, gateway.printable)."""
    marker = uuid.uuid4().hex[:12]
    url = countries.public("DE") + f"/fhir/x-{marker}%0D%0A127.0.0.1%20%22GET%20/forged-{marker}%22%20200%1B[31m%E2%80%AEx"
    requests.get(url, verify=countries.ca("DE"), timeout=10)
    log = countries.topo.log_dir / "de-public.log"
    deadline = time.monotonic() + 5
    while marker not in log.read_text(errors="replace") and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = [line for line in log.read_text(errors="replace").splitlines() if marker in line]
    assert len(lines) == 1, lines
    assert f"/fhir/x-{marker}\\x0d\\x0a127.0.0.1 \\x22GET /forged-{marker}\\x22 200\\x1b[31m" in lines[0]
    assert "\x1b" not in log.read_text(errors="replace")
    # WSGI hands the path over as Latin-1 (PEP 3333): U+202E's UTF-8 bytes arrive as three characters, the C1
    # control among them escaped; the override itself never reaches the file
    assert "\\x80" in lines[0] and "\u202e" not in log.read_text(errors="replace")


def test_a_reused_partner_request_id_gives_distinct_exchange_ids(countries):
    """Finding 12: Germany makes its own id for every exchange; the partner's value is recorded beside it."""
    session = countries.partner_session("DE")
    fhir = countries.public("DE") + "/fhir"
    reused = f"partner-reused-{uuid.uuid4().hex[:8]}"
    found = session.get(f"{fhir}/Patient", params={"country": "FR", **TRAITS}, timeout=10)
    local_id = found.json()["entry"][0]["resource"]["id"]
    answers = [session.get(f"{fhir}/Patient/{local_id}/$summary", headers={"X-Request-ID": reused}, timeout=10)
               for _ in range(2)]
    ids = [resp.headers["X-Request-ID"] for resp in answers]
    assert all(resp.status_code == 200 for resp in answers) and len(set(ids)) == 2 and reused not in ids
    fr, de = countries.store("FR"), countries.store("DE")
    try:
        assert fr.audit.by_request_id(reused) == [] and de.audit.by_request_id(reused) == []
        for request_id in ids:
            (at_fr,) = fr.audit.by_request_id(request_id)
            (at_de,) = de.audit.by_request_id(request_id)
            assert at_de.detail["partner_request_id"] == reused and "partner_request_id" not in at_fr.detail
    finally:
        fr.close()
        de.close()


def test_no_server_timing_header_by_default(countries):
    """Finding 13: partner software does not see the stage timings of either country."""
    session = countries.partner_session("DE")
    fhir = countries.public("DE") + "/fhir"
    found = session.get(f"{fhir}/Patient", params={"country": "FR", **TRAITS}, timeout=10)
    summary = session.get(f"{fhir}/Patient/{found.json()['entry'][0]['resource']['id']}/$summary", timeout=10)
    assert summary.status_code == 200
    for resp in (found, summary):
        assert "Server-Timing" not in resp.headers


def test_a_missing_trc_assertion_is_the_documented_403(countries):
    """Finding 13: step 7 of docs/trust-and-assertions.md (the clinician is authenticated, the treatment
    relationship is not shown): 403 TRC_ASSERTION_MISSING."""
    store = countries.store("FR")
    try:
        patient = store.records.find_by_identifier(TRAITS["identifier"].split("|")[0], INS)
    finally:
        store.close()
    hcp = countries.signer("DE").hcp(CLINICIAN, "TREATMENT", countries.ncp("FR"))
    resp = countries.peer_session("DE").get(f"{countries.ncp('FR')}/fhir/Patient/{patient.id}/$summary",
                                            headers={"Authorization": f"Bearer {hcp}"}, timeout=10)
    assert_refused(resp, 403, "TRC_ASSERTION_MISSING")
