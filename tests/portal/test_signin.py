"""Sign-in of clinicians (password, TOTP second factor, lockout), session cookies, sign-out."""

from __future__ import annotations

import time
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import pyotp
import requests

from gateway.storage.users import MAX_FAILED_ATTEMPTS
from tests.portal.conftest import PASSWORD, Clinician, Page, add_user, demo_accounts, fresh_code, message


def path(page) -> str:
    return urlsplit(page.url).path


def set_cookies(resp: requests.Response) -> dict[str, str]:
    """Every Set-Cookie header of a response and of the redirects before it, by cookie name."""
    found = {}
    for r in [*resp.history, resp]:
        for header in r.raw.headers.get_all("Set-Cookie") or []:
            found[next(iter(SimpleCookie(header).keys()))] = header
    return found


def test_sign_in_and_sign_out(countries, physician):
    browser = Clinician(countries, "DE")
    assert path(browser.get("/")) == "/signin"  # nothing without a session
    form = browser.get("/signin")
    assert form.find("label", **{"for": "username"}) and form.find("label", **{"for": "password"})
    assert form.find("input", name="password")["autocomplete"] == "current-password"

    page = browser.submit(form, "/signin", username=physician.username, password=PASSWORD)
    assert page.status == 200 and path(page) == "/"
    assert physician.name in page.find("header").text
    stolen = dict(browser.http.cookies)  # the cookie as it is while signed in

    out = browser.submit(page, "/signout")
    assert path(out) == "/signin" and out.find(role="status") is not None
    assert message("de", "You have signed out.") in out.text
    assert path(browser.get("/")) == "/signin"

    # the session is ended on the server: the old cookie does not open it again
    replay = Clinician(countries, "DE")
    replay.http.cookies.update(stolen)
    assert path(replay.get("/")) == "/signin"


def test_session_cookie_flags(countries, physician):
    browser = Clinician(countries, "DE")
    form = browser.get("/signin")
    before = browser.cookie("_session").value
    resp = browser.http.post(browser.url("/signin"), data={**form.form("/signin").fields, "username": physician.username,
                                                            "password": PASSWORD}, headers={"Referer": form.url},
                             timeout=30)
    cookies = set_cookies(resp)
    header = cookies["ncpeh_de_session"]
    attributes = [part.strip().lower() for part in header.split(";")]
    assert "secure" in attributes and "httponly" in attributes and "samesite=lax" in attributes
    assert browser.cookie("_session").value != before  # a new session at sign-in (no fixation)
    assert PASSWORD not in header and physician.username not in header


def test_wrong_password_and_unknown_user_get_the_same_answer(countries, physician):
    browser = Clinician(countries, "DE")
    wrong = browser.sign_in(physician.username, password="not the password at all")
    assert wrong.status == 401 and path(wrong) == "/signin"
    assert wrong.find(id="signin-error").text == message("de", "Wrong username or password.")
    assert wrong.find(id="username")["value"] == physician.username  # kept; the password never is
    assert "not the password" not in wrong.resp.text
    unknown = browser.sign_in("nobody-" + physician.username, password="not the password at all")
    assert unknown.status == 401 and unknown.find(id="signin-error").text == wrong.find(id="signin-error").text
    assert path(browser.sign_in(physician.username)) == "/"  # one failure does not lock


def test_lockout_after_repeated_failures(countries):
    account = add_user(countries, "DE", prefix="locked")
    browser = Clinician(countries, "DE")
    for attempt in range(1, MAX_FAILED_ATTEMPTS + 1):
        page = browser.sign_in(account.username, password=f"wrong password {attempt}")
        assert page.status == (429 if attempt == MAX_FAILED_ATTEMPTS else 401), attempt
    locked = message("de", "Too many failed attempts: this account is locked for 15 minutes.")
    assert page.find(id="signin-error").text == locked
    # now even the right password is refused, until the lock expires (or an administrator enables it)
    page = browser.sign_in(account.username)
    assert page.status == 429 and path(page) == "/signin" and page.find(id="signin-error").text == locked
    store = countries.store("DE")
    try:
        user = store.users.get_by_username(account.username)
        assert user.locked() and store.users.count_sessions(user.id) == 0
    finally:
        store.close()


def test_second_factor_is_required_and_checked(countries):
    account = add_user(countries, "DE", totp=True, prefix="totp")
    browser = Clinician(countries, "DE")
    page = browser.submit(browser.get("/signin"), "/signin", username=account.username, password=PASSWORD)
    assert path(page) == "/signin/code"
    code_field = page.find(id="code")
    assert code_field["autocomplete"] == "one-time-code" and page.find("label", **{"for": "code"})
    assert path(browser.get("/")) == "/signin"  # the password alone does not sign in

    totp = pyotp.TOTP(account.totp_secret)
    valid = {totp.at(time.time() + drift) for drift in (-30, 0, 30)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)
    page = browser.submit(browser.get("/signin/code"), "/signin/code", code=wrong)
    assert page.status == 401 and page.find(id="code-error").text == message("de", "Wrong or already used code.")
    # six digits of other scripts (Arabic-Indic, full-width): str.isdigit() accepts them, the check does not
    for other_digits in ("\u0661\u0662\u0663\u0664\u0665\u0666", "\uff11\uff12\uff13\uff14\uff15\uff16"):
        page = browser.submit(browser.get("/signin/code"), "/signin/code", code=other_digits)
        assert page.status == 401 and page.find(id="code-error").text == message("de", "Wrong or already used code.")
    code = fresh_code(account.totp_secret)
    page = browser.submit(page, "/signin/code", code=code)
    assert path(page) == "/" and page.status == 200

    # the same code cannot be used twice (a code seen over a shoulder or in a log is worth nothing)
    other = Clinician(countries, "DE")
    page = other.submit(other.get("/signin"), "/signin", username=account.username, password=PASSWORD)
    page = other.submit(page, "/signin/code", code=code)
    assert page.status == 401 and path(other.get("/")) == "/signin"


