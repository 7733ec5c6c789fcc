"""Hostile-case catalogue, portal sign-in and secrets at rest (issue #24, findings 1, 2, 4 and 8).

Against the running FR and DE (real gunicorn over HTTPS). Like the black-box test, the attempts come
from several source addresses of the loopback network (127.x.y.z), each under the per-address limit.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import stat
import subprocess
import sys
import time
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
from requests.adapters import HTTPAdapter

from gateway.audit import events
from gateway.security import secretbox
from gateway.services import accounts
from gateway.storage.users import MAX_FAILED_ATTEMPTS
from tests.portal.conftest import PASSWORD, Clinician, Page, add_user, demo_accounts, fresh_code, message

CSRF = re.compile(r'name="csrf_token" value="[^"]*"')


class _SourceAddress(HTTPAdapter):
    """Connections from a chosen loopback address (the server sees it as the client's address)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - requests' signature
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def addresses():  # noqa: ANN201 - an iterator of fresh loopback addresses
    net = f"127.{secrets.randbelow(200) + 20}.{secrets.randbelow(250) + 1}"
    return iter(f"{net}.{i}" for i in range(2, 250))


def browser_from(countries, address: str) -> Clinician:
    browser = Clinician(countries, "DE")
    browser.http.mount("https://", _SourceAddress(address))
    return browser


def path(page: Page) -> str:
    return urlsplit(page.url).path


def answer(page: Page, username: str) -> tuple[int, str, str]:
    """What a sign-in answer tells: status, page, error; without the per-form CSRF token and the echoed name."""
    body = CSRF.sub('name="csrf_token" value=""', page.resp.text).replace(username, "<name>")
    error = page.find(id="signin-error")
    return page.status, body, error.text if error else ""


def login_codes(countries, professional_id: str) -> list[str | None]:
    store = countries.store("DE")
    try:
        return [e.outcome_code for e in store.audit.entries() if e.event == events.LOGIN and e.actor_id == professional_id]
    finally:
        store.close()


def lock(countries, username: str, source) -> list[int]:  # noqa: ANN001 - an iterator of addresses
    """Fail MAX_FAILED_ATTEMPTS times under ``username``, each time from another address; the statuses."""
    return [browser_from(countries, next(source)).sign_in(username, password=f"wrong password {i}").status
            for i in range(MAX_FAILED_ATTEMPTS)]


# --- finding 1: a locked account answers the same whatever the password ------------------------------------


def test_locked_account_answers_the_same_to_the_right_and_a_wrong_password(countries):
    account = add_user(countries, "DE", prefix="locked-oracle")
    source = addresses()
    assert lock(countries, account.username, source)[-1] == 429
    right = browser_from(countries, next(source)).sign_in(account.username, PASSWORD)
    wrong = browser_from(countries, next(source)).sign_in(account.username, "another wrong password")
    assert answer(right, account.username) == answer(wrong, account.username)
    assert right.status == 429 and path(right) == "/signin"
    assert right.find(id="signin-error").text == message("de", "Too many failed attempts: this account is locked for 15 minutes.")
    store = countries.store("DE")
    try:
        user = store.users.get_by_username(account.username)
        assert user.locked() and store.users.count_sessions(user.id) == 0
    finally:
        store.close()
    # both refusals are in the audit trail, the same way
    assert login_codes(countries, user.professional_id)[-3:] == ["ACCOUNT_LOCKED"] * 3


def test_a_disabled_account_answers_the_same_to_the_right_and_a_wrong_password(countries):
    """Like the lock: a disabled account must not tell whether the password was right (found in review)."""
    account = add_user(countries, "DE", prefix="disabled-oracle")
    store = countries.store("DE")
    try:
        user = store.users.get_by_username(account.username)
        assert store.users.set_active(account.username, False)
    finally:
        store.close()
    source = addresses()
    right = browser_from(countries, next(source)).sign_in(account.username, PASSWORD)
    wrong = browser_from(countries, next(source)).sign_in(account.username, "a wrong password")
    assert answer(right, account.username) == answer(wrong, account.username)
    assert right.status == 401 and path(right) == "/signin"
    assert login_codes(countries, user.professional_id)[-2:] == ["ACCOUNT_DISABLED", "BAD_CREDENTIALS"]


# --- finding 2: no enumeration of names through the lockout ------------------------------------------------


def test_unknown_and_known_names_are_locked_alike(countries):
    account = add_user(countries, "DE", prefix="known-name")
    unknown = "unknown-" + secrets.token_hex(4)
    source = addresses()
    statuses = {name: lock(countries, name, source) for name in (account.username, unknown)}
    assert statuses[account.username] == statuses[unknown] == [401] * (MAX_FAILED_ATTEMPTS - 1) + [429]
    known_page = browser_from(countries, next(source)).sign_in(account.username, "yet another guess")
    unknown_page = browser_from(countries, next(source)).sign_in(unknown, "yet another guess")
    assert answer(known_page, account.username) == answer(unknown_page, unknown)
    assert known_page.status == 429
    # the name is counted as submitted, whatever its case or surrounding spaces
    shouted = browser_from(countries, next(source)).sign_in(f"  {unknown.upper()} ", "a guess")
    assert shouted.status == 429


# --- finding 4: files private, TOTP secrets sealed with a key outside the database --------------------------


def _modes(folder: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(folder.stat().st_mode)}
    for item in folder.rglob("*"):
        found[str(item.relative_to(folder))] = stat.S_IMODE(item.stat().st_mode)
    return found


def test_a_fresh_data_dir_made_by_the_cli_is_private(tmp_path):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("NCPEH_")},
           "NCPEH_HOME": str(tmp_path), "NCPEH_DATA_DIR": str(tmp_path / "var" / "de")}

    def ncpeh(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run([sys.executable, "-m", "gateway.cli", *args], env=env, input=stdin, text=True,
                              capture_output=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    ncpeh("init-db", "-c", "DE")
    ncpeh("users", "add", "-c", "DE", "--username", "private-check", "--professional-id", "999000001", "--name",
          "Dr. P. Rivate", "--role", "physician", "--organisation", "Praxis", "--organisation-id", "urn:oid:1.2.3",
          "--language", "de", "--totp", "--password-stdin", stdin=PASSWORD + "\n")
    data = tmp_path / "var" / "de"
    modes = _modes(data)
    assert {"ncpeh.sqlite3", "totp_key"} <= set(modes), modes
    assert modes["."] == 0o700 and all(mode & 0o077 == 0 for mode in modes.values()), {k: oct(v) for k, v in modes.items()}


def test_the_running_countries_data_is_private(countries):
    """While the servers run, the database has its WAL and -shm files beside it: private too."""
    for code in ("FR", "DE"):
        modes = _modes(countries.configs[code].data_dir)
        assert {"ncpeh.sqlite3", "ncpeh.sqlite3-wal", "ncpeh.sqlite3-shm", "secret_key"} <= set(modes), modes
        assert all(mode & 0o077 == 0 for mode in modes.values()), (code, {k: oct(v) for k, v in modes.items()})


def _database_bytes(countries, code: str) -> bytes:
    data = countries.configs[code].data_dir
    return b"".join(p.read_bytes() for p in sorted(data.glob("ncpeh.sqlite3*")))


def test_totp_secrets_are_not_in_the_database_in_clear(countries):
    account = add_user(countries, "DE", totp=True, prefix="sealed")
    demo = demo_accounts(countries, "DE")["physician"]["totp_secret"]
    raw = _database_bytes(countries, "DE")
    for secret in (account.totp_secret, demo):
        assert secret.encode() not in raw and base64.b32decode(secret) not in raw
    key = countries.configs["DE"].totp_key_path  # outside the database, private
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and key.read_bytes().strip() not in raw
    store = countries.store("DE")
    try:
        stored = store.db.conn.execute("SELECT totp_secret FROM portal_users WHERE username = ?",
                                       (account.username,)).fetchone()[0]
    finally:
        store.close()
    assert secretbox.is_sealed(stored)
    # and the sealed secret still signs in
    page = Clinician(countries, "DE").sign_in(account.username, totp_secret=account.totp_secret)
    assert path(page) == "/" and page.status == 200


def test_a_secret_the_key_does_not_open_refuses_the_sign_in_with_a_page(countries, tmp_path):
    """A lost or replaced key file: the second factor fails closed, with a readable page and an audit record."""
    account = add_user(countries, "DE", prefix="lost-key")
    secret = accounts.new_totp_secret()
    other_key = secretbox.ensure_key(tmp_path / "another_totp_key")
    store = countries.store("DE")
    try:
        assert store.users.set_totp(account.username, secretbox.seal(other_key, secret, "portal-totp:" + account.username))
        professional_id = store.users.get_by_username(account.username).professional_id
    finally:
        store.close()
    browser = Clinician(countries, "DE")
    page = browser.sign_in(account.username)
    assert path(page) == "/signin/code"
    page = browser.submit(page, "/signin/code", code=fresh_code(secret))
    assert page.status == 503 and path(browser.get("/")) == "/signin"
    assert page.find(id="signin-error").text == message(
        "de", "Sign-in with a second factor is not possible at the moment. Contact your administrator.")
    assert "Traceback" not in page.resp.text and secret not in page.resp.text
    assert login_codes(countries, professional_id)[-1] == "SECOND_FACTOR_UNAVAILABLE"
    log = (countries.topo.log_dir / "de-public.log").read_text(errors="replace")
    assert "restore the key file" in log and secret not in log


# --- finding 8: the state between password and second factor is server-side and used once -----------------


def _cookie_payload(value: str) -> dict:
    """The data of Flask's signed session cookie (readable by anyone holding it; only signed)."""
    body = value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    return json.loads(zlib.decompress(raw) if value.startswith(".") else raw)


def test_the_cookie_of_the_password_step_cannot_be_replayed(countries):
    account = add_user(countries, "DE", totp=True, prefix="replay-2fa")
    victim = Clinician(countries, "DE")
    page = victim.submit(victim.get("/signin"), "/signin", username=account.username, password=PASSWORD)
    assert path(page) == "/signin/code"
    copied = dict(victim.http.cookies)  # copied after the password step
    copied_form = page.form("/signin/code").fields  # its CSRF token too
    state = _cookie_payload(victim.cookie("_session").value)
    assert "pending_signin" in state and "uid" not in json.dumps(state)  # a random id, nothing else

    home = victim.submit(page, "/signin/code", code=fresh_code(account.totp_secret))
    assert path(home) == "/"

    attacker = Clinician(countries, "DE")
    attacker.http.cookies.update(copied)
    assert path(attacker.get("/signin/code")) == "/signin"
    totp = pyotp.TOTP(account.totp_secret)
    later = totp.generate_otp(int(time.time() // totp.interval) + 1)  # accepted (clock drift), never used
    replay = attacker.raw_post("/signin/code", {**copied_form, "code": later}, headers={"Referer": page.url})
    assert path(replay) == "/signin" and path(attacker.get("/")) == "/signin"
    assert path(victim.get("/")) == "/"  # the clinician's own session is untouched


def test_a_new_password_step_voids_the_previous_one(countries):
    account = add_user(countries, "DE", totp=True, prefix="again-2fa")
    browser = Clinician(countries, "DE")
    page = browser.submit(browser.get("/signin"), "/signin", username=account.username, password=PASSWORD)
    copied = dict(browser.http.cookies)
    page = browser.submit(browser.get("/signin"), "/signin", username=account.username, password=PASSWORD)
    assert path(page) == "/signin/code"
    attacker = Clinician(countries, "DE")
    attacker.http.cookies.update(copied)
    assert path(attacker.get("/signin/code")) == "/signin"
    assert path(browser.submit(page, "/signin/code", code=fresh_code(account.totp_secret))) == "/"
