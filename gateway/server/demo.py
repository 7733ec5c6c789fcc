"""Several countries as local processes: the topology behind ``ncpeh demo`` and the test harness.

Each country runs two gunicorn process groups (public and NCPeH listeners). The topology creates
what is missing (PKI, trust list, databases, demo data), starts everything, waits until every
listener's ``/_status`` answers, and stops it all cleanly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests

from gateway.config import ConfigError, CountryConfig, country_file, load_config
from gateway.security import pki, trustlist

#: Environment variables a topology passes on to its processes (the rest are set per country).
PASSED_ENV = ("NCPEH_KEY_PASSWORD", "NCPEH_LOG_LEVEL", "NCPEH_PEER_CONNECT_TIMEOUT", "NCPEH_PEER_READ_TIMEOUT",
              "NCPEH_WORKERS", "NCPEH_THREADS", "NCPEH_RATE_PER_MINUTE", "NCPEH_RATE_BURST", "NCPEH_SERVER_TIMING",
              "NCPEH_TOKEN_FAILURES_PER_ADDRESS", "NCPEH_TOKEN_FAILURES_PER_CLIENT",
              "NCPEH_AUDIT_CHECKPOINT_EVERY", "NCPEH_AUDIT_CHECKPOINT_SECONDS")


class TopologyError(Exception):
    pass


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

    def __post_init__(self) -> None:
        seen_codes: set[str] = set()
        seen_ports: dict[int, str] = {}
        for code in self.codes:
            if code in seen_codes:
                raise TopologyError(f"--countries: country {code} is listed twice")
            seen_codes.add(code)
            path = country_file(code, self.config_dir)
            public, ncp = self.ports[code]
            cfg = load_config(path, env=self._passed_env(), overrides={
                "home": str(self.home), "public.port": public, "ncp.port": ncp,
            })
            if cfg.code in self.configs:
                raise ConfigError(str(path), "code", f"is {cfg.code}, already the code of {self.configs[cfg.code].source}")
            for port, what in ((cfg.public.port, "public.port"), (cfg.ncp.port, "ncp.port")):
                if port in seen_ports:
                    raise ConfigError(str(path), what, f"port {port} is already used by {seen_ports[port]}")
                seen_ports[port] = f"{cfg.code} {what}"
            self.configs[cfg.code] = cfg
        self.log_dir = self.log_dir or self.home / "logs"

    def _passed_env(self) -> dict[str, str]:
        source = {**os.environ, **self.env}
        return {k: source[k] for k in PASSED_ENV if source.get(k)}

    # --- preparation -------------------------------------------------------------------------

    def prepare(self, patients: int = 0, seed: int = 42) -> list[str]:
        """PKI, trust list, databases, demo data and demo partner clients; returns what it did."""
        done: list[str] = []
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

    # --- processes ---------------------------------------------------------------------------

    def process_env(self, cfg: CountryConfig) -> dict[str, str]:
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
        return env

    def start(self, timeout: float = 60.0, skip: frozenset[tuple[str, str]] = frozenset()) -> None:
        """Start every listener (but those in ``skip``, as (code, listener)) and wait until healthy."""
        assert self.log_dir is not None
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for cfg in self.configs.values():
            for listener in ("public", "ncp"):
                if (cfg.code, listener) in skip:
                    continue
                log = open(self.log_dir / f"{cfg.slug}-{listener}.log", "ab")  # noqa: SIM115 - closed at stop
                proc = subprocess.Popen(
                    [sys.executable, "-m", "gateway.cli", "serve", "--country", str(cfg.source),
                     "--listener", listener],
                    env=self.process_env(cfg),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                log.close()
                self.processes.append((f"{cfg.code} {listener}", proc))
        try:
            self.wait_healthy(timeout, skip)
        except BaseException:
            self.stop()
            raise

    def status_url(self, cfg: CountryConfig, listener: str) -> str:
        where = cfg.ncp if listener == "ncp" else cfg.public
        return f"https://{where.host}:{where.port}/_status"

    def wait_healthy(self, timeout: float, skip: frozenset[tuple[str, str]] = frozenset()) -> None:
        deadline = time.monotonic() + timeout
        pending = {(code, listener) for code in self.configs for listener in ("public", "ncp")} - set(skip)
        while pending:
            for name, proc in self.processes:
                if proc.poll() is not None:
                    raise TopologyError(f"{name} exited with code {proc.returncode}: {self.last_log_line(name)}")
            for code, listener in sorted(pending):
                cfg = self.configs[code]
                cert = (str(cfg.certs.client_cert), str(cfg.certs.client_key)) if listener == "ncp" else None
                try:
                    resp = requests.get(self.status_url(cfg, listener), verify=str(cfg.certs.ca_cert),
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
        code, listener = name.split()
        assert self.log_dir is not None
        path = self.log_dir / f"{code.lower()}-{listener}.log"
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


def _no_synthetic_population(code: str, seed: int) -> str | None:
    """Why the synthetic generator cannot seed this country (a country added by configuration), or None."""
    from gateway.records.synthetic import generate_patient

    try:
        generate_patient(code, 0, seed)
    except ValueError as exc:
        return str(exc)
    return None


def prepare_country(cfg: CountryConfig, patients: int, seed: int) -> list[str]:
    """Database, demo data (when empty) and the demo partner client of one country."""
    from gateway import storage
    from gateway.services.population import seed_population

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
            from gateway.cli import client_credentials

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
    from gateway.services.accounts import demo_users_json, ensure_demo_users

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
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from gateway.security.assertions import client_jwks

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


def default_ports(codes: list[str], base_port: int) -> dict[str, tuple[int, int]]:
    return {code: (base_port + i, base_port + 100 + i) for i, code in enumerate(codes)}


def run_demo(codes: list[str], home: Path, base_port: int, patients: int, config_dir: Path | None) -> None:
    import click

    topo = Topology(codes, home, default_ports(codes, base_port), config_dir=config_dir)
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
    topo.stop()
    click.echo("Stopped.")
