"""Every storage test runs twice: on SQLite and on a real PostgreSQL (see tests/postgres.py)."""

import pytest

from tests.postgres import backend, pg_cluster  # noqa: F401 - fixtures


@pytest.fixture(autouse=True)
def _both_backends(backend: str) -> str:  # noqa: F811 - the imported fixture
    return backend
