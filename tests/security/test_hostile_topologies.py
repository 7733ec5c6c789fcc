"""Hostile-case catalogue, part 2: cases that need their own countries (a tampered or expired trust
list, a restart, a signing-key rotation). Each test starts FR and DE in its own directory.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from gateway import storage
from gateway.security import pki, trustlist
from gateway.server.demo import Topology
from gateway.services.population import store_documents
from tests.conftest import CLINICIAN, Running, free_ports, load_fixture, make_topology, started
from tests.security.helpers import INS, TRAITS, assert_refused, parts


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Running]:
    topo = make_topology(tmp_path / "home", ["FR", "DE"])
    topo.prepare(patients=0)
    store = storage.open_store(topo.configs["FR"].database_path)
    store_documents(store, topo.configs["FR"], [load_fixture("ips-fr-dupont.json")])
    store.close()
    with started(topo) as running:
        yield running


def _patient_id(running: Running) -> str:
    store = running.store("FR")
    try:
        return store.records.find_by_identifier(TRAITS["identifier"].split("|")[0], INS).id
    finally:
        store.close()


def _search(running: Running, token: str) -> requests.Response:
    return running.peer_session("DE").get(running.ncp("FR") + "/fhir/Patient", params=TRAITS, timeout=10,
                                          headers={"Authorization": f"Bearer {token}"})


def _summary(running: Running, patient_id: str, hcp: str, trc: str) -> requests.Response:
    return running.peer_session("DE").get(f"{running.ncp('FR')}/fhir/Patient/{patient_id}/$summary", timeout=10,
                                          headers={"Authorization": f"Bearer {hcp}", "X-TRC-Assertion": trc})


def _partner_chain(running: Running, session: requests.Session | None = None, base: str | None = None) -> int:
    """Identification then $summary through DE's partner API; the status of the summary call."""
    session = session or running.partner_session("DE")
    base = (base or running.public("DE")) + "/fhir"
    found = session.get(f"{base}/Patient", params={"country": "FR", **TRAITS}, timeout=10)
    if found.status_code != 200:
        return found.status_code
    local = found.json()["entry"][0]["resource"]["id"]
    return session.get(f"{base}/Patient/{local}/$summary", timeout=10).status_code


def _wait_reloaded(check, timeout: float = 5.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the instances did not pick up the new trust list")
        time.sleep(0.1)


# --- the trust list ------------------------------------------------------------------------------


def _tamper(path: Path) -> None:
    header, payload, signature = path.read_text().strip().split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["countries"][0]["ncp_url"] = "https://attacker.example"
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    pki.atomic_write(path, f"{header}.{forged}.{signature}".encode())


def _cli(running: Running, *args: str, port_env: dict | None = None) -> subprocess.CompletedProcess:
    cfg = running.configs["FR"]
    env = {**running.topo.process_env(cfg), **(port_env or {})}
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args, "--country", "FR"], env=env,
                          capture_output=True, text=True, timeout=60)


def test_18_tampered_trust_list_suspends_exchange_and_refuses_start_up(pair):
    cfg = pair.configs["FR"]
    good = cfg.trust_list.read_bytes()
    hcp = pair.signer("DE").hcp(CLINICIAN, "TREATMENT", pair.ncp("FR"))
    _tamper(cfg.trust_list)
    assert_refused(_search(pair, hcp), 503, "TRUST_LIST_INVALID")
    resp = pair.partner_session("DE").get(pair.public("DE") + "/fhir/Patient",
                                          params={"country": "FR", **TRAITS}, timeout=10)
    assert_refused(resp, 503, "TRUST_LIST_INVALID")
    status = requests.get(pair.public("FR") + "/_status", verify=pair.ca(), timeout=5)
    assert status.status_code == 503 and status.json()["checks"]["trust_list"]["loaded"] is False
    # the command line and a new instance refuse it too, with one clear line
    verify = _cli(pair, "trust-list", "verify")
    assert verify.returncode == 1 and "signature does not verify" in verify.stderr
    public_port, = free_ports(1)
    serve = _cli(pair, "serve", "--listener", "public", port_env={"NCPEH_PUBLIC_PORT": str(public_port)})
    assert serve.returncode != 0 and "ncpeh: error:" in serve.stderr and "Traceback" not in serve.stderr
    # a valid list restores the exchange without a restart (the same assertion was never accepted)
    pki.atomic_write(cfg.trust_list, good)
    assert _search(pair, hcp).status_code == 200
    assert _partner_chain(pair) == 200


def test_18b_trust_list_signed_by_another_ca(pair, tmp_path):
    other = tmp_path / "other-pki"
    pki.ensure_ca(other)
    cfg = pair.configs["FR"]
    trustlist.build(pair.configs.values(), other, cfg.trust_list)
    hcp = pair.signer("DE").hcp(CLINICIAN, "TREATMENT", pair.ncp("FR"))
    assert_refused(_search(pair, hcp), 503, "TRUST_LIST_INVALID")


