"""``ncpeh users``: clinician accounts of the portal (add, list, disable, enable, second factor, password)."""

from __future__ import annotations

import secrets
import sys

import click

from gateway import storage
from gateway.cli_common import country_option, fail, friendly_errors, load_country, record_admin
from gateway.config import CountryConfig
from gateway.security import policy
from gateway.services import accounts


@click.group("users")
def users() -> None:
    """Clinician accounts of the portal (standing for the national login: RPPS / e-CPS, eHBA...)."""


def _open(country: str) -> tuple[CountryConfig, storage.Store]:
    cfg = load_country(country)
    return cfg, storage.open_store(cfg.database)


def _password(password_stdin: bool, generate: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if generate:
        return secrets.token_urlsafe(15)
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users.command("add")
@country_option
@click.option("--username", required=True, help="Sign-in name.")
@click.option("--professional-id", required=True, help="National professional identifier (RPPS in France, LANR...).")
@click.option("--name", required=True, help="Full name, as shown to the foreign country.")
@click.option("--role", required=True,
              help=f"ISCO-08 code or one of {', '.join(policy.ROLE_NAMES)} (see gateway/security/policy.py).")
@click.option("--organisation", required=True)
@click.option("--organisation-id", required=True, help="Identifier of the organisation (e.g. urn:oid:...).")
@click.option("--language", required=True, help="Preferred language of the portal and of translated summaries.")
@click.option("--totp", is_flag=True, help="Enable the TOTP second factor; prints the secret and its otpauth:// URI.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.option("--generate-password", is_flag=True, help="Generate a password and print it (shown once).")
@friendly_errors
def users_add(country: str, username: str, professional_id: str, name: str, role: str, organisation: str,
              organisation_id: str, language: str, totp: bool, password_stdin: bool, generate_password: bool) -> None:
    """Create an account (password hashed with Argon2id)."""
    language = language.strip().lower()
    try:
        code = accounts.resolve_role(role)
        password = _password(password_stdin, generate_password)
        accounts.check_account(username, password, language, code, professional_id=professional_id, name=name,
                               organisation=organisation, organisation_id=organisation_id)
    except accounts.AccountError as exc:
        fail(str(exc))
    cfg, store = _open(country)
    try:
        if store.users.exists(username):
            fail(f"user {username!r} already exists", code=1)
        secret = accounts.new_totp_secret() if totp else None
        user = store.users.add(username, password, professional_id=professional_id, name=name, role=code,
                               organisation=organisation, organisation_id=organisation_id, language=language,
                               totp_secret=accounts.seal_totp_secret(cfg, username, secret) if secret else None)
        record_admin(cfg, "users.add", store, action="C", username=user.username, role=code, totp=bool(secret))
    finally:
        store.close()
    click.echo(f"created {user.username} ({user.name}, ISCO-08 {code}, {language})")
    if not accounts.role_allowed(code):
        click.echo(f"note: role {code} is not allowed by the policy table: this user can sign in but not query")
    if generate_password:
        click.echo(f"password: {password}")
    if secret:
        click.echo(f"TOTP secret: {secret}")
        click.echo(f"TOTP URI: {accounts.provisioning_uri(secret, user.username, cfg.code)}")


@users.command("list")
@country_option
@friendly_errors
def users_list(country: str) -> None:
    """List accounts: username, state, role, second factor, language, name, organisation."""
    _cfg, store = _open(country)
    try:
        for user in store.users.list():
            state = "disabled" if not user.active else "locked" if user.locked() else "active"
            role = f"{user.role} {policy.role_display(user.role)}" if user.role in policy.ROLES \
                else f"{user.role} (not allowed)"
            click.echo("\t".join([user.username, state, role, "totp" if user.totp_enabled else "password",
                                  user.language, user.professional_id, user.name, user.organisation]))
    finally:
        store.close()


def _set_active(country: str, username: str, active: bool) -> None:
    cfg, store = _open(country)
    try:
        if not store.users.set_active(username, active):
            fail(f"no user {username!r}", code=1)
        record_admin(cfg, "users.enable" if active else "users.disable", store, action="U", username=username)
    finally:
        store.close()
    click.echo(f"{'enabled' if active else 'disabled'} {username}" + ("" if active else " (sessions ended)"))


@users.command("disable")
@country_option
@click.argument("username")
@friendly_errors
def users_disable(country: str, username: str) -> None:
    """Disable an account and end its sessions at once."""
    _set_active(country, username, False)


@users.command("enable")
@country_option
@click.argument("username")
@friendly_errors
def users_enable(country: str, username: str) -> None:
    """Enable an account again (and clear a lockout)."""
    _set_active(country, username, True)


@users.command("totp")
@country_option
@click.argument("username")
@click.option("--disable", is_flag=True, help="Remove the second factor instead of (re)creating it.")
@friendly_errors
def users_totp(country: str, username: str, disable: bool) -> None:
    """(Re)create an account's TOTP secret (prints it and its otpauth:// URI), or remove it."""
    cfg, store = _open(country)
    try:
        secret = None if disable else accounts.new_totp_secret()
        user = store.users.get_by_username(username)
        if user is None:
            fail(f"no user {username!r}", code=1)
        sealed = accounts.seal_totp_secret(cfg, user.username, secret) if secret else None
        if not store.users.set_totp(username, sealed):
            fail(f"no user {username!r}", code=1)
        record_admin(cfg, "users.totp", store, action="U", username=username, totp=not disable)
    finally:
        store.close()
    if secret:
        click.echo(f"TOTP secret: {secret}")
        click.echo(f"TOTP URI: {accounts.provisioning_uri(secret, username, cfg.code)}")
    else:
        click.echo(f"second factor removed for {username}")


@users.command("password")
@country_option
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.option("--generate-password", is_flag=True, help="Generate a password and print it (shown once).")
@friendly_errors
def users_password(country: str, username: str, password_stdin: bool, generate_password: bool) -> None:
    """Set a new password."""
    password = _password(password_stdin, generate_password)
    if len(password) < accounts.MIN_PASSWORD_LENGTH:
        fail(f"password: at least {accounts.MIN_PASSWORD_LENGTH} characters")
    cfg, store = _open(country)
    try:
        if not store.users.set_password(username, password):
            fail(f"no user {username!r}", code=1)
        record_admin(cfg, "users.password", store, action="U", username=username)
    finally:
        store.close()
    click.echo(f"password changed for {username}" + (f": {password}" if generate_password else ""))
