"""Fixtures running tests against both storage backends: SQLite and a real PostgreSQL cluster.

The cluster is started once per test session from Debian's postgresql binaries (initdb, pg_ctl) in a
throwaway directory, on 127.0.0.1 and a free port; each test gets a database of its own. Without the
binaries the PostgreSQL half is skipped locally and fails in CI (``CI=true``) with the command to run.
Use in a conftest: ``from tests.postgres import backend, pg_cluster  # noqa: F401``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.config import CountryConfig, country_file, load_config
from gateway.server.postgres import INSTALL_HINT, Cluster, ClusterError, make_cluster

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    directory = Path(tempfile.mkdtemp(prefix="ncpeh-test-pg-"))  # under /tmp: reachable by the cluster's user
    try:
        cluster = make_cluster(directory)
    except ClusterError as exc:
        shutil.rmtree(directory, ignore_errors=True)
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"PostgreSQL cluster for the storage tests: {exc} (install with: {INSTALL_HINT})")
        pytest.skip(f"PostgreSQL cluster unavailable: {exc} (install with: {INSTALL_HINT})")
    try:
        yield cluster
    finally:
        cluster.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)


def fresh_database(cluster: Cluster) -> str:
    """The URL of a new, empty database of ``cluster``."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    cluster.create_database(name)
    return cluster.url(name)


class _PerHome:
    """On PostgreSQL, each installation (``NCPEH_HOME``) a test makes gets a database of its own, as each gets
    its own SQLite file."""

    def __init__(self) -> None:
        self.cluster: Cluster | None = None
        self.default: str | None = None
        self.homes: dict[str, str] = {}


_per_home = _PerHome()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``sqlite`` or ``postgresql``; with PostgreSQL, ``NCPEH_DATABASE_URL`` names a fresh database for this
    test (the ``ncpeh`` commands the test runs inherit it; :func:`country` and :func:`home_env` read it)."""
    if request.param == "postgresql":
        cluster = request.getfixturevalue("pg_cluster")
        _per_home.cluster, _per_home.default, _per_home.homes = cluster, fresh_database(cluster), {}
        monkeypatch.setenv("NCPEH_DATABASE_URL", _per_home.default)
    else:
        monkeypatch.delenv("NCPEH_DATABASE_URL", raising=False)
    yield request.param
    _per_home.cluster = _per_home.default = None


def home_env(home: Path) -> dict[str, str]:
    """The environment of an ``ncpeh`` command for the installation in ``home`` on the test's backend."""
    env = {"NCPEH_HOME": str(home)}
    url = os.environ.get("NCPEH_DATABASE_URL")
    if url and url == _per_home.default and _per_home.cluster is not None:  # not a URL the test set itself
        key = str(Path(home).resolve())
        if key not in _per_home.homes:
            _per_home.homes[key] = url if not _per_home.homes else fresh_database(_per_home.cluster)
        url = _per_home.homes[key]
    if url:
        env["NCPEH_DATABASE_URL"] = url
    return env


def country(code: str, home: Path) -> CountryConfig:
    """A packaged country's configuration in ``home``, on the test's backend (see :func:`backend`)."""
    return load_config(country_file(code), env=home_env(home))