def test_19_expired_trust_list(pair):
    cfg = pair.configs["FR"]
    trustlist.build(pair.configs.values(), cfg.certs_dir, cfg.trust_list, days=30,
                    now=dt.datetime.now(dt.UTC) - dt.timedelta(days=31))
    hcp = pair.signer("DE").hcp(CLINICIAN, "TREATMENT", pair.ncp("FR"))
    assert_refused(_search(pair, hcp), 503, "TRUST_LIST_INVALID")
    status = requests.get(pair.public("DE") + "/_status", verify=pair.ca(), timeout=5).json()
    assert status["checks"]["trust_list"]["code"] == "TRUST_LIST_EXPIRED"
    assert str(cfg.trust_list.parent) not in json.dumps(status)  # unauthenticated: a code, no file names
    assert_refused(pair.partner_session("DE").get(pair.public("DE") + "/fhir/Patient",
                                                  params={"country": "FR", **TRAITS}, timeout=10),
                   503, "TRUST_LIST_INVALID")
    trustlist.build(pair.configs.values(), cfg.certs_dir, cfg.trust_list)
    assert _partner_chain(pair) == 200


def test_19b_an_older_trust_list_put_back_is_refused(pair):
    """No rollback: once Germany is removed by a newer list, putting the older signed (unexpired) list
    back in place does not trust Germany again; /_status says why the file is not used."""
    cfg = pair.configs["FR"]
    older = cfg.trust_list.read_bytes()
    newer = trustlist.build([cfg], cfg.certs_dir, cfg.trust_list)  # France only: Germany removed
    assert_refused(_search(pair, pair.signer("DE").hcp(CLINICIAN, "TREATMENT", pair.ncp("FR"))), 403,
                   "UNTRUSTED_CERTIFICATE")
    pki.atomic_write(cfg.trust_list, older)
    assert_refused(_search(pair, pair.signer("DE").hcp(CLINICIAN, "TREATMENT", pair.ncp("FR"))), 403,
                   "UNTRUSTED_CERTIFICATE")
    # the NCPeH listener's process had taken the newer list: it says why the file in place is not used
    status = pair.peer_session("DE").get(pair.ncp("FR") + "/_status", timeout=5).json()["checks"]["trust_list"]
    assert status["status"] == "warning" and status["sequence"] == newer["seq"]
    assert status["code"] == "TRUST_LIST_OLDER_SEQUENCE" and "detail" not in status
    trustlist.build(pair.configs.values(), cfg.certs_dir, cfg.trust_list)  # a new list (seq + 1) names Germany again
    assert _partner_chain(pair) == 200


def test_19c_an_older_trust_list_put_back_is_refused_after_a_restart(pair):
    """Pen-test finding 9: the highest sequence is recorded on disk, so a restart does not roll back;
    'ncpeh trust-list accept' is the operator's explicit way to take an older (re-signed) list."""
    cfg = pair.configs["FR"]
    older = cfg.trust_list.read_bytes()
    trustlist.build([cfg], cfg.certs_dir, cfg.trust_list)  # France only: Germany removed
    assert_refused(_search(pair, pair.signer("DE").hcp(CLINICIAN, "TREATMENT", pair.ncp("FR"))), 403,
                   "UNTRUSTED_CERTIFICATE")
    pair.topo.stop()
    pki.atomic_write(cfg.trust_list, older)
    port, = free_ports(1)
    serve = _cli(pair, "serve", "--listener", "ncp", port_env={"NCPEH_NCP_PORT": str(port)})
    assert serve.returncode != 0 and "older than sequence" in serve.stderr and "Traceback" not in serve.stderr
    accepted = _cli(pair, "trust-list", "accept")
    assert accepted.returncode == 0, accepted.stderr
    pair.topo.start(skip=frozenset({("DE", "public"), ("DE", "ncp"), ("FR", "public")}))
    assert _search(pair, pair.signer("DE").hcp(CLINICIAN, "TREATMENT", pair.ncp("FR"))).status_code == 200


# --- the replay cache survives a restart -----------------------------------------------------------


def test_13c_replayed_trc_after_a_restart(pair):
    """The TRC's jti is single-use across restarts; the HCP assertion (the clinician's session) is verified
    again by the restarted process and still accepted."""
    signer, patient_id = pair.signer("DE"), _patient_id(pair)
    hcp, trc = signer.hcp(CLINICIAN, "TREATMENT", pair.ncp("FR")), signer.trc(CLINICIAN, "TREATMENT", patient_id,
                                                                               pair.ncp("FR"))
    assert _summary(pair, patient_id, hcp, trc).status_code == 200
    pair.topo.stop()
    pair.topo.start()
    assert_refused(_summary(pair, patient_id, hcp, trc), 401, "ASSERTION_REPLAYED")
    assert _search(pair, hcp).status_code == 200
    fresh = signer.trc(CLINICIAN, "TREATMENT", patient_id, pair.ncp("FR"))
    assert _summary(pair, patient_id, hcp, fresh).status_code == 200


# --- signing-key rotation without downtime ---------------------------------------------------------


