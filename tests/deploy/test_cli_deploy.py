"""The commands the containers run: idempotent certs + trust list, seeding once, both listeners supervised,
and bad input refused at start with a message naming the file and the field."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway import storage
from gateway.config import ConfigError
from gateway.security import trustlist
from gateway.server.demo import Topology, TopologyError
from gateway.services.population import store_documents
from tests.conftest import free_ports, load_fixture, make_topology


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NCPEH_")}
    env.update({"NCPEH_THREADS": "2", **extra})
    return env


def ncpeh(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("ncpeh: error: "), result.stderr
    return lines[0]


def port_free(port: int) -> bool:
    """Whether a new server could listen there (as gunicorn does: TIME_WAIT connections do not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# --- the certs service: PKI + trust list, nothing when they are up to date -------------------------


def test_init_certs_with_trust_list_is_idempotent_and_adds_a_country(tmp_path):
    env = clean_env(NCPEH_HOME=str(tmp_path))
    listed = tmp_path / "certs" / "trustlist.jws"
    ca = tmp_path / "certs" / "ca" / "ca.crt"

    first = ncpeh("init-certs", "--countries", "FR,DE", "--trust-list", env=env)
    assert first.returncode == 0, first.stderr
    assert "created" in first.stdout and "trust list #1 written" in first.stdout
    signed = listed.read_bytes()

    again = ncpeh("init-certs", "--countries", "FR,DE", "--trust-list", env=env)
    assert again.returncode == 0, again.stderr
    assert "created" not in again.stdout and "is up to date: FR, DE" in again.stdout
    assert listed.read_bytes() == signed, "nothing rewritten when up to date"

    # the "it" profile's certs-it service: IT certificates, and IT added to the list
    with_it = ncpeh("init-certs", "--countries", "FR,DE,IT", "--trust-list", env=env)
    assert with_it.returncode == 0, with_it.stderr
    assert "trust list #2 written" in with_it.stdout
    assert sorted(trustlist.verify(listed, ca).countries) == ["DE", "FR", "IT"]

    # the default certs service on the next `up` keeps it (the list already names FR and DE as they are)
    after = ncpeh("init-certs", "--countries", "FR,DE", "--trust-list", env=env)
    assert "is up to date" in after.stdout
    assert sorted(trustlist.verify(listed, ca).countries) == ["DE", "FR", "IT"]

    # an explicit build names exactly the countries asked for
    exact = ncpeh("trust-list", "build", "--countries", "FR,DE", env=env)
    assert exact.returncode == 0, exact.stderr
    assert sorted(trustlist.verify(listed, ca).countries) == ["DE", "FR"]


def test_trust_list_is_rebuilt_when_a_certificate_changed_or_expiry_is_near(tmp_path):
    env = clean_env(NCPEH_HOME=str(tmp_path))
    listed = tmp_path / "certs" / "trustlist.jws"
    assert ncpeh("init-certs", "--countries", "FR,DE", "--trust-list", env=env).returncode == 0
    assert ncpeh("trust-list", "build", "--countries", "FR,DE", "--days", "3", env=env).returncode == 0
    near = ncpeh("trust-list", "build", "--countries", "FR,DE", "--if-needed", env=env)
    assert "written" in near.stdout, "valid 3 more days only: renewed"
    same = ncpeh("trust-list", "build", "--countries", "FR,DE", "--if-needed", env=env)
    assert "up to date" in same.stdout
    before = listed.read_bytes()
    forced = ncpeh("init-certs", "--countries", "DE", "--force", "--trust-list", env=env)
    assert forced.returncode == 0, forced.stderr
    assert listed.read_bytes() != before, "DE's new certificate is not in the old list"


# --- seeding on first start ----------------------------------------------------------------------


def test_seed_if_empty_does_nothing_when_patients_exist(tmp_path):
    topo = Topology(["FR"], tmp_path, {"FR": tuple(free_ports(2))})
    topo.prepare()
    store = storage.open_store(topo.configs["FR"].database_path)
    store_documents(store, topo.configs["FR"], [load_fixture("ips-fr-dupont.json")])
    store.close()
    result = ncpeh("seed", "--country", "FR", "--patients", "5", "--if-empty", env=clean_env(NCPEH_HOME=str(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert "1 patients already stored, nothing seeded" in result.stdout
    store = storage.open_store(topo.configs["FR"].database_path)
    assert store.records.count_patients() == 1
    store.close()


# --- both listeners in one container -------------------------------------------------------------


@pytest.fixture()
def france(tmp_path):
    """FR prepared with password-protected keys (NCPEH_KEY_PASSWORD, as .env may set for compose)."""
    public, ncp = free_ports(2)
    topo = Topology(["FR"], tmp_path, {"FR": (public, ncp)}, env={"NCPEH_KEY_PASSWORD": "s3cret-demo"})
    topo.prepare()
    env = clean_env(NCPEH_HOME=str(tmp_path), NCPEH_PUBLIC_PORT=str(public), NCPEH_NCP_PORT=str(ncp),
                    NCPEH_KEY_PASSWORD="s3cret-demo")
    return topo.configs["FR"], env


def start_both(env: dict[str, str], log: Path, *extra: str) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve", "--country", "FR", "--listener", "both",
                                 *extra], env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_healthy(proc: subprocess.Popen, env: dict[str, str], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        if ncpeh("healthcheck", "--country", "FR", "--listener", "both", "--timeout", "2", env=env).returncode == 0:
            return
        time.sleep(0.3)
    pytest.fail(f"not healthy: {log.read_text()}")


def child_pids(log: Path) -> dict[str, int]:
    pids = {}
    for line in log.read_text().splitlines():
        if "listener started (pid" in line:
            listener = line.split()[2]
            pids[listener] = int(line.rsplit("pid ", 1)[1].rstrip(")"))
    return pids


def test_serve_both_runs_both_listeners_and_stops_on_sigterm(france, tmp_path):
    cfg, env = france
    log = tmp_path / "both.log"
    proc = start_both(env, log, "--demo-patients", "0")
    try:
        wait_healthy(proc, env, log)
        assert set(child_pids(log)) == {"public", "ncp"}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert port_free(cfg.public.port) and port_free(cfg.ncp.port), log.read_text()


def test_serve_both_opens_no_shared_gunicorn_control_socket(france, tmp_path):
    """gunicorn's default control socket is one path per user: both masters of a container (HOME=/srv/ncpeh)
    would bind the same one, the second taking it from the first. The listeners open none."""
    cfg, env = france
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in env.items() if k != "XDG_RUNTIME_DIR"} | {"HOME": str(home)}
    log = tmp_path / "both.log"
    proc = start_both(env, log, "--demo-patients", "0")
    try:
        wait_healthy(proc, env, log)
        sockets = [str(p) for p in home.rglob("*") if p.is_socket()]
        assert not (home / ".gunicorn").exists() and not sockets, (sockets, log.read_text())
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert "control" not in log.read_text().lower(), log.read_text()


def test_serve_both_exits_when_one_listener_dies(france, tmp_path):
    cfg, env = france
    log = tmp_path / "both.log"
    proc = start_both(env, log)
    try:
        wait_healthy(proc, env, log)
        os.kill(child_pids(log)["ncp"], signal.SIGKILL)
        assert proc.wait(30) == 1, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "FR ncp listener stopped" in log.read_text()
    deadline = time.monotonic() + 20
    while not port_free(cfg.public.port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert port_free(cfg.public.port), "the public listener is stopped with it"


def test_serve_both_prepares_demo_data_on_first_start(france, tmp_path):
    cfg, env = france
    pytest.importorskip("gateway.records.synthetic")
    log = tmp_path / "both.log"
    proc = start_both(env, log, "--demo-patients", "3")
    try:
        wait_healthy(proc, env, log, timeout=120)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert "FR: seeded 3 synthetic patients" in log.read_text()
    assert (cfg.data_dir / "partner-client.json").exists()
    proc = start_both(env, log, "--demo-patients", "3")  # second start: nothing seeded again
    try:
        wait_healthy(proc, env, log)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert "seeded" not in log.read_text()


def test_serve_both_refuses_a_port_in_use_before_starting_anything(france):
    cfg, env = france
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", cfg.ncp.port))
        busy.listen()
        line = one_line_error(ncpeh("serve", "--country", "FR", "--listener", "both", env=env))
    assert f"127.0.0.1:{cfg.ncp.port}" in line and "already in use" in line


# --- bad input refused at start ------------------------------------------------------------------


def test_instance_refuses_a_trust_list_without_its_own_country(tmp_path):
    topo = make_topology(tmp_path, ["FR", "DE", "IT"])
    topo.prepare()
    configs = topo.configs
    trustlist.build([configs["FR"], configs["DE"]], configs["FR"].certs_dir, configs["FR"].trust_list)
    it = configs["IT"]
    env = clean_env(NCPEH_HOME=str(tmp_path), NCPEH_PUBLIC_PORT=str(it.public.port), NCPEH_NCP_PORT=str(it.ncp.port))
    for listener in ("public", "ncp", "both"):
        line = one_line_error(ncpeh("serve", "--country", "IT", "--listener", listener, env=env))
        assert str(it.trust_list) in line and "'countries'" in line and "IT" in line, line
    # the local topology reports the same, naming the country that could not start
    with pytest.raises(TopologyError) as info:
        topo.start(timeout=60)
    assert "IT" in str(info.value) and "'countries'" in str(info.value)
    assert all(port_free(port) for cfg in configs.values() for port in (cfg.public.port, cfg.ncp.port))


def write_country(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


SPAIN = """
code = "ES"
name = "España"
languages = ["es", "en"]
[identifier]
scheme = "kvnr"
system = "http://fhir.de/sid/gkv/kvid-10"
search_mask = ["identifier", "birthdate"]
[public]
port = 8446
[ncp]
port = 9446
"""


@pytest.mark.parametrize("edit, field, words", [
    (lambda t: t.replace('name = "España"\n', ""), "name", "is missing"),
    (lambda t: t.replace('["es", "en"]', '["es", "xx"]'), "languages", "supported"),
    (lambda t: t.replace('scheme = "kvnr"', 'scheme = "dni"'), "identifier.scheme", "unknown"),
    (lambda t: t.replace("http://fhir.de/sid/gkv/kvid-10", "urn:oid:2.16.724"), "identifier.system", "must be"),
    (lambda t: t.replace('search_mask = ["identifier", "birthdate"]', ""), "identifier.search_mask", "missing"),
    (lambda t: t.replace('"ES"', '"ESP"'), "code", "two-letter"),
])
def test_demo_refuses_a_bad_country_file_naming_file_and_field(tmp_path, edit, field, words):
    folder = tmp_path / "countries"
    path = write_country(folder, "es.toml", edit(SPAIN))
    env = clean_env(NCPEH_CONFIG_DIR=str(folder))
    line = one_line_error(ncpeh("demo", "--countries", "FR,ES", "--home", str(tmp_path / "home"), env=env))
    assert str(path) in line and f"'{field}'" in line and words in line, line
    assert not (tmp_path / "home").exists(), "refused before anything is written"


def test_demo_refuses_two_countries_with_the_same_code(tmp_path):
    folder = tmp_path / "countries"
    path = write_country(folder, "f2.toml", SPAIN.replace('"ES"', '"FR"'))
    line = one_line_error(ncpeh("demo", "--countries", "FR,F2", "--home", str(tmp_path / "home"),
                                env=clean_env(NCPEH_CONFIG_DIR=str(folder))))
    assert str(path) in line and "'code'" in line and "fr.toml" in line, line
    line = one_line_error(ncpeh("demo", "--countries", "FR,DE,FR", "--home", str(tmp_path / "home"), env=clean_env()))
    assert "--countries" in line and "FR is listed twice" in line


def test_topology_refuses_two_countries_with_the_same_port(tmp_path):
    public, ncp, other = free_ports(3)
    with pytest.raises(ConfigError) as info:
        Topology(["FR", "DE"], tmp_path, {"FR": (public, ncp), "DE": (other, public)})
    message = str(info.value)
    assert "de.toml" in message and "'ncp.port'" in message and f"port {public}" in message, message
