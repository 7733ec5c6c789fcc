"""`ncpeh demo`: creates what is missing, starts both countries, prints URLs, stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not "in use"
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_base_port(count: int) -> int:
    for _ in range(200):
        base = random.randint(20000, 50000)
        if all(port_free(base + i) and port_free(base + 100 + i) for i in range(count)):
            return base
    raise RuntimeError("no free port range")


@contextmanager
def demo_running(home: Path, codes: list[str], patients: int) -> Iterator[tuple[int, str]]:
    """`ncpeh demo --countries ...` as a tester runs it: yields (base port, output up to "Press Ctrl-C"),
    then sends Ctrl-C and checks that it stopped cleanly and freed every port."""
    base = free_base_port(len(codes))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NCPEH_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "demo", "--countries", ",".join(codes), "--home", str(home),
         "--base-port", str(base), "--patients", str(patients)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**env, "NCPEH_THREADS": "2"},
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Press Ctrl-C to stop" in line:
                break
        yield base, "".join(output)
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, rest
    assert "Stopped." in rest
    for port in [base + i for i in range(len(codes))] + [base + 100 + i for i in range(len(codes))]:
        assert port_free(port), f"port {port} still in use after stop"


def test_demo_starts_two_countries_and_stops_on_ctrl_c(tmp_path):
    with demo_running(tmp_path, ["FR", "DE"], patients=3) as (base, text):
        assert "All listeners healthy" in text, text
        assert f"https://127.0.0.1:{base}/" in text and f"https://127.0.0.1:{base + 1}/" in text
        assert "partner client" in text and "seeded 3 synthetic patients" in text
        ca = str(tmp_path / "certs" / "ca" / "ca.crt")
        for port in (base, base + 1):
            checks = requests.get(f"https://127.0.0.1:{port}/_status", verify=ca, timeout=5).json()["checks"]
            assert {name for name, check in checks.items() if check["status"] != "ok"} <= {"audit_anchor", "totp_key"}, checks
        for code in ("fr", "de"):
            assert (tmp_path / "var" / code / "ncpeh.sqlite3").exists()
            assert (tmp_path / "var" / code / "partner-client.json").exists()
