"""Start-up failures give one line that says what and where, and a non-zero exit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from gateway.server.demo import Topology
from tests.conftest import free_ports


def ncpeh(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


@pytest.fixture()
def prepared(tmp_path):
    public, ncp = free_ports(2)
    topo = Topology(["FR"], tmp_path, {"FR": (public, ncp)})
    topo.prepare()
    env = {"NCPEH_HOME": str(tmp_path), "NCPEH_PUBLIC_PORT": str(public), "NCPEH_NCP_PORT": str(ncp)}
    return topo.configs["FR"], env


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ncpeh: error: ")
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]


def test_port_already_in_use(prepared):
    cfg, env = prepared
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", cfg.public.port))
        busy.listen()
        result = ncpeh("serve", "--country", "FR", "--listener", "public", env=env)
    assert_one_line_error(result, f"127.0.0.1:{cfg.public.port}", "port already in use")


def test_unreadable_certificate(prepared):
    cfg, env = prepared
    cfg.certs.server_cert.write_text("-----BEGIN CERTIFICATE-----\ntruncated")
    result = ncpeh("serve", "--country", "FR", "--listener", "public", env=env)
    assert_one_line_error(result, str(cfg.certs.server_cert))


def test_missing_certificate(prepared):
    cfg, env = prepared
    cfg.certs.server_key.unlink()
    result = ncpeh("serve", "--country", "FR", "--listener", "ncp", env=env)
    assert_one_line_error(result, str(cfg.certs.server_key), "not found")


def test_wrong_key_password(tmp_path):
    public, ncp = free_ports(2)
    env = {"NCPEH_HOME": str(tmp_path), "NCPEH_PUBLIC_PORT": str(public), "NCPEH_NCP_PORT": str(ncp),
           "NCPEH_KEY_PASSWORD": "correct horse"}
    assert ncpeh("init-certs", "--countries", "FR", env=env).returncode == 0
    result = ncpeh("serve", "--country", "FR", "--listener", "public", env={**env, "NCPEH_KEY_PASSWORD": "wrong"})
    assert_one_line_error(result, "wrong key password", "tls-server.key")
    result = ncpeh("trust-list", "build", "--countries", "FR", env={**env, "NCPEH_KEY_PASSWORD": "wrong"})
    assert_one_line_error(result, "wrong key password", "ca.key")


def test_corrupt_database(prepared):
    cfg, env = prepared
    for suffix in ("", "-wal", "-shm"):
        cfg.database_path.with_name(cfg.database_path.name + suffix).unlink(missing_ok=True)
    cfg.database_path.write_bytes(b"garbage" * 1000)
    result = ncpeh("serve", "--country", "FR", "--listener", "public", env=env)
    assert_one_line_error(result, str(cfg.database_path))
    assert cfg.database_path.read_bytes() == b"garbage" * 1000  # nothing half-written over it


def test_invalid_configuration(prepared):
    _, env = prepared
    result = ncpeh("serve", "--country", "FR", "--listener", "public", env={**env, "NCPEH_PUBLIC_PORT": "x"})
    assert_one_line_error(result, "fr.toml", "public.port")


def test_tampered_trust_list_stops_start_up(prepared):
    cfg, env = prepared
    cfg.trust_list.write_text(cfg.trust_list.read_text()[:-10] + "AAAAAAAAAA")
    result = ncpeh("serve", "--country", "FR", "--listener", "ncp", env=env)
    assert_one_line_error(result, str(cfg.trust_list))


def test_every_command_has_help():
    for args in (["--help"], ["init-certs", "--help"], ["trust-list", "build", "--help"], ["serve", "--help"],
                 ["demo", "--help"], ["healthcheck", "--help"], ["clients", "add", "--help"]):
        assert ncpeh(*args).returncode == 0, args