def _start_public(topo: Topology, code: str, config: Path, port: int) -> subprocess.Popen:
    cfg = topo.configs[code]
    # a second instance of the same service (blue/green): another port, the same public URL
    env = {**topo.process_env(cfg), "NCPEH_PUBLIC_PORT": str(port), "NCPEH_PUBLIC_URL": cfg.public.url}
    assert topo.log_dir is not None
    log = open(topo.log_dir / f"{cfg.slug}-public-rotated.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve", "--country", str(config),
                             "--listener", "public"], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    log.close()
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, (topo.log_dir / f"{cfg.slug}-public-rotated.log").read_text()[-2000:]
        try:
            if requests.get(f"https://127.0.0.1:{port}/_status", verify=str(cfg.certs.ca_cert),
                            timeout=2).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, "the rotated instance did not start"
        time.sleep(0.2)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


def test_signing_key_rotation_without_downtime(pair, tmp_path):
    topo, de = pair.topo, pair.configs["DE"]
    old_session = pair.partner_session("DE")
    assert _partner_chain(pair, old_session) == 200
    old_kid = pair.signer("DE").kid

    # 1. a second key; the trust list publishes both; FR picks the new list up while serving
    new_key = pki.rotate_signing_key(de.certs_dir, "DE")
    trustlist.build(topo.configs.values(), de.certs_dir, de.trust_list)
    new_kid = pair.signer("DE", new_key.name).kid
    assert new_kid != old_kid
    _wait_reloaded(lambda: requests.get(pair.public("FR") + "/_status", verify=pair.ca(), timeout=5)
                   .json()["checks"]["trust_list"]["sequence"] == 2)
    assert _partner_chain(pair, old_session) == 200  # the old key still works

    # 2. a DE instance configured with the new key (certs.signing_key) starts beside the old one
    config = tmp_path / "de-rotated.toml"
    config.write_text((Path(de.source)).read_text() + f'\n[certs]\nsigning_key = "{new_key}"\n')
    port, = free_ports(1)
    proc = _start_public(topo, "DE", config, port)
    try:
        base = f"https://127.0.0.1:{port}"
        status = requests.get(base + "/_status", verify=pair.ca(), timeout=5).json()
        assert status["checks"]["signing_key"] == {"status": "ok", "kid": new_kid, "published": True,
                                                   "published_keys": sorted([old_kid, new_kid])}
        # both instances serve at the same time; an access token of the old one works at the new one
        for _ in range(3):
            assert _partner_chain(pair, old_session) == 200
            assert _partner_chain(pair, old_session, base) == 200
        # the new instance's HCP assertion really carries the new key
        hcp = pair.signer("DE", new_key.name).hcp(CLINICIAN, "TREATMENT", pair.ncp("FR"))
        assert parts(hcp)[0]["kid"] == new_kid and _search(pair, hcp).status_code == 200

        # 3. the old instance stops; the old key leaves the trust list; its assertions are refused
        for name, p in topo.processes:
            if name == "DE public":
                _stop(p)
        retired = de.certs_dir / "de" / "retired-signing.pub"
        (de.certs_dir / "de" / "signing.pub").rename(retired)
        trustlist.build(topo.configs.values(), de.certs_dir, de.trust_list)
        _wait_reloaded(lambda: requests.get(pair.public("FR") + "/_status", verify=pair.ca(), timeout=5)
                       .json()["checks"]["trust_list"]["sequence"] == 3)
        stale = pair.signer("DE").hcp(CLINICIAN, "TREATMENT", pair.ncp("FR"))
        assert_refused(_search(pair, stale), 401, "ASSERTION_UNKNOWN_KEY")
        creds = pair.partner_credentials("DE")
        fresh = requests.Session()
        fresh.trust_env, fresh.verify = False, pair.ca()
        token = fresh.post(base + "/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(creds["client_id"], creds["client_secret"]), timeout=10).json()["access_token"]
        assert parts(token)[0]["kid"] == new_kid
        fresh.headers.update({"Authorization": f"Bearer {token}",
                              "X-Clinician-Assertion": pair.clinician_assertion("DE")})
        assert _partner_chain(pair, fresh, base) == 200
    finally:
        _stop(proc)


def test_status_warns_when_the_active_key_is_not_published(pair, tmp_path):
    topo, de = pair.topo, pair.configs["DE"]
    new_key = pki.rotate_signing_key(de.certs_dir, "DE")  # not yet in the trust list
    config = tmp_path / "de-early.toml"
    config.write_text((Path(de.source)).read_text() + f'\n[certs]\nsigning_key = "{new_key}"\n')
    port, = free_ports(1)
    proc = _start_public(topo, "DE", config, port)
    try:
        status = requests.get(f"https://127.0.0.1:{port}/_status", verify=pair.ca(), timeout=5).json()
        assert status["status"] == "warning"
        assert status["checks"]["signing_key"]["status"] == "warning"
        assert status["checks"]["signing_key"]["published"] is False
        # and FR refuses what it signs, with the code that says why
        hcp = pair.signer("DE", new_key.name).hcp(CLINICIAN, "TREATMENT", pair.ncp("FR"))
        assert_refused(_search(pair, hcp), 401, "ASSERTION_UNKNOWN_KEY")
    finally:
        _stop(proc)
