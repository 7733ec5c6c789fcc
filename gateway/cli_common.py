"""What every ``ncpeh`` command shares: the ``main`` group, the country option, error handling and the
audit record of an administrative command.

The command modules (:mod:`gateway.cli`, :mod:`gateway.cli_audit`, :mod:`gateway.cli_clients`, :mod:`gateway.cli_users`,
:mod:`gateway.cli_terminology`, :mod:`gateway.cli_conformance`) import this one and never each other,
except :mod:`gateway.cli`, which registers the others' groups on :data:`main`.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from gateway import audit_trail as trail
from gateway import storage
from gateway.audit.chain import AuditEntry
from gateway.config import ConfigError, CountryConfig, available_countries, country_file, load_config
from gateway.errors import GatewayError
from gateway.records.identifiers import IdentifierError
from gateway.security.pki import PKIError
from gateway.security.secretbox import SecretKeyError
from gateway.security.trustlist import TrustListError
from gateway.server.demo import TopologyError
from gateway.server.gunicorn_app import ServeError
from gateway.storage import StorageError
from terminology import TerminologyError

ENV_COUNTRY = "NCPEH_COUNTRY"
ENV_CONFIG_DIR = "NCPEH_CONFIG_DIR"

#: The project's expected errors: one line on stderr and exit 2, never a traceback.
EXPECTED_ERRORS: tuple[type[Exception], ...] = (
    ConfigError, PKIError, TrustListError, StorageError, ServeError, GatewayError, TopologyError, SecretKeyError,
    TerminologyError,  # e.g. an unreadable imported source at start
    IdentifierError,
)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``ncpeh: error: <message>`` on stderr and exit with ``code``."""
    click.echo(f"ncpeh: error: {message}", err=True)
    sys.exit(code)


def friendly_errors(func: Callable) -> Callable:
    """Turn the project's expected errors into one line on stderr and a non-zero exit."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EXPECTED_ERRORS as exc:
            fail(str(exc))

    return wrapper


def config_dir() -> Path | None:
    """The folder of the country files (``NCPEH_CONFIG_DIR``), or None for the packaged ones."""
    value = os.environ.get(ENV_CONFIG_DIR)
    return Path(value) if value else None


def load_country(code: str, overrides: dict | None = None) -> CountryConfig:
    """The configuration of country ``code`` (or of a TOML file path), with ``NCPEH_*`` overrides."""
    return load_config(country_file(code, config_dir()), overrides=overrides)


def parse_countries(value: str | None) -> list[str]:
    """``"fr, de"`` -> ``["FR", "DE"]``; nothing: every configured country."""
    if not value:
        return available_countries(config_dir())
    return [part.strip().upper() for part in value.split(",") if part.strip()]


country_option = click.option(
    "--country", "-c", envvar=ENV_COUNTRY, required=True,
    help="Country code (FR, DE...) or path to a country TOML file.",
)


def open_store(country: str) -> tuple[CountryConfig, storage.Store]:
    """The country's configuration and its store (checked, migrated); the caller closes the store."""
    cfg = load_country(country)
    return cfg, storage.open_store(cfg.database, check=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ncpeh-gateway")
def main() -> None:
    """ncpeh: a National Contact Point for eHealth (cross-border patient summaries)."""
    private_files()


def private_files() -> None:
    """Everything this process creates (databases and their WAL, keys, secrets, folders) is its owner's
    alone; files meant to be shared (certificates, the trust list) are given their mode explicitly."""
    os.umask(0o077)


def record_admin(cfg: CountryConfig, command: str, store: storage.Store | None = None, *, action: str | None = None,
                 **detail: Any) -> None:
    """Record an administrative command (``admin.<command>``) in the country's audit trail.

    ``store``: the command's open store; without one the database is opened when it exists (a trust
    list can be signed before any database is created). ``detail``: identifiers only, never secrets.
    """
    own = store is None
    if store is None:
        if not storage.exists(cfg.database):
            return
        store = storage.open_store(cfg.database)
    try:
        trail.record_admin(store, cfg.code, command, detail=detail, action=action)
    finally:
        if own:
            store.close()


def consent_draft(recorder: str, patient_id: str, consent: str) -> AuditEntry:
    """The audit record of a consent change made from the command line (for ``set_consent(audit=...)``)."""
    return trail.consent_draft(recorder, patient_id, consent)
