"""The portal's clinician session abroad is its sign-in (issue #23): country B sends one HCP identity
assertion for the calls of one sign-in, and a new one after the clinician signs in again. Read from
country A's audit records (real FR and DE under gunicorn)."""

from __future__ import annotations

from urllib.parse import urlsplit

from gateway.audit import events
from tests.conftest import Running
from tests.portal.conftest import DUPONT, Account, Clinician


def _hcp_jtis_at_a(countries: Running, after_seq: int) -> list[str]:
    store = countries.store("FR")
    try:
        return [e.detail["hcp_assertion_jti"] for e in store.audit.entries(after_seq=after_seq)
                if e.event == events.IDENTIFY and e.side == events.RESPONDING]
    finally:
        store.close()


def _signed_in(countries: Running, account: Account) -> Clinician:
    browser = Clinician(countries, "DE")
    page = browser.sign_in(account.username)
    assert urlsplit(page.url).path == "/", (page.status, page.text[:300])
    return browser


def test_one_hcp_assertion_per_portal_sign_in(countries, physician):
    store = countries.store("FR")
    try:
        start = store.audit.high_water()
    finally:
        store.close()
    browser = _signed_in(countries, physician)
    for _ in range(2):
        assert urlsplit(browser.search("FR", **DUPONT).url).path == "/patient"
    again = _signed_in(countries, physician)  # the same clinician signs in again: a new session
    assert urlsplit(again.search("FR", **DUPONT).url).path == "/patient"
    assert urlsplit(browser.search("FR", **DUPONT).url).path == "/patient"  # the first sign-in's session
    first, second, third, fourth = _hcp_jtis_at_a(countries, start)
    assert first == second == fourth != third
