"""``ncpeh clients``: partner software allowed to call the FHIR API (registration, keys, rate, revocation),
and the assertions such software signs (for the demo and manual tests)."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

import click
import jwt
from cryptography.hazmat.primitives import serialization

from gateway import storage
from gateway.cli_common import country_option, fail, friendly_errors, load_country, record_admin
from gateway.config import client_credentials
from gateway.errors import GatewayError
from gateway.security import assertions
from gateway.security.assertions import client_jwks
from gateway.security.pki import load_private_key
from gateway.security.trustlist import key_id


@click.group("clients")
def clients() -> None:
    """Manage partner software allowed to call the FHIR API."""


def _pem_jwks(public_keys: tuple[Path, ...]) -> dict[str, Any]:
    """The JWKS of PEM EC P-256 public keys (exits with a message when one is not)."""
    keys = []
    for path in public_keys:
        try:
            keys.append(serialization.load_pem_public_key(path.read_bytes()))
        except ValueError:
            fail(f"{path}: not a PEM public key")
    try:
        return client_jwks(keys)
    except ValueError as exc:
        fail(str(exc))


@clients.command("add")
@country_option
@click.option("--name", required=True)
@click.option("--scope", "scopes", multiple=True, default=["system/Patient.read"], show_default=True)
@click.option("--public-key", "public_keys", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PEM EC P-256 public key of the client (private_key_jwt and clinician assertions); repeatable.")
@click.option("--no-secret", is_flag=True, help="No client secret: the client authenticates with private_key_jwt only.")
@click.option("--rate-per-minute", type=click.IntRange(1, 1_000_000), default=None,
              help="The client's own rate limit (default: the country's partner_api.rate_per_minute).")
@friendly_errors
def clients_add(country: str, name: str, scopes: tuple[str, ...], public_keys: tuple[Path, ...], no_secret: bool,
                rate_per_minute: int | None) -> None:
    """Register a client; prints its credentials as JSON (the secret is shown only once)."""
    if no_secret and not public_keys:
        fail("--no-secret needs at least one --public-key (the client could not authenticate)")
    jwks = _pem_jwks(public_keys) if public_keys else None
    cfg = load_country(country)
    store = storage.open_store(cfg.database)
    client_id, secret = store.clients.add(name, list(scopes), jwks=jwks, with_secret=not no_secret,
                                          rate_per_minute=rate_per_minute)
    record_admin(cfg, "clients.add", store, action="C", client_id=client_id, scopes=list(scopes),
                 kids=[k["kid"] for k in jwks["keys"]] if jwks else None, rate_per_minute=rate_per_minute)
    store.close()
    click.echo(json.dumps(client_credentials(cfg, client_id, secret), indent=2))


@clients.command("set-rate")
@country_option
@click.argument("client_id")
@click.option("--per-minute", type=click.IntRange(1, 1_000_000), default=None,
              help="Requests per minute; omit to go back to the country's default.")
@friendly_errors
def clients_set_rate(country: str, client_id: str, per_minute: int | None) -> None:
    """Set a client's own rate limit on the partner API."""
    cfg = load_country(country)
    store = storage.open_store(cfg.database)
    try:
        if not store.clients.set_rate(client_id, per_minute):
            fail(f"no client {client_id}", code=1)
        record_admin(cfg, "clients.set-rate", store, action="U", client_id=client_id, rate_per_minute=per_minute)
    finally:
        store.close()
    click.echo(f"{client_id}: {per_minute or cfg.rate_per_minute} requests per minute")