def test_demo_accounts_sign_in(countries):
    """The demo creates accounts per country (README: printed by `make demo`): they sign in."""
    demo = demo_accounts(countries, "DE")
    assert {"physician", "pharmacist", "nurse", "physio", "secretary"} <= set(demo)
    assert demo["physician"]["totp_secret"] and not demo["pharmacist"].get("totp_secret")
    assert demo["secretary"]["role_allowed"] is False
    browser = Clinician(countries, "DE")
    page = browser.sign_in("pharmacist", demo["pharmacist"]["password"])
    assert path(page) == "/" and demo["pharmacist"]["name"] in page.find("header").text
    assert page.find("html")["lang"] == "de"  # the demo accounts speak their country's language


def test_api_paths_neither_read_nor_set_the_portal_session(countries, physician):
    """The portal's cookie session is for the portal: the FHIR APIs and the NCPeH listener are stateless."""
    browser = Clinician(countries, "DE")
    browser.sign_in(physician.username, PASSWORD)
    cookie = browser.cookie("_session")
    public = requests.Session()
    public.trust_env = False
    public.verify = browser.http.verify
    for path, status in (("/fhir/metadata", 200), ("/.well-known/smart-configuration", 200), ("/openapi.json", 200),
                         ("/_status", 200), ("/patient-portal/access-history?patient=x", 401), ("/fhir", 404)):
        resp = public.get(countries.public("DE") + path, headers={"Cookie": f"{cookie.name}={cookie.value}"},
                          timeout=10)
        assert resp.status_code == status, path
        assert "Set-Cookie" not in resp.headers, path
    resp = countries.peer_session("FR").get(countries.ncp("DE") + "/_status", timeout=10,
                                            headers={"Cookie": f"{cookie.name}={cookie.value}"})
    assert resp.status_code == 200 and "Set-Cookie" not in resp.headers
    assert browser.get("/").status == 200  # the portal session itself is intact


def test_only_the_portal_opens_the_cookie_session(countries):
    from flask import request

    from gateway.app import create_app

    cfg = countries.topo.configs["DE"]
    apps = {surface: create_app(cfg, surface) for surface in ("public", "ncp")}
    for surface, path, opened in (("public", "/signin", True), ("public", "/search/FR", True),
                                  ("public", "/fhir/metadata", False), ("public", "/oauth/token", False),
                                  ("public", "/.well-known/smart-configuration", False), ("public", "/_status", False),
                                  ("public", "/patient-portal/access-history", False), ("public", "/fhir", False),
                                  ("public", "/fhirish", True),
                                  ("ncp", "/fhir/Patient", False), ("ncp", "/_status", False)):
        app = apps[surface]
        with app.test_request_context(path):
            assert (app.session_interface.open_session(app, request) is not None) is opened, (surface, path)


def test_signing_in_again_ends_the_previous_session(countries, physician):
    """A second sign-in in the same browser (a form left open on a shared workstation) ends the first
    clinician's session on the server: its cookie no longer opens anything."""
    second = add_user(countries, "DE", name="Dr. Zweite Person", prefix="second")
    browser = Clinician(countries, "DE")
    home = browser.sign_in(physician.username)
    assert path(home) == "/" and physician.name in home.find("header").text
    first_cookie = dict(browser.http.cookies)
    csrf = home.form("/signout").fields["csrf_token"]
    page = Page(browser.http.post(browser.url("/signin"), timeout=30, headers={"Referer": home.url},
                                  data={"csrf_token": csrf, "username": second.username, "password": PASSWORD}))
    assert path(page) == "/" and second.name in page.find("header").text
    replay = Clinician(countries, "DE")
    replay.http.cookies.update(first_cookie)
    assert path(replay.get("/")) == "/signin"


def test_the_page_to_return_to_is_a_plain_path_of_this_site(countries, physician):
    """A crafted path saved as "where to go next" never breaks the sign-in (a newline in a header) nor
    leaves the site (a tab, which browsers drop: "/\t/evil.example" would be "//evil.example")."""
    for crafted in ("/search/%0D%0A", "/search/%20x"):
        browser = Clinician(countries, "DE")
        assert path(browser.get(crafted)) == "/signin"
        page = browser.sign_in(physician.username)
        assert page.status == 200 and path(page) == "/", (crafted, page.status)
    browser = Clinician(countries, "DE")
    browser.get("/search/FR")
    assert path(browser.sign_in(physician.username)) == "/search/FR"  # an ordinary path is still honoured
    for crafted in ("/\t/evil.example", "/\n/evil.example", "/x/../\x7f"):
        page = browser.get("/")
        resp = browser.http.post(browser.url("/language"), timeout=30, allow_redirects=False, headers={"Referer": page.url},
                                 data={**page.form("/language").fields, "language": "de", "next": crafted})
        assert resp.status_code == 302 and resp.headers["Location"] == "/", (crafted, resp.headers.get("Location"))
