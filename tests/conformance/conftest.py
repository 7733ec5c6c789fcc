"""Running the conformance kit (the real ``ncpeh conformance`` command, in a subprocess) as DE against
FR's NCPeH-to-NCPeH API, or against a deliberately broken NCPeH (tests/conformance/broken_ncpeh.py)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import OPPOSED_INS, Running, free_ports

ROOT = Path(__file__).resolve().parents[2]
INS = "urn:oid:1.2.250.1.213.1.4.8"
#: The fixture patient stored in FR (tests/fixtures/ips-fr-dupont.json) and the one who opposed.
PATIENT = [f"identifier={INS}|284057505612387", "family=DUPONT", "given=Marie", "birthdate=1984-05-12",
           "gender=female"]
OPPOSED = [f"identifier={INS}|{OPPOSED_INS}", "family=LEROY", "given=Jean", "birthdate=1970-02-13", "gender=male"]


def kit_command(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gateway.cli", "conformance", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def pki_args(running: Running) -> list[str]:
    """DE's client certificate and key, the CA, DE's signing key, the trust list."""
    de = running.configs["DE"]
    return ["--client-cert", str(de.certs.client_cert), "--client-key", str(de.certs.client_key),
            "--ca", str(de.certs.ca_cert), "--signing-key", str(de.certs_dir / "de" / "signing.key"),
            "--country", "DE", "--trust-list", str(de.trust_list)]


def patient_args(opposed: bool = True) -> list[str]:
    args = [item for trait in PATIENT for item in ("--patient", trait)]
    if opposed:
        args += [item for trait in OPPOSED for item in ("--opposed-patient", trait)]
    return args


def junit_outcomes(path: Path) -> dict[str, str]:
    """check id -> pass / fail / skip, read from the JUnit XML report."""
    outcomes = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        status = "fail" if case.find("failure") is not None else "skip" if case.find("skipped") is not None else "pass"
        outcomes[case.get("name")] = status
    return outcomes


@pytest.fixture
def kit(countries: Running) -> Callable[..., subprocess.CompletedProcess]:
    """``kit(target, *more)``: the kit as DE with the demo PKI against ``target``."""

    def run(target: str, *more: str) -> subprocess.CompletedProcess:
        return kit_command("--target", target, *pki_args(countries), *more)

    return run


@contextmanager
def broken_ncpeh(running: Running, fault: str, data_dir: Path) -> Iterator[str]:
    """FR's NCPeH app with ``fault`` injected, served over HTTPS on a free port, on a copy of FR's database
    in ``data_dir`` (the real FR's audit trail and replay cache stay untouched); yields its FHIR base."""
    cfg = running.configs["FR"]
    with sqlite3.connect(cfg.database_path) as source, sqlite3.connect(data_dir / cfg.database_path.name) as copy:
        source.backup(copy)
    port = free_ports(1)[0]
    env = {**running.topo.process_env(cfg), "NCPEH_NCP_PORT": str(port), "NCPEH_COUNTRY": "FR",
           "NCPEH_DATA_DIR": str(data_dir)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.conformance.broken_ncpeh", fault, str(port)], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if line.strip() != "ready":
            proc.kill()
            raise RuntimeError(f"broken NCPeH did not start: {line} {proc.stderr.read() if proc.stderr else ''}")
        yield f"https://127.0.0.1:{port}/fhir"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
