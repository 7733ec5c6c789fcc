"""A throwaway PostgreSQL cluster made with Debian's postgresql binaries (demo with replicas, tests).

``initdb`` in a directory of its own, ``pg_ctl start`` on 127.0.0.1 and a free port, a superuser with a
random password (SCRAM), one database per country. PostgreSQL refuses to run as root: as root the
cluster runs as the unprivileged user ``ncpeh-pg`` (created by ``make postgresql``), or ``nobody``.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

INSTALL_HINT = "make postgresql (as root: apt-get install postgresql)"
CLUSTER_USERS = ("ncpeh-pg", "nobody")
SUPERUSER = "ncpeh"


class ClusterError(Exception):
    """The cluster cannot be made or started; the message says what to run."""


def bin_dir() -> Path:
    """The newest installed ``/usr/lib/postgresql/<version>/bin`` holding initdb and pg_ctl."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if not found:
        raise ClusterError(f"PostgreSQL binaries not found (/usr/lib/postgresql/*/bin/initdb): run {INSTALL_HINT}")
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_as() -> list[str]:
    """The command prefix that runs a PostgreSQL binary as a user it accepts."""
    if os.geteuid() != 0:
        return []
    for user in CLUSTER_USERS:
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["runuser", "-u", user, "--"]
    raise ClusterError(f"no unprivileged user to run PostgreSQL as ({', '.join(CLUSTER_USERS)}): run {INSTALL_HINT}")


@dataclass
class Cluster:
    """A running cluster: ``url(dbname)`` connects as its superuser over TCP on 127.0.0.1."""

    directory: Path
    port: int
    password: str

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{dbname}"

    def _ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = [*_run_as(), str(bin_dir() / "pg_ctl"), "-D", str(self.data), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)

    def start(self) -> None:
        log = self.directory / "postgresql.log"
        opts = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.directory}"
                " -c max_connections=200 -c fsync=on")
        done = self._ctl("start", "-w", "-t", "60", "-l", str(log), "-o", opts)
        if done.returncode != 0:
            tail = log.read_text(errors="replace")[-600:] if log.exists() else ""
            raise ClusterError(f"pg_ctl start failed ({done.stderr.strip() or done.stdout.strip()}) {tail}")

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._ctl("stop", "-w", "-m", mode)

    def running(self) -> bool:
        return self._ctl("status").returncode == 0

    def pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def create_database(self, name: str) -> None:
        """Create ``name`` unless it exists."""
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')  # a name the caller chose (country slug)


def make_cluster(directory: Path, port: int | None = None, traverse_from: Path | None = None) -> Cluster:
    """Initialise a cluster in ``directory`` (kept if it exists: a demo restarts on its data) and start it.

    ``traverse_from``: as root, the directories from this one down to ``directory`` are made traversable
    (``o+x``: not listable) for the cluster's user, e.g. a demo home created private."""
    directory.mkdir(parents=True, exist_ok=True)
    if traverse_from is not None and os.geteuid() == 0:
        here = directory.resolve().parent
        top = traverse_from.resolve()
        while here == top or top in here.parents:
            here.chmod(here.stat().st_mode | 0o001)
            here = here.parent
    secret = directory / "superuser-password"
    prefix = _run_as()
    owner = pwd.getpwnam(prefix[2]) if prefix else None
    if not secret.exists():
        secret.write_text(secrets.token_urlsafe(24))
        secret.chmod(0o600)
    cluster = Cluster(directory, port or free_port(), secret.read_text().strip())
    if owner is not None:  # the cluster's user must reach and own its directory
        os.chown(directory, owner.pw_uid, owner.pw_gid)
        os.chown(secret, owner.pw_uid, owner.pw_gid)
        for parent in directory.resolve().parents:
            if parent.stat().st_mode & 0o001 == 0:
                raise ClusterError(f"{parent}: the PostgreSQL user {prefix[2]} cannot traverse it (mode"
                                   f" {parent.stat().st_mode & 0o777:o}); put the cluster elsewhere")
    if not (cluster.data / "PG_VERSION").exists():
        if cluster.data.exists():
            shutil.rmtree(cluster.data)
        cmd = [*prefix, str(bin_dir() / "initdb"), "-D", str(cluster.data), "-U", SUPERUSER, "--auth=scram-sha-256",
               f"--pwfile={secret}", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise ClusterError(f"initdb failed: {done.stderr.strip()[-600:]}")
    elif cluster.pid() and cluster.running():
        cluster.stop("immediate")
    cluster.start()
    deadline = time.monotonic() + 30
    while True:
        try:
            cluster.create_database("postgres")
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    return cluster
