"""Several countries as local processes: the topology behind ``ncpeh demo`` and the test harness.

Each country runs two gunicorn process groups (public and NCPeH listeners). The topology creates
what is missing (PKI, trust list, databases, demo data), starts everything, waits until every
listener's ``/_status`` answers, and stops it all cleanly.

With ``database="postgresql"`` the countries' databases live in a throwaway PostgreSQL cluster made in
``<home>/postgresql`` with Debian's binaries; with ``replicas=N`` (PostgreSQL only) each country runs N
stateless replicas on ports of their own, and HAProxy (``<home>/haproxy``) listens on the country's
configured ports: TCP mode (TLS passes through, so the NCPeH listener still sees the peer's client
certificate: mutual TLS end to end), round robin, health checks on ``/_status``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import click
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gateway import storage
from gateway.config import ConfigError, CountryConfig, client_credentials, country_file, load_config
from gateway.records.synthetic import generate_patient
from gateway.security import pki, trustlist
from gateway.security.assertions import client_jwks
from gateway.server.postgres import Cluster, ClusterError, free_port, make_cluster
from gateway.services.accounts import demo_users_json, ensure_demo_users
from gateway.services.population import seed_population

#: Environment variables a topology passes on to its processes (the rest are set per country).
PASSED_ENV = ("NCPEH_KEY_PASSWORD", "NCPEH_LOG_LEVEL", "NCPEH_PEER_CONNECT_TIMEOUT", "NCPEH_PEER_READ_TIMEOUT",
              "NCPEH_WORKERS", "NCPEH_THREADS", "NCPEH_RATE_PER_MINUTE", "NCPEH_RATE_BURST", "NCPEH_SERVER_TIMING",
              "NCPEH_TOKEN_FAILURES_PER_ADDRESS", "NCPEH_TOKEN_FAILURES_PER_CLIENT",
              "NCPEH_AUDIT_CHECKPOINT_EVERY", "NCPEH_AUDIT_CHECKPOINT_SECONDS")


class TopologyError(Exception):
    pass


DATABASES = ("sqlite", "postgresql")
HAPROXY = ("haproxy", "/usr/sbin/haproxy")
LISTENERS = ("public", "ncp")


@dataclass
class Replica:
    """One replica of a country: its own ports, and its processes once started (name -> process)."""

    code: str
    index: int
    ports: tuple[int, int]  # (public, ncp)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)


@dataclass
class Topology:
    codes: list[str]
    home: Path
    ports: dict[str, tuple[int, int]]  # code -> (public port, ncp port)
    config_dir: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    configs: dict[str, CountryConfig] = field(default_factory=dict)
    processes: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    log_dir: Path | None = None
    #: ``sqlite`` (a file per country) or ``postgresql`` (a cluster in ``<home>/postgresql``, a database per country)
    database: str = "sqlite"
    #: Replicas per country (more than one: PostgreSQL, behind HAProxy on the configured ports)
    replicas: int = 1
    #: The countries that get ``replicas`` (None: every one; the others run once, on their configured ports)
    replicated: tuple[str, ...] | None = None
    cluster: Cluster | None = None
    #: Where the PostgreSQL cluster lives (default ``<home>/postgresql``; its user must be able to reach it)
    cluster_dir: Path | None = None
    replica_sets: dict[str, list[Replica]] = field(default_factory=dict)
    balancer: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        if self.database not in DATABASES:
            raise TopologyError(f"--database must be one of {', '.join(DATABASES)}, got {self.database!r}")
        if not 1 <= self.replicas <= 8:
            raise TopologyError(f"--replicas must be between 1 and 8, got {self.replicas}")
        if self.replicas > 1 and self.database != "postgresql":
            raise TopologyError("--replicas above 1 needs --database postgresql (replicas share one database)")
        self._load_configs()
        self.log_dir = self.log_dir or self.home / "logs"

    def _load_configs(self, urls: Mapping[str, str] | None = None) -> None:
        self.configs = {}
        seen_codes: set[str] = set()
        seen_ports: dict[int, str] = {}
        for code in self.codes:
            if code in seen_codes:
                raise TopologyError(f"--countries: country {code} is listed twice")
            seen_codes.add(code)
            path = country_file(code, self.config_dir)
            public, ncp = self.ports[code]
            overrides: dict[str, object] = {"home": str(self.home), "public.port": public, "ncp.port": ncp}
            if urls and code in urls:
                overrides["database.url"] = urls[code]
            cfg = load_config(path, env=self._passed_env(), overrides=overrides)
            if cfg.code in self.configs:
                raise ConfigError(str(path), "code", f"is {cfg.code}, already the code of {self.configs[cfg.code].source}")
            for port, what in ((cfg.public.port, "public.port"), (cfg.ncp.port, "ncp.port")):
                if port in seen_ports:
                    raise ConfigError(str(path), what, f"port {port} is already used by {seen_ports[port]}")
                seen_ports[port] = f"{cfg.code} {what}"
            self.configs[cfg.code] = cfg

    def _passed_env(self) -> dict[str, str]:
        source = {**os.environ, **self.env}
        return {k: source[k] for k in PASSED_ENV if source.get(k)}

    # --- preparation -------------------------------------------------------------------------

    def prepare(self, patients: int = 0, seed: int = 42) -> list[str]:
        """PKI, trust list, databases, demo data and demo partner clients; returns what it did."""
        done: list[str] = []
        if self.database == "postgresql":
            done += self.start_database()
        first = next(iter(self.configs.values()))
        password = first.key_password
        created = pki.ensure_ca(first.certs_dir, password=password)
        for cfg in self.configs.values():
            created += pki.ensure_country(cfg.certs_dir, cfg.code, hostnames=[cfg.public.host, cfg.ncp.host],
                                          password=password)
        done += [f"{c.action} {c.path}" for c in created if c.action != "kept"]
        trustlist.build(self.configs.values(), first.certs_dir, first.trust_list, key_password=password)
        done.append(f"signed trust list {first.trust_list}")
        for cfg in self.configs.values():
            done += prepare_country(cfg, patients, seed)
        return done

    def start_database(self) -> list[str]:
        """The PostgreSQL cluster in ``<home>/postgresql`` (made or restarted), a database per country."""
        try:
            if self.cluster_dir is not None:
                self.cluster = make_cluster(self.cluster_dir)
            else:  # as root, the cluster's user must traverse the home (and the folders made for it, e.g. var/)
                cwd, home = Path.cwd().resolve(), self.home.resolve()
                top = cwd if cwd in home.parents else home
                self.cluster = make_cluster(self.home / "postgresql", traverse_from=top)
            urls = {}
            for code, cfg in self.configs.items():
                self.cluster.create_database(f"ncpeh_{cfg.slug}")
                urls[code] = self.cluster.url(f"ncpeh_{cfg.slug}")
        except ClusterError as exc:
            raise TopologyError(str(exc)) from None
        self._load_configs(urls)
        return [f"PostgreSQL on 127.0.0.1:{self.cluster.port} (pid {self.cluster.pid()}, data {self.cluster.data})"]

    # --- processes ---------------------------------------------------------------------------

    def process_env(self, cfg: CountryConfig, replica: Replica | None = None) -> dict[str, str]:
        env = {**os.environ, **self.env}
        for var in [v for v in env if v.startswith("NCPEH_") and v not in PASSED_ENV]:
            del env[var]
        env.update({
            "NCPEH_HOME": str(self.home),
            "NCPEH_PUBLIC_PORT": str(cfg.public.port),
            "NCPEH_NCP_PORT": str(cfg.ncp.port),
            "PYTHONUNBUFFERED": "1",
        })
        if self.config_dir:
            env["NCPEH_CONFIG_DIR"] = str(self.config_dir)
        if cfg.database_url:
            env["NCPEH_DATABASE_URL"] = cfg.database_url
        if replica is not None:  # its own ports; the URLs it announces are the balanced ones
            env.update({"NCPEH_PUBLIC_PORT": str(replica.ports[0]), "NCPEH_NCP_PORT": str(replica.ports[1]),
                        "NCPEH_PUBLIC_URL": cfg.public.url, "NCPEH_NCP_URL": cfg.ncp.url})
        return env

    def start(self, timeout: float = 60.0, skip: frozenset[tuple[str, str]] = frozenset()) -> None:
        """Start every listener (but those in ``skip``, as (code, listener)) and wait until healthy; with
        replicas, every replica's listeners, then HAProxy in front of them."""
        assert self.log_dir is not None
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for cfg in self.configs.values():
            if self.replicas > 1 and (self.replicated is None or cfg.code in self.replicated):
                self.replica_sets[cfg.code] = [Replica(cfg.code, n, (free_port(), free_port()))
                                               for n in range(1, self.replicas + 1)]
            for replica in self.replica_sets.get(cfg.code, [None]):
                for listener in LISTENERS:
                    if (cfg.code, listener) in skip:
                        continue
                    name = f"{cfg.code} {listener}" + (f" #{replica.index}" if replica else "")
                    proc = self._serve(cfg, listener, name, replica)
                    self.processes.append((name, proc))
                    if replica is not None:
                        replica.processes[listener] = proc
        try:
            if self.replica_sets:
                self.wait_healthy(timeout, skip, replicas=True)
                self.start_balancer()
            self.wait_healthy(timeout, skip)
        except BaseException:
            self.stop()
            raise

    def _serve(self, cfg: CountryConfig, listener: str, name: str, replica: Replica | None) -> subprocess.Popen:
        log = open(self._log_path(name), "ab")  # noqa: SIM115 - closed below, the child keeps its copy
        try:
            return subprocess.Popen(
                [sys.executable, "-m", "gateway.cli", "serve", "--country", str(cfg.source), "--listener", listener],
                env=self.process_env(cfg, replica), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()

    def restart_replica(self, code: str, index: int, timeout: float = 60.0) -> Replica:
        """Start again a replica whose processes died (e.g. killed by a test), on its own ports."""
        cfg = self.configs[code]
        replica = self.replica_sets[code][index - 1]
        for listener in LISTENERS:
            name = f"{code} {listener} #{index}"
            self.processes = [(n, p) for n, p in self.processes if n != name]
            replica.processes[listener] = proc = self._serve(cfg, listener, name, replica)
            self.processes.append((name, proc))
        self.wait_healthy(timeout, replicas=True)
        return replica

    def _log_path(self, name: str) -> Path:
        assert self.log_dir is not None
        code, listener, *index = name.split()
        return self.log_dir / (f"{code.lower()}-{listener}" + (f"-{index[0].lstrip('#')}" if index else "") + ".log")

    # --- load balancer -----------------------------------------------------------------------

    def haproxy_config(self) -> str:
        """TCP mode on both listeners (TLS passes through to the replicas: the NCPeH listener authenticates the
        peer's client certificate itself), round robin, HTTPS health checks on ``/_status`` with the country's
        client certificate (the NCPeH listener requires one)."""
        directory = self.home / "haproxy"
        lines = ["global", "  maxconn 4096", "", "defaults", "  mode tcp", "  timeout connect 3s",
                 "  timeout client 120s", "  timeout server 120s", "  timeout check 3s", "  retries 2", "  option redispatch", ""]
        for code, replicas in self.replica_sets.items():
            cfg = self.configs[code]
            pem = directory / f"{cfg.slug}-check-client.pem"
            for listener in LISTENERS:
                where = cfg.ncp if listener == "ncp" else cfg.public
                name = f"{cfg.slug}_{listener}"
                lines += [f"frontend {name}", f"  bind {where.host}:{where.port}", f"  default_backend {name}", "",
                          f"backend {name}", "  balance roundrobin", "  option httpchk",
                          "  http-check send meth GET uri /_status ver HTTP/1.1 hdr Host 127.0.0.1",
                          "  http-check expect rstatus ^(200|503)$",  # see deploy/haproxy/country.cfg
                          f"  default-server check check-ssl verify required ca-file {cfg.certs.ca_cert} crt {pem}"
                          " inter 1s fall 2 rise 2 on-marked-down shutdown-sessions"]
                for replica in replicas:
                    port = replica.ports[1] if listener == "ncp" else replica.ports[0]
                    lines.append(f"  server {cfg.slug}-{listener}-{replica.index} 127.0.0.1:{port}")
                lines.append("")
        return "\n".join(lines)

    def start_balancer(self) -> None:
        binary = next((b for b in HAPROXY if shutil.which(b)), None)
        if binary is None:
            raise TopologyError("haproxy not found: run make haproxy (as root: apt-get install haproxy)")
        directory = self.home / "haproxy"
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        for code in self.replica_sets:
            cfg = self.configs[code]
            key = pki.load_private_key(cfg.certs.client_key, cfg.key_password)
            pem = cfg.certs.client_cert.read_bytes() + key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            pki.atomic_write(directory / f"{cfg.slug}-check-client.pem", pem, 0o600)
        path = directory / "haproxy.cfg"
        path.write_text(self.haproxy_config())
        check = subprocess.run([binary, "-c", "-q", "-f", str(path)], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise TopologyError(f"{path}: haproxy refuses it: {check.stderr.strip()[-400:]}")
        assert self.log_dir is not None
        log = open(self.log_dir / "haproxy.log", "ab")  # noqa: SIM115 - the child keeps its copy
        try:
            self.balancer = subprocess.Popen([binary, "-W", "-db", "-f", str(path)], stdout=log, stderr=subprocess.STDOUT,
                                             start_new_session=True)
        finally:
            log.close()
        self.processes.append(("haproxy", self.balancer))

    def status_url(self, cfg: CountryConfig, listener: str) -> str:
        where = cfg.ncp if listener == "ncp" else cfg.public
        return f"https://{where.host}:{where.port}/_status"

    def wait_healthy(self, timeout: float, skip: frozenset[tuple[str, str]] = frozenset(),
                     replicas: bool = False) -> None:
        """Until every listener's ``/_status`` answers 200 (``replicas``: each replica's own address)."""
        deadline = time.monotonic() + timeout
        urls: dict[tuple[str, str], str] = {}
        for code, cfg in self.configs.items():
            for listener in LISTENERS:
                if (code, listener) in skip:
                    continue
                if not replicas:
                    urls[(code, listener)] = self.status_url(cfg, listener)
                    continue
                for replica in self.replica_sets.get(code, []):
                    port = replica.ports[1] if listener == "ncp" else replica.ports[0]
                    urls[(code, f"{listener} #{replica.index}")] = f"https://127.0.0.1:{port}/_status"
        pending = set(urls)
        while pending:
            for name, proc in self.processes:
                if proc.poll() is not None:
                    raise TopologyError(f"{name} exited with code {proc.returncode}: {self.last_log_line(name)}")
            for code, listener in sorted(pending):
                cfg = self.configs[code]
                cert = (str(cfg.certs.client_cert), str(cfg.certs.client_key)) if listener.startswith("ncp") else None
                try:
                    resp = requests.get(urls[(code, listener)], verify=str(cfg.certs.ca_cert),
                                        cert=cert, timeout=2)
                    if resp.status_code == 200:
                        pending.discard((code, listener))
                except requests.RequestException:
                    pass
            if pending and time.monotonic() > deadline:
                names = ", ".join(f"{c} {listener}" for c, listener in sorted(pending))
                raise TopologyError(f"not healthy after {timeout:.0f}s: {names}")
            if pending:
                time.sleep(0.2)

    def last_log_line(self, name: str) -> str:
        assert self.log_dir is not None
        path = self.log_dir / "haproxy.log" if name == "haproxy" else self._log_path(name)
        try:
            lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return "(no log)"
        return lines[-1] if lines else "(empty log)"

    def stop(self, timeout: float = 10.0) -> None:
        for _, proc in self.processes:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        for _, proc in self.processes:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
        self.processes.clear()
        self.balancer = None
        if self.cluster is not None:
            self.cluster.stop("fast")


def _no_synthetic_population(code: str, seed: int) -> str | None:
    """Why the synthetic generator cannot seed this country (a country added by configuration), or None."""
    try:
        generate_patient(code, 0, seed)
    except ValueError as exc:
        return str(exc)
    return None


def prepare_country(cfg: CountryConfig, patients: int, seed: int) -> list[str]:
    """Database, demo data (when empty) and the demo partner client of one country."""
    done = []
    store = storage.open_store(cfg.database, check=True)
    try:
        if patients and store.records.count_patients() == 0:
            missing = _no_synthetic_population(cfg.code, seed)
            if missing:
                done.append(f"{cfg.code}: not seeded ({missing}); import IPS documents with 'ncpeh import -c {cfg.code}'")
            else:
                counts = seed_population(store, cfg, patients, seed)
                done.append(f"{cfg.code}: seeded {counts['imported']} synthetic patients")
        creds_path = cfg.data_dir / "partner-client.json"
        if not creds_path.exists():
            client_id, secret = store.clients.add("demo partner software", ["system/Patient.read"])
            pki.atomic_write(creds_path, json.dumps(client_credentials(cfg, client_id, secret), indent=2).encode(),
                             0o600)
            done.append(f"{cfg.code}: demo partner client written to {creds_path}")
        done += _ensure_partner_key(cfg, store, creds_path)
        done += _ensure_demo_users(cfg, store)
    finally:
        store.close()
    return done


def _ensure_demo_users(cfg: CountryConfig, store) -> list[str]:  # noqa: ANN001
    """Portal accounts (physician with TOTP, pharmacist, nurse, physiotherapist, a secretary the policy
    refuses), written with their demo passwords to <data_dir>/demo-users.json (0600)."""
    accounts = ensure_demo_users(store, cfg)
    if accounts is None:
        return []
    path = cfg.data_dir / "demo-users.json"
    pki.atomic_write(path, demo_users_json(accounts), 0o600)
    return [f"{cfg.code}: {len(accounts)} demo portal accounts written to {path}"]


def demo_users_lines(cfg: CountryConfig) -> list[str]:
    """The demo portal accounts of a country, one line each, for the demo's output."""
    path = cfg.data_dir / "demo-users.json"
    try:
        accounts = json.loads(path.read_text())["accounts"]
    except (OSError, ValueError, KeyError):
        return []
    lines = []
    for a in accounts:
        note = "" if a.get("role_allowed") else "  (role not allowed to query: shows the refusal)"
        totp = f"  TOTP secret {a['totp_secret']}" if a.get("totp_secret") else ""
        lines.append(f"  portal user           {a['username']:<11} {a['password']:<18} {a['name']}, ISCO {a['role']}"
                     f"{totp}{note}")
    return lines


def _ensure_partner_key(cfg: CountryConfig, store, creds_path: Path) -> list[str]:  # noqa: ANN001
    """Give the demo partner client a key for signing clinician assertions (X-Clinician-Assertion)."""
    creds = json.loads(creds_path.read_text())
    key_path = cfg.data_dir / "partner-client.key"
    client = store.clients.get(creds["client_id"])
    if client is None or (key_path.exists() and client.jwks and creds.get("clinician_signing_key")):
        return []
    if key_path.exists():
        key = pki.load_private_key(key_path)
    else:
        key = ec.generate_private_key(ec.SECP256R1())
        pki.atomic_write(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()), 0o600)
    jwks = client_jwks([key.public_key()])
    store.clients.set_jwks(client.client_id, jwks)
    creds.update({"clinician_signing_key": str(key_path), "clinician_key_id": jwks["keys"][0]["kid"],
                  "clinician_assertion_header": "X-Clinician-Assertion"})
    pki.atomic_write(creds_path, json.dumps(creds, indent=2).encode(), 0o600)
    return [f"{cfg.code}: demo partner client can sign clinician assertions with {key_path}"]


def replica_lines(topo: Topology, code: str) -> list[str]:
    """The banner's lines for a country's replicas: each one's own addresses and process ids."""
    lines = []
    replicas = topo.replica_sets.get(code, [])
    if replicas:
        lines.append(f"  balanced by HAProxy   {len(replicas)} replicas (the addresses above); each one's own:")
    for replica in replicas:
        public, ncp = replica.processes.get("public"), replica.processes.get("ncp")
        lines.append(f"    replica {replica.index}           public https://127.0.0.1:{replica.ports[0]}/"
                     f" (pid {public.pid if public else '-'}), NCPeH https://127.0.0.1:{replica.ports[1]}/fhir"
                     f" (pid {ncp.pid if ncp else '-'})")
    return lines


def default_ports(codes: list[str], base_port: int) -> dict[str, tuple[int, int]]:
    return {code: (base_port + i, base_port + 100 + i) for i, code in enumerate(codes)}


def run_demo(codes: list[str], home: Path, base_port: int, patients: int, config_dir: Path | None,
             database: str = "sqlite", replicas: int = 1) -> None:
    topo = Topology(codes, home, default_ports(codes, base_port), config_dir=config_dir, database=database,
                    replicas=replicas)
    click.echo(f"Preparing {', '.join(codes)} in {home} ...")
    for line in topo.prepare(patients=patients):
        click.echo(f"  {line}")
    click.echo("Starting listeners ...")
    stopping = False

    def on_signal(signum, frame):  # noqa: ANN001
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    try:
        topo.start()
    except TopologyError as exc:
        click.echo(f"ncpeh: error: {exc} (logs in {topo.log_dir})", err=True)
        sys.exit(1)
    click.echo("")
    for cfg in topo.configs.values():
        creds = json.loads((cfg.data_dir / "partner-client.json").read_text())
        click.echo(f"{cfg.name} ({cfg.code})")
        click.echo(f"  portal + partner API  {cfg.public.url}/   (FHIR base {cfg.public.url}/fhir)")
        click.echo(f"  NCPeH-to-NCPeH API    {cfg.ncp.url}/fhir   (mutual TLS)")
        click.echo(f"  status                {cfg.public.url}/_status")
        for line in replica_lines(topo, cfg.code):
            click.echo(line)
        click.echo(f"  partner client        {creds['client_id']}  (credentials: {cfg.data_dir}/partner-client.json)")
        click.echo(f"    client_secret       {creds.get('client_secret') or '(none: private_key_jwt)'}")
        click.echo(f"    token_url           {creds['token_url']}")
        click.echo(f"    fhir_base           {creds['fhir_base']}")
        if creds.get("clinician_signing_key"):
            click.echo(f"    signing key         {creds['clinician_signing_key']}  "
                       "(X-Clinician-Assertion and private_key_jwt)")
        for line in demo_users_lines(cfg):
            click.echo(line)
    first = next(iter(topo.configs.values()))
    if topo.cluster is not None:
        click.echo(f"\nPostgreSQL            127.0.0.1:{topo.cluster.port}  (pid {topo.cluster.pid()}, data"
                   f" {topo.cluster.data}; superuser password in {topo.cluster.directory}/superuser-password)")
    if topo.balancer is not None:
        click.echo(f"HAProxy               pid {topo.balancer.pid}  (configuration {home}/haproxy/haproxy.cfg)")
    click.echo(f"\nDemo CA (add to your client's trust store): {first.certs.ca_cert}")
    click.echo(f"Logs: {topo.log_dir}\nAll listeners healthy. Press Ctrl-C to stop.")
    try:
        while not stopping:
            for name, proc in topo.processes:
                if proc.poll() is not None:
                    click.echo(f"ncpeh: error: {name} stopped unexpectedly: {topo.last_log_line(name)}", err=True)
                    stopping = True
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    click.echo("\nStopping ...")
    # a second Ctrl-C (or the same one forwarded by a wrapper) must not cut the stop short: the replicas,
    # the throwaway PostgreSQL cluster and HAProxy would be left running
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    topo.stop()
    click.echo("Stopped.")
