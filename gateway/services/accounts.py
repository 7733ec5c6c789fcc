"""Clinician accounts of the portal: validation, sign-in (password, second factor, lockout), demo accounts.

The accounts stand for the national login of health professionals (in France Pro Santé Connect
with an e-CPS, in Germany the eHBA): the storage is :class:`gateway.storage.users.UserStore`.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyotp

from gateway.config import CountryConfig
from gateway.security import policy, secretbox
from gateway.storage.signin_names import signin_name
from gateway.storage.users import User, UserStore
from terminology.model import SUPPORTED_LANGUAGES

MIN_PASSWORD_LENGTH = 12
TOTP_ISSUER = "NCPeH"
USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_@")

#: ISCO-08 codes the command line knows by name (``--role physician``): the policy's table of occupations.
ROLE_ALIASES = policy.ROLE_NAMES

log = logging.getLogger("ncpeh")


class AccountError(ValueError):
    """An account that cannot be created as given (the message says which field and why)."""


class TotpUnavailable(Exception):
    """An account's TOTP secret cannot be opened (key file lost, replaced or unreadable): its sign-in is
    refused. The message is for the operator (it names the key file, never a secret)."""


def _ascii_digits(text: str) -> bool:
    """ASCII digits only (``str.isdigit`` also accepts superscripts and other scripts' digits)."""
    return text.isascii() and text.isdigit()


def resolve_role(value: str) -> str:
    code = ROLE_ALIASES.get(value.strip().lower(), value.strip())
    if not _ascii_digits(code) or not 1 <= len(code) <= 4:
        raise AccountError(f"role {value!r} is neither an ISCO-08 code nor one of {', '.join(sorted(ROLE_ALIASES))}")
    return code


def check_account(username: str, password: str, language: str, role: str, **texts: str) -> None:
    if not username or len(username) > 64 or set(username.lower()) - USERNAME_CHARS:
        raise AccountError("username: 1 to 64 characters among letters, digits and . - _ @")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if language not in SUPPORTED_LANGUAGES:
        raise AccountError(f"language {language!r} is not supported; supported: {', '.join(SUPPORTED_LANGUAGES)}")
    resolve_role(role)
    for name, value in texts.items():
        if not value or not value.strip() or len(value) > 256 or any(ord(ch) < 32 for ch in value):
            raise AccountError(f"{name.replace('_', '-')}: 1 to 256 printable characters")


def role_allowed(role: str) -> bool:
    """Whether the policy table lets this role retrieve summaries at all (for listings)."""
    return role in policy.ROLES


# --- second factor ---------------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str, country: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=f"{username} ({country})", issuer_name=f"{TOTP_ISSUER} {country}")


def _totp_context(username: str) -> str:
    return "portal-totp:" + username.lower()


def seal_totp_secret(cfg: CountryConfig, username: str, secret: str) -> str:
    """The form a TOTP secret is stored in: sealed with the country's TOTP key (created when missing)."""
    try:
        key = secretbox.ensure_key(cfg.totp_key_path)
    except OSError as exc:
        raise secretbox.SecretKeyError(f"{cfg.totp_key_path}: key file cannot be created ({exc.strerror})") from None
    return secretbox.seal(key, secret, _totp_context(username))


def totp_secret(cfg: CountryConfig, user: User) -> str:
    """The account's TOTP secret in clear, for checking a code; :class:`TotpUnavailable` when it cannot be opened."""
    stored = user.totp_secret or ""
    if not secretbox.is_sealed(stored):
        return stored  # written before secrets were sealed, and not sealed yet (see seal_plaintext_totp_secrets)
    try:
        return secretbox.unseal(secretbox.load_key(cfg.totp_key_path), stored, _totp_context(user.username))
    except (secretbox.SecretKeyError, secretbox.SealedSecretError) as exc:
        raise TotpUnavailable(f"TOTP secret of {user.username!r} cannot be opened: {exc}; restore the key file "
                              f"{cfg.totp_key_path} or issue a new secret with 'ncpeh users totp'") from None


def seal_plaintext_totp_secrets(users: UserStore, cfg: CountryConfig) -> int:
    """Seal the TOTP secrets a database made before sealing still holds in clear; returns how many."""
    sealed = 0
    for user_id, username, secret in users.plaintext_totp_secrets():
        if users.replace_totp_secret(user_id, secret, seal_totp_secret(cfg, username, secret)):
            sealed += 1
    if sealed:
        log.info("sealed %d TOTP secret(s) stored in clear, with the key %s", sealed, cfg.totp_key_path)
    return sealed


def totp_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step a 6-digit code belongs to (one step of clock drift either way), or None."""
    code = "".join(ch for ch in (code or "") if not ch.isspace())
    if len(code) != 6 or not _ascii_digits(code):
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    current = int(now // totp.interval)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


# --- sign-in ---------------------------------------------------------------------------------------

#: What a sign-in step ends in (the portal's page for each): signed in, second factor asked, or refused.
SIGNED_IN, SECOND_FACTOR = "signed-in", "second-factor"
THROTTLED, LOCKED, WRONG, UNAVAILABLE, ENDED = "throttled", "locked", "wrong", "unavailable", "ended"

#: Writes the audit record of a sign-in attempt: ``record(actor, success=, code=, role=, organisation=,
#: method=)``; the portal passes :func:`gateway.audit_trail.record_login`, which adds the request's context.
LoginRecorder = Callable[..., None]


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in step (``SIGNED_IN``... ``ENDED``) and the account it is about, if any."""

    outcome: str
    user: User | None = None


def sign_in_password(users: UserStore, username: str, password: str, address: str | None,
                     record: LoginRecorder) -> SignIn:
    """Password step, recorded in the audit trail. The attempt is counted before the password is checked
    (:meth:`UserStore.reserve_attempt`: concurrent attempts never check more than the maximum) and taken back
    when it is right. A locked name gets the same answer whatever the password (it is not even checked, but a
    dummy hash is, so that the answer takes as long), and names are locked alike whether an account has them
    or not; a disabled account answers like a wrong password."""
    name = signin_name(username)
    attempt = users.reserve_attempt(name, address)
    if attempt.refused == "RATE_LIMITED":
        record("unknown", success=False, code="RATE_LIMITED", method="password")
        return SignIn(THROTTLED)
    known = users.get_by_username(username) if username else None
    actor, role = (known.professional_id, known.role) if known else ("unknown", None)
    if attempt.refused is not None:
        users.spend_password_check(password)
        record(actor, success=False, code="ACCOUNT_LOCKED", role=role, method="password")
        return SignIn(LOCKED)
    user = users.check_password(username, password) if username and password else None
    if user is None or not user.active:
        code = "ACCOUNT_LOCKED" if attempt.locked_now else "ACCOUNT_DISABLED" if user is not None else "BAD_CREDENTIALS"
        record(actor, success=False, code=code, role=role, method="password")
        return SignIn(LOCKED if attempt.locked_now else WRONG)
    users.release_attempt(name, attempt)
    return SignIn(SECOND_FACTOR if user.totp_enabled else SIGNED_IN, user)


def sign_in_code(users: UserStore, cfg: CountryConfig, user: User | None, code: str, address: str | None,
                 record: LoginRecorder) -> SignIn:
    """Second-factor step for the account whose password was right (``user``), recorded in the audit trail;
    the attempt counts against the name and the address like a password's, before the code is checked.
    ``ENDED``, ``LOCKED`` and ``UNAVAILABLE`` use up the pending sign-in; ``WRONG`` lets the clinician retry."""
    if user is None or not user.active or not user.totp_secret:
        return SignIn(ENDED)
    if user.locked():
        return SignIn(LOCKED, user)
    try:
        secret = totp_secret(cfg, user)
    except TotpUnavailable as exc:
        log.error("second-factor sign-in refused: %s", exc)
        record(user.professional_id, success=False, code="SECOND_FACTOR_UNAVAILABLE", role=user.role,
               method="totp")
        return SignIn(UNAVAILABLE, user)
    name = signin_name(user.username)
    attempt = users.reserve_attempt(name, address, throttle=False)
    if attempt.refused is not None:
        record(user.professional_id, success=False, code="ACCOUNT_LOCKED", role=user.role, method="totp")
        return SignIn(LOCKED, user)
    step = totp_step(secret, code)
    if step is None or not users.accept_totp_step(user.id, step):
        record(user.professional_id, success=False,
               code="ACCOUNT_LOCKED" if attempt.locked_now else "BAD_SECOND_FACTOR", role=user.role, method="totp")
        return SignIn(LOCKED if attempt.locked_now else WRONG, user)
    users.release_attempt(name, attempt)
    return SignIn(SIGNED_IN, user)


def signed_in(users: UserStore, user: User, method: str, record: LoginRecorder) -> None:
    """A completed sign-in: the failure counters reset, the success recorded in the audit trail."""
    users.record_success(user.id)
    record(user.professional_id, success=True, role=user.role, organisation=user.organisation_id, method=method)


# --- demo accounts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    names: dict[str, str]  # country code -> name
    totp: bool = False


#: One account per kind of user the demo shows: the administrative role is NOT allowed by the policy.
DEMO_ACCOUNTS = (
    DemoAccount("physician", "221", {"FR": "Dr Claire Moreau", "DE": "Dr. Anna Schmidt", "IT": "Dott.ssa Giulia Ricci"},
                totp=True),
    DemoAccount("pharmacist", "2262", {"FR": "Julien Petit", "DE": "Jonas Becker", "IT": "Marco Bianchi"}),
    DemoAccount("nurse", "2221", {"FR": "Sophie Laurent", "DE": "Lena Wagner", "IT": "Chiara Romano"}),
    DemoAccount("physio", "2264", {"FR": "Thomas Girard", "DE": "Felix Hoffmann", "IT": "Luca Conti"}),
    DemoAccount("secretary", "3344", {"FR": "Nadia Benali", "DE": "Petra Klein", "IT": "Sara Gallo"}),
)
_ORGANISATIONS = {
    "FR": ("Centre hospitalier de démonstration", "urn:oid:1.2.250.1.71.4.2.2.999"),
    "DE": ("Klinikum Demo", "urn:oid:1.2.276.0.76.4.8.999"),
    "IT": ("Ospedale Dimostrativo", "urn:oid:2.16.840.1.113883.2.9.4.1.999"),
}


def demo_professional_id(code: str, index: int) -> str:
    """A plausible-looking, obviously synthetic professional identifier (RPPS in France, LANR in Germany)."""
    if code == "FR":
        return f"1099999{index:04d}"  # RPPS: 11 digits
    if code == "DE":
        return f"99999{index:02d}01"  # LANR-like: 9 digits
    return f"{code}-DEMO-{index:04d}"


def ensure_demo_users(store, cfg) -> list[dict[str, Any]] | None:  # noqa: ANN001 - a storage.Store, a CountryConfig
    """Create the demo accounts when the country has none; returns them with their passwords, else None."""
    if store.users.list():
        return None
    organisation, organisation_id = _ORGANISATIONS.get(cfg.code, (f"Demo hospital ({cfg.name})",
                                                                  f"urn:ncpeh-demo:{cfg.code}:org"))
    created = []
    for index, account in enumerate(DEMO_ACCOUNTS, start=1):
        password = "demo-" + secrets.token_urlsafe(9)
        secret = new_totp_secret() if account.totp else None
        user = store.users.add(
            account.username, password, professional_id=demo_professional_id(cfg.code, index),
            name=account.names.get(cfg.code, f"Demo {account.username.capitalize()}"), role=account.role,
            organisation=organisation, organisation_id=organisation_id, language=cfg.default_language,
            totp_secret=seal_totp_secret(cfg, account.username, secret) if secret else None,
        )
        entry = {"username": user.username, "password": password, "name": user.name, "role": user.role,
                 "role_allowed": role_allowed(user.role), "professional_id": user.professional_id,
                 "language": user.language, "portal": cfg.public.url + "/"}
        if secret:
            entry["totp_secret"] = secret
            entry["totp_uri"] = provisioning_uri(secret, user.username, cfg.code)
        created.append(entry)
    return created


def demo_users_json(accounts: list[dict[str, Any]]) -> bytes:
    return json.dumps({"accounts": accounts}, indent=2, ensure_ascii=False).encode()