@clients.command("client-assertion")
@country_option
@click.option("--credentials", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Client credentials JSON with 'clinician_signing_key' (default: the demo partner client's).")
@click.option("--key", "key_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PEM private key registered for the client (default: the credentials' signing key).")
@friendly_errors
def clients_client_assertion(country: str, credentials: Path | None, key_path: Path | None) -> None:
    """Print a SMART Backend Services client assertion (private_key_jwt) for /oauth/token."""
    cfg = load_country(country)
    creds = json.loads((credentials or cfg.data_dir / "partner-client.json").read_text())
    path = key_path or (Path(creds["clinician_signing_key"]) if creds.get("clinician_signing_key") else None)
    if path is None:
        fail("no key: give --key (the private key whose public key is registered for the client)")
    key = load_private_key(path)
    now = int(time.time())
    claims = {"iss": creds["client_id"], "sub": creds["client_id"], "aud": creds["token_url"], "iat": now,
              "exp": now + 300, "jti": secrets.token_urlsafe(16)}
    click.echo(jwt.encode(claims, key, algorithm="ES256", headers={"kid": key_id(key.public_key()), "typ": "JWT"}))


@clients.command("list")
@country_option
@friendly_errors
def clients_list(country: str) -> None:
    store = storage.open_store(load_country(country).database)
    for client in store.clients.list():
        state = "active" if client.active else "revoked"
        click.echo(f"{client.client_id}\t{state}\t{' '.join(client.scopes)}\t{client.name}")
    store.close()


@clients.command("set-key")
@country_option
@click.argument("client_id")
@click.option("--public-key", "public_keys", multiple=True, required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PEM EC P-256 public key the client signs clinician assertions with (repeat for rotation).")
@friendly_errors
def clients_set_key(country: str, client_id: str, public_keys: tuple[Path, ...]) -> None:
    """Register the keys with which a partner client signs its X-Clinician-Assertion JWTs."""
    jwks = _pem_jwks(public_keys)
    store = storage.open_store(load_country(country).database)
    try:
        if not store.clients.set_jwks(client_id, jwks):
            fail(f"no client {client_id}", code=1)
        record_admin(load_country(country), "clients.set-key", store, action="U", client_id=client_id,
                     kids=[k["kid"] for k in jwks["keys"]])
    finally:
        store.close()
    click.echo(f"{client_id}: key(s) {', '.join(k['kid'] for k in jwks['keys'])} registered")


@clients.command("clinician-assertion")
@country_option
@click.option("--credentials", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Client credentials JSON with 'clinician_signing_key' (default: the demo partner client's).")
@click.option("--id", "clinician_id", default="demo-hcp-0001", show_default=True)
@click.option("--name", default="Dr. Demo Clinician", show_default=True)
@click.option("--role", default="221", show_default=True, help="ISCO-08 code (see gateway/security/policy.py).")
@click.option("--organisation", default="Demo Hospital", show_default=True)
@click.option("--organisation-id", default="urn:oid:0.0.0.0.1", show_default=True)
@click.option("--language", default="en", show_default=True)
@click.option("--purpose", type=click.Choice(["TREATMENT", "EMERGENCY"]), default="TREATMENT", show_default=True)
@friendly_errors
def clients_clinician_assertion(country: str, credentials: Path | None, clinician_id: str, name: str, role: str,
                                organisation: str, organisation_id: str, language: str, purpose: str) -> None:
    """Print an X-Clinician-Assertion JWT as partner software would sign it (demo and manual tests)."""
    cfg = load_country(country)
    creds_path = credentials or cfg.data_dir / "partner-client.json"
    creds = json.loads(creds_path.read_text())
    if not creds.get("clinician_signing_key"):
        fail(f"{creds_path}: no 'clinician_signing_key' (register one with 'ncpeh clients set-key')")
    key = load_private_key(Path(creds["clinician_signing_key"]))

    try:
        clinician = assertions.Clinician(clinician_id, name, role, organisation, organisation_id, language)
    except GatewayError as exc:
        fail(exc.message)
    click.echo(assertions.clinician_assertion(key, creds["client_id"], creds["fhir_base"], clinician, purpose))


@clients.command("revoke")
@country_option
@click.argument("client_id")
@friendly_errors
def clients_revoke(country: str, client_id: str) -> None:
    store = storage.open_store(load_country(country).database)
    if not store.clients.revoke(client_id):
        fail(f"no client {client_id}", code=1)
    record_admin(load_country(country), "clients.revoke", store, action="U", client_id=client_id)
    click.echo(f"revoked {client_id}")
    store.close()
