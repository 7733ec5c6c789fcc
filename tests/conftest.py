"""Shared fixtures: real countries served by gunicorn over HTTPS on free ports of 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from gateway import audit_trail as trail
from gateway import storage
from gateway.security import assertions
from gateway.security.assertions import Clinician
from gateway.security.pki import load_private_key
from gateway.security.trustlist import key_id
from gateway.server.demo import Topology
from gateway.services.population import store_documents

FIXTURES = Path(__file__).parent / "fixtures"
#: The clinician the partner software of the tests acts for (a physician: ISCO-08 221).
CLINICIAN = Clinician(id="de-lanr-123456789", name="Dr. Anna Schmidt", role="221", organisation="Klinikum Demo",
                      organisation_id="urn:oid:1.2.276.0.76.4.8.999", language="de")


def free_ports(count: int) -> list[int]:
    socks, ports = [], []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        socks.append(sock)
        ports.append(sock.getsockname()[1])
    for sock in socks:
        sock.close()
    return ports


def make_topology(home: Path, codes: list[str], **kwargs) -> Topology:
    ports = free_ports(2 * len(codes))
    mapping = {code: (ports[2 * i], ports[2 * i + 1]) for i, code in enumerate(codes)}
    return Topology(codes, home, mapping, env={"NCPEH_THREADS": "4"}, **kwargs)


def load_fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


#: A second French patient (same clinical content) who opposed cross-border access.
OPPOSED_INS = "1700213055123" + f"{97 - 1700213055123 % 97:02d}"


def opposed_patient_document() -> dict:
    doc = load_fixture("ips-fr-dupont.json")
    doc["identifier"]["value"] = "urn:uuid:0b8e7c52-3f0e-4d5e-9a59-5a3c1d2b9f01"
    for entry in doc["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Patient":
            resource["identifier"][0]["value"] = OPPOSED_INS
            resource["name"] = [{"use": "official", "family": "LEROY", "given": ["Jean"]}]
            resource["gender"] = "male"
            resource["birthDate"] = "1970-02-13"
    return doc


class Running:
    """A started topology plus conveniences for talking to it as a partner or as a peer NCPeH."""

    def __init__(self, topo: Topology) -> None:
        self.topo = topo
        self.configs = topo.configs

    def ca(self, code: str = "FR") -> str:
        return str(self.configs[code].certs.ca_cert)

    def public(self, code: str) -> str:
        return self.configs[code].public.url

    def ncp(self, code: str) -> str:
        return self.configs[code].ncp.url

    def partner_credentials(self, code: str) -> dict:
        return json.loads((self.configs[code].data_dir / "partner-client.json").read_text())

    def partner_session(self, code: str, clinician: Clinician | None = CLINICIAN, purpose: str | None = "TREATMENT",
                        **extra) -> requests.Session:
        """A partner client's session: OAuth token, and the clinician it acts for (X-Clinician-Assertion)."""
        creds = self.partner_credentials(code)
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise override session.verify
        session.verify = self.ca(code)
        resp = session.post(creds["token_url"], data={"grant_type": "client_credentials"},
                            auth=(creds["client_id"], creds["client_secret"]), timeout=10)
        resp.raise_for_status()
        session.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
        if clinician is not None:
            session.headers["X-Clinician-Assertion"] = self.clinician_assertion(code, clinician, purpose, **extra)
        return session

    def clinician_assertion(self, code: str, clinician: Clinician = CLINICIAN, purpose: str | None = "TREATMENT",
                            **extra) -> str:
        """What partner software of country ``code`` signs to name its clinician."""
        creds = self.partner_credentials(code)
        key = load_private_key(Path(creds["clinician_signing_key"]))
        return assertions.clinician_assertion(key, creds["client_id"], creds["fhir_base"], clinician, purpose,
                                              **extra)

    def signer(self, code: str, key_file: str = "signing.key") -> assertions.AssertionSigner:
        """Signs HCP/TRC assertions as country ``code``'s NCPeH (its key on disk)."""
        cfg = self.configs[code]
        key = load_private_key(cfg.certs_dir / cfg.slug / key_file)
        return assertions.AssertionSigner(cfg.code, cfg.ncp.url, key_id(key.public_key()), key)

    def peer_session(self, as_code: str) -> requests.Session:
        """A session presenting country ``as_code``'s NCPeH client certificate."""
        cfg = self.configs[as_code]
        session = requests.Session()
        session.trust_env = False
        session.verify = self.ca(as_code)
        session.cert = (str(cfg.certs.client_cert), str(cfg.certs.client_key))
        return session

    def store(self, code: str) -> storage.Store:
        return storage.open_store(self.configs[code].database)


@contextmanager
def started(topo: Topology, **start) -> Iterator[Running]:
    """``topo`` started (``start``: Topology.start's arguments) and stopped afterwards."""
    topo.start(**start)
    try:
        yield Running(topo)
    finally:
        topo.stop()


@pytest.fixture(scope="session")
def countries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """FR and DE, each with its public and NCPeH listeners, and the fixture patient stored in FR."""
    home = tmp_path_factory.mktemp("two-countries")
    # NCPEH_TEST_DATABASE=postgresql: the same countries on a throwaway PostgreSQL cluster (the suites that go
    # through HTTP then exercise the PostgreSQL backend; tests/store runs on both backends anyway)
    database = os.environ.get("NCPEH_TEST_DATABASE", "sqlite")
    cluster_dir = Path(tempfile.mkdtemp(prefix="ncpeh-test-countries-pg-")) if database == "postgresql" else None
    topo = make_topology(home, ["FR", "DE"], database=database, cluster_dir=cluster_dir)
    # the whole suite's refused token requests come from 127.0.0.1: not throttled here (tests/security/
    # test_hostile_api.py floods countries of its own, with the default limits)
    topo.env = {**topo.env, "NCPEH_TOKEN_FAILURES_PER_ADDRESS": "100000", "NCPEH_TOKEN_FAILURES_PER_CLIENT": "100000"}
    topo.prepare(patients=0)
    store = storage.open_store(topo.configs["FR"].database)
    store_documents(store, topo.configs["FR"], [load_fixture("ips-fr-dupont.json"), opposed_patient_document()])
    opposed = store.records.find_by_identifier("urn:oid:1.2.250.1.213.1.4.8", OPPOSED_INS)
    store.records.set_consent(opposed.id, "opposed", audit=trail.consent_draft("FR", opposed.id, "opposed"))
    store.close()
    with started(topo) as running:
        yield running
    if cluster_dir is not None:
        shutil.rmtree(cluster_dir, ignore_errors=True)
