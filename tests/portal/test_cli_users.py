"""`ncpeh users add|list|disable|enable`: accounts made on the command line sign in to the running portal."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import pyotp
from click.testing import CliRunner

from gateway.audit import events
from gateway.cli import main
from tests.portal.conftest import PASSWORD, Clinician, fresh_code, message


def run(countries, *args: str, stdin: str | None = None):
    env = countries.topo.process_env(countries.configs["DE"])
    return CliRunner().invoke(main, list(args), input=stdin, env=env, catch_exceptions=False)


def add_args(username: str, *extra: str, role: str = "physician", language: str = "de") -> list[str]:
    return ["users", "add", "-c", "DE", "--username", username, "--professional-id", f"99{secrets.randbelow(10**7):07d}",
            "--name", "Dr. Jana Neumann", "--role", role, "--organisation", "Praxis Neumann",
            "--organisation-id", "urn:oid:1.2.276.0.76.4.8.997", "--language", language, *extra]


def listing(countries) -> dict[str, list[str]]:
    result = run(countries, "users", "list", "-c", "DE")
    assert result.exit_code == 0, result.output
    return {line.split("\t")[0]: line.split("\t") for line in result.output.splitlines() if line}


def test_add_list_disable_enable(countries):
    username = f"neumann-{secrets.token_hex(3)}"
    added = run(countries, *add_args(username, "--password-stdin"), stdin=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert f"created {username} (Dr. Jana Neumann, ISCO-08 221, de)" in added.output
    assert PASSWORD not in added.output

    row = listing(countries)[username]
    assert row[1:5] == ["active", "221 Medical doctors", "password", "de"] and row[6] == "Dr. Jana Neumann"

    # the account signs in to the running portal; the password is stored as an Argon2id hash
    browser = Clinician(countries, "DE")
    assert urlsplit(browser.sign_in(username).url).path == "/"
    store = countries.store("DE")
    try:
        stored = store.db.conn.execute("SELECT password_hash FROM portal_users WHERE username = ?", (username,)).fetchone()
        assert stored[0].startswith("$argon2id$") and PASSWORD not in stored[0]
        admin = [e for e in store.audit.entries() if e.event.startswith("admin.users")
                 and (e.detail or {}).get("username") == username]
        assert admin, "the administrative command is in the audit trail"
        assert all(PASSWORD not in str(e.detail) for e in admin)
    finally:
        store.close()

    disabled = run(countries, "users", "disable", "-c", "DE", username)
    assert disabled.exit_code == 0 and "disabled" in disabled.output and "sessions ended" in disabled.output
    assert listing(countries)[username][1] == "disabled"
    assert urlsplit(browser.get("/").url).path == "/signin"  # the open session ended at once
    refused = Clinician(countries, "DE").sign_in(username)  # the right password: answered like a wrong one
    assert refused.status == 401
    assert refused.find(id="signin-error").text == message("de", "Wrong username or password.")

    enabled = run(countries, "users", "enable", "-c", "DE", username)
    assert enabled.exit_code == 0 and listing(countries)[username][1] == "active"
    assert urlsplit(Clinician(countries, "DE").sign_in(username).url).path == "/"


def test_add_with_totp_prints_the_secret_once(countries):
    username = f"totp-{secrets.token_hex(3)}"
    added = run(countries, *add_args(username, "--totp", "--generate-password"))
    assert added.exit_code == 0, added.output
    lines = dict(line.split(": ", 1) for line in added.output.splitlines() if ": " in line)
    secret, password = lines["TOTP secret"], lines["password"]
    assert lines["TOTP URI"].startswith("otpauth://totp/") and f"secret={secret}" in lines["TOTP URI"]
    assert pyotp.TOTP(secret).now()  # a valid base32 secret
    assert listing(countries)[username][3] == "totp"
    assert secret not in run(countries, "users", "list", "-c", "DE").output

    browser = Clinician(countries, "DE")
    page = browser.submit(browser.get("/signin"), "/signin", username=username, password=password)
    assert urlsplit(page.url).path == "/signin/code"
    assert urlsplit(browser.submit(page, "/signin/code", code=fresh_code(secret)).url).path == "/"


def test_role_outside_the_policy_is_accepted_with_a_note(countries):
    username = f"mfa-{secrets.token_hex(3)}"
    added = run(countries, *add_args(username, "--password-stdin", role="medical-assistant"), stdin=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert "not allowed by the policy table" in added.output
    assert listing(countries)[username][2] == "3256 (not allowed)"


def test_bad_accounts_are_refused_with_a_reason(countries):
    cases = [
        (add_args("short-pw", "--password-stdin"), "too short\n", "password: at least 12 characters"),
        (add_args("bad name!", "--password-stdin"), PASSWORD + "\n", "username"),
        (add_args("bad-role", "--password-stdin", role="astronaut"), PASSWORD + "\n", "role 'astronaut'"),
        (add_args("bad-lang", "--password-stdin", language="xx"), PASSWORD + "\n", "language 'xx' is not supported"),
    ]
    before = set(listing(countries))
    for args, stdin, reason in cases:
        result = run(countries, *args, stdin=stdin)
        assert result.exit_code != 0 and reason in result.output, (args, result.output)
    assert set(listing(countries)) == before
    duplicate = run(countries, *add_args("physician", "--password-stdin"), stdin=PASSWORD + "\n")
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    unknown = run(countries, "users", "disable", "-c", "DE", "nobody-at-all")
    assert unknown.exit_code == 1 and "no user 'nobody-at-all'" in unknown.output


def test_sign_ins_are_audited_without_secrets(countries):
    username = f"audit-{secrets.token_hex(3)}"
    assert run(countries, *add_args(username, "--password-stdin"), stdin=PASSWORD + "\n").exit_code == 0
    browser = Clinician(countries, "DE")
    browser.sign_in(username, password="a wrong password here")
    page = browser.sign_in(username)
    browser.submit(page, "/signout")
    store = countries.store("DE")
    try:
        user = store.users.get_by_username(username)
        entries = [e for e in store.audit.entries() if e.actor_id == user.professional_id]
    finally:
        store.close()
    kinds = [(e.event, e.outcome_code if e.event == events.LOGIN else None) for e in entries]
    assert (events.LOGIN, "BAD_CREDENTIALS") in kinds and (events.LOGOUT, None) in kinds
    assert any(e.event == events.LOGIN and e.outcome_code is None for e in entries)
    assert all("wrong password" not in str(e.detail) and PASSWORD not in str(e.detail) for e in entries)


def test_new_password_or_second_factor_ends_the_open_sessions(countries):
    """A password or TOTP reset after a leak also shuts out whoever is signed in with the old one."""
    username = f"reset-{secrets.token_hex(3)}"
    assert run(countries, *add_args(username, "--password-stdin"), stdin=PASSWORD + "\n").exit_code == 0
    new_password = "a-new-password-" + secrets.token_hex(4)
    for command, stdin in ((["users", "password", "-c", "DE", username, "--password-stdin"], new_password + "\n"),
                           (["users", "totp", "-c", "DE", username, "--disable"], None)):
        browser = Clinician(countries, "DE")
        assert urlsplit(browser.sign_in(username, password=PASSWORD if stdin else new_password).url).path == "/"
        result = run(countries, *command, stdin=stdin)
        assert result.exit_code == 0, result.output
        assert urlsplit(browser.get("/").url).path == "/signin", command  # the open session ended
    assert urlsplit(Clinician(countries, "DE").sign_in(username, password=new_password).url).path == "/"
