"""`ncpeh demo`: creates what is missing, starts both countries, prints URLs, stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time

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


def test_demo_starts_two_countries_and_stops_on_ctrl_c(tmp_path):
    base = free_base_port(2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NCPEH_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "demo", "--countries", "FR,DE", "--home", str(tmp_path),
         "--base-port", str(base), "--patients", "3"],
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
        text = "".join(output)
        assert "All listeners healthy" in text, text
        assert f"https://127.0.0.1:{base}/" in text and f"https://127.0.0.1:{base + 1}/" in text
        assert "partner client" in text and "seeded 3 synthetic patients" in text
        ca = str(tmp_path / "certs" / "ca" / "ca.crt")
        for port in (base, base + 1):
            assert requests.get(f"https://127.0.0.1:{port}/_status", verify=ca, timeout=5).json()["status"] == "ok"
        for code in ("fr", "de"):
            assert (tmp_path / "var" / code / "ncpeh.sqlite3").exists()
            assert (tmp_path / "var" / code / "partner-client.json").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, rest
    assert "Stopped." in rest
    for port in (base, base + 1, base + 100, base + 101):
        assert port_free(port), f"port {port} still in use after stop"
