"""The clinician portal in a real browser: Debian's chromium, headless, driven by Playwright, against FR and DE
running under gunicorn over HTTPS (tests/conftest.py).

A German physician signs in on DE's portal (password, then TOTP) and goes through the whole flow in German for
the French fixture patient: France -> the search form built from France's search mask -> the matched identity to
confirm, with France's patient information notice -> the purpose -> the summary, then the PDF. A pharmacist does
the same flow after switching the interface to Portuguese from the language menu, signing in with the keyboard
only. Then the refusals: a patient who opposed cross-border access, and a profession the policy does not allow.
Every page's texts are checked against the catalogs (gateway/translations), so a page that is not translated,
or translated from the wrong catalog, fails. Screenshots of every step go to test-artifacts/portal/.

The browser trusts exactly the test servers' certificates (their SPKI pins), nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyotp
import pytest
from babel.messages.pofile import read_po
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import Browser, expect, sync_playwright

from gateway import i18n
from gateway.surfaces import portal_view
from tests.conftest import OPPOSED_INS, Running

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "portal"
#: The patients stored in France (tests/conftest.py): the traits searched with, and the given names France
#: answers with (all of them).
PATIENT = {"identifier": "284057505612387", "family": "DUPONT", "given": "Marie", "birthdate": "1984-05-12",
           "gender": "female", "given_names": "Marie Louise"}
OPPOSED = {"identifier": OPPOSED_INS, "family": "LEROY", "given": "Jean", "birthdate": "1970-02-13", "gender": "male",
           "given_names": "Jean"}
TIMEOUT_MS = 20_000

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: install the Debian package "
                                "'chromium' (make chromium) to run the portal's browser tests")


# --- the interface's texts, from the catalogs ---------------------------------------------------------


@cache
def _messages(lang: str) -> dict[str, str]:
    with (i18n.SOURCE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    return {m.id: m.string for m in catalog if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def t(lang: str, msgid: str, **values: str) -> str:
    """What the portal shows for ``msgid`` in ``lang`` (the catalog's translation, formatted)."""
    text = _messages(lang).get(msgid)
    assert text, f"the {lang} catalog does not translate {msgid!r}"
    return text % values if values else text


def exact(text: str) -> re.Pattern[str]:
    """A pattern matching ``text`` with any run of white space where it has one (HTML collapses them)."""
    return re.compile(r"^\s*" + r"\s+".join(re.escape(w) for w in text.split()) + r"\s*$")


# --- accounts, created with the real command line ------------------------------------------------------


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    name: str
    totp_secret: str | None = None


def _add_user(countries: Running, code: str, username: str, name: str, role: str, language: str,
              totp: bool = False) -> Account:
    cfg = countries.configs[code]
    digest = hashlib.sha256(username.encode()).hexdigest()
    password = f"browser-{username}-{digest[:12]}"
    ncpeh = Path(sys.executable).with_name("ncpeh")
    command = [str(ncpeh), "users", "add", "-c", code, "--username", username, "--name", name, "--role", role,
               "--professional-id", f"99{int(digest, 16) % 10**7:07d}", "--organisation", "Klinikum Demo",
               "--organisation-id", "urn:oid:1.2.276.0.76.4.8.999", "--language", language, "--password-stdin"]
    if totp:
        command.append("--totp")
    done = subprocess.run(command, input=password + "\n", capture_output=True, text=True, timeout=60,
                          env=countries.topo.process_env(cfg), cwd=countries.topo.home, check=False)
    assert done.returncode == 0, f"ncpeh users add {username}: {done.stdout}{done.stderr}"
    secret = re.search(r"^TOTP secret: (\S+)$", done.stdout, re.M)
    assert not totp or secret, done.stdout
    return Account(username, password, name, secret.group(1) if secret else None)


@pytest.fixture(scope="module")
def browser_accounts(countries: Running) -> dict[str, Account]:
    """Clinicians of DE's portal, only for these tests (no other test locks them out or uses their TOTP steps)."""
    return {
        "physician": _add_user(countries, "DE", "browser-arzt", "Dr. Katrin Vogel", "physician", "de", totp=True),
        "pharmacist": _add_user(countries, "DE", "browser-apotheker", "Tobias Keller", "pharmacist", "de"),
        "secretary": _add_user(countries, "DE", "browser-sekretariat", "Monika Braun", "medical-secretary", "de"),
    }


# --- the browser ---------------------------------------------------------------------------------------


def _spki_pin(cert_file: Path) -> str:
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    der = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


@pytest.fixture(scope="module")
def chromium_browser(countries: Running) -> Iterator[Browser]:
    """Debian's chromium, headless, trusting exactly the certificates of the running countries."""
    expect.set_options(timeout=TIMEOUT_MS)
    pins = ",".join(_spki_pin(cfg.certs.server_cert) for cfg in countries.configs.values())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=[f"--ignore-certificate-errors-spki-list={pins}", "--no-first-run", "--disable-gpu"])
        try:
            yield browser
        finally:
            browser.close()


class Walk:
    """One clinician's browser tab, numbering its screenshots; a last screenshot when a step fails."""

    def __init__(self, browser: Browser, countries: Running, name: str, locale: str = "de-DE") -> None:
        self.browser, self.name, self.locale, self.step = browser, name, locale, 0
        self.base = countries.public("DE")
        for old in ARTIFACTS.glob(f"{name}-*"):
            old.unlink()

    def __enter__(self) -> Walk:
        self.context = self.browser.new_context(accept_downloads=True, locale=self.locale,
                                                viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        try:
            if exc is not None:
                self.shot("failed")
        finally:
            self.context.close()

    def shot(self, label: str) -> None:
        self.step += 1
        self.page.screenshot(path=str(ARTIFACTS / f"{self.name}-{self.step:02d}-{label}.png"), full_page=True)


# --- steps ---------------------------------------------------------------------------------------------


def sign_in(w: Walk, account: Account, lang: str, keyboard: bool = False) -> None:
    page = w.page
    if not page.url.startswith(w.base):
        page.goto(w.base + "/")
    expect(page).to_have_url(re.compile(r"/signin$"))  # not signed in: sent to sign-in
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("h1")).to_have_text(exact(t(lang, "Sign in")))
    w.shot("signin")
    if keyboard:
        page.locator("#username").focus()
        page.keyboard.type(account.username)
        page.keyboard.press("Tab")
        expect(page.locator("#password")).to_be_focused()
        page.keyboard.type(account.password)
        page.keyboard.press("Enter")
    else:
        page.fill("#username", account.username)
        page.fill("#password", account.password)
        page.get_by_role("button", name=t(lang, "Sign in"), exact=True).click()
    if account.totp_secret:
        expect(page.locator("h1")).to_have_text(exact(t(lang, "Second factor")))
        w.shot("second-factor")
        page.fill("#code", pyotp.TOTP(account.totp_secret).now())
        page.get_by_role("button", name=t(lang, "Continue"), exact=True).click()
    expect(page.locator("h1")).to_have_text(exact(t(lang, "Find a patient from another country")))
    expect(page.locator("header")).to_contain_text(account.name)


def choose_france(w: Walk, lang: str, country: str) -> None:
    page = w.page
    w.shot("countries")
    page.get_by_role("link", name=country, exact=True).click()
    expect(page.locator("h1")).to_have_text(exact(t(lang, "Search for a patient insured in %(country)s",
                                                     country=country)))
    # France's search mask: its identifier (INS) and every trait it requires, each with a label
    for field in ("identifier", "family", "given", "birthdate", "gender"):
        expect(page.locator(f"#trait-{field}")).to_be_visible()
        expect(page.locator(f"label[for='trait-{field}']")).not_to_be_empty()
    expect(page.locator("label[for='trait-identifier']")).to_contain_text("INS")


def search(w: Walk, lang: str, patient: dict[str, str]) -> None:
    page = w.page
    page.fill("#trait-identifier", patient["identifier"])
    page.fill("#trait-family", patient["family"])
    page.fill("#trait-given", patient["given"])
    page.fill("#trait-birthdate", patient["birthdate"])
    page.select_option("#trait-gender", patient["gender"])
    w.shot("search-form")
    page.get_by_role("button", name=t(lang, "Search"), exact=True).click()


def confirm(w: Walk, lang: str, country: str, patient: dict[str, str], keyboard: bool = False) -> None:
    page = w.page
    expect(page.locator("h1")).to_have_text(exact(t(lang, "Confirm the patient's identity")))
    identity = page.locator("table.identity")
    expect(identity).to_contain_text(patient["family"])
    expect(identity).to_contain_text(patient["given_names"])
    expect(identity).to_contain_text(patient["identifier"])
    # France's patient information notice, in the clinician's language
    expect(page.locator("#notice-heading")).to_have_text(exact(t(lang, "Patient information notice of %(country)s",
                                                                 country=country)))
    notice = page.locator("section[aria-labelledby='notice-heading']")
    expect(notice).to_contain_text(t(lang, "The patient may refuse: in that case, do not retrieve the summary."))
    w.shot("confirm")
    if keyboard:  # checkboxes and the button with the keyboard only
        page.locator("#identity").focus()
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        expect(page.locator("#notice")).to_be_focused()
        page.keyboard.press("Space")
        expect(page.locator("#identity")).to_be_checked()
        expect(page.locator("#notice")).to_be_checked()
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name=t(lang, "Confirm and continue"), exact=True)).to_be_focused()
        page.keyboard.press("Enter")
    else:
        page.check("#identity")
        page.check("#notice")
        page.get_by_role("button", name=t(lang, "Confirm and continue"), exact=True).click()


def declare(w: Walk, lang: str, purpose: str = "TREATMENT") -> None:
    page = w.page
    expect(page.locator("h1")).to_have_text(exact(t(lang, "Why you need the summary")))
    page.check(f"#purpose-{purpose.lower()}")
    page.check("#relationship")
    w.shot("declare")
    page.get_by_role("button", name=t(lang, "Show the patient summary"), exact=True).click()


def check_summary(w: Walk, lang: str, country: str, patient: dict[str, str]) -> None:
    page = w.page
    expect(page.locator("h1")).to_have_text(exact(t(lang, "Patient summary of %(given)s %(family)s",
                                                     given=patient["given_names"], family=patient["family"])))
    expect(page.locator("html")).to_have_attribute("lang", lang)
    headings = page.locator("section.summary-section h2")
    # the guideline's order: allergies (alerts) first, then results, active problems, medication...
    expect(headings.first).to_have_text(exact(t(lang, "Allergies and intolerances")))
    titles = [h.strip() for h in headings.all_inner_texts()]
    order = [t(lang, m) for m in ("Allergies and intolerances", "Results", "Active problems", "Medication summary")]
    assert [x for x in titles if x in order] == order, titles
    # the original French terms beside the translated ones, marked as French
    assert page.locator(".original [lang='fr']").count() > 0, "no original term marked lang=fr"
    header = page.locator("table.identity").first
    expect(header).to_contain_text(patient["identifier"])
    expect(header).to_contain_text(country)  # country of affiliation, named in the clinician's language
    w.shot("summary")


def _pdf_text(data: bytes, key: str) -> str | None:
    """A document information entry of a PDF (/Title, /Lang...): a literal string or UTF-16 hex."""
    found = re.search(rb"/" + key.encode() + rb"\s*(?:\(((?:\\.|[^\\)])*)\)|<([0-9A-Fa-f]+)>)", data)
    if not found:
        return None
    if found.group(2):
        raw = bytes.fromhex(found.group(2).decode())
        return raw[2:].decode("utf-16-be") if raw.startswith(b"\xfe\xff") else raw.decode("latin-1")
    return re.sub(rb"\\(.)", rb"\1", found.group(1)).decode("latin-1")


def download_pdf(w: Walk, lang: str, patient: dict[str, str]) -> bytes:
    """The PDF of the summary (a real download): a PDF, in the clinician's language, of this patient."""
    page = w.page
    with page.expect_download() as info:
        page.get_by_role("link", name=t(lang, "Download as PDF"), exact=True).click()
    download = info.value
    assert download.failure() is None, download.failure()
    assert download.suggested_filename.endswith(".pdf"), download.suggested_filename
    data = Path(download.path()).read_bytes()
    (ARTIFACTS / f"{w.name}-summary.pdf").write_bytes(data)
    assert data.startswith(b"%PDF-"), data[:32]
    assert b"%%EOF" in data[-1024:] and len(data) > 2000
    assert _pdf_text(data, "Lang") == lang
    assert _pdf_text(data, "Title") == t(lang, "Patient summary of %(given)s %(family)s",
                                         given=patient["given_names"], family=patient["family"])
    return data


# --- the tests -----------------------------------------------------------------------------------------


def country(code: str, lang: str) -> str:
    return portal_view.country_name(code, lang)


def test_whole_flow_in_german_with_pdf(chromium_browser: Browser, countries: Running,
                                       browser_accounts: dict[str, Account]) -> None:
    """A German physician (TOTP) on DE's portal, in German (their preferred language), for the French patient."""
    lang = "de"
    france = country("FR", lang)
    with Walk(chromium_browser, countries, "de-physician") as w:
        sign_in(w, browser_accounts["physician"], lang)
        choose_france(w, lang, france)
        search(w, lang, PATIENT)
        confirm(w, lang, france, PATIENT)
        declare(w, lang)
        check_summary(w, lang, france, PATIENT)
        download_pdf(w, lang, PATIENT)
        # sign out: back to sign-in, and the summary is no longer reachable
        w.page.get_by_role("button", name=t(lang, "Sign out"), exact=True).click()
        expect(w.page.locator("h1")).to_have_text(exact(t(lang, "Sign in")))
        expect(w.page.get_by_role("status")).to_have_text(exact(t(lang, "You have signed out.")))
        w.shot("signed-out")
        w.page.goto(w.base + "/summary")
        expect(w.page).to_have_url(re.compile(r"/signin$"))


def test_whole_flow_switched_to_portuguese_by_keyboard(chromium_browser: Browser, countries: Running,
                                                       browser_accounts: dict[str, Account]) -> None:
    """The language menu switches the interface (kept through sign-in); sign-in and confirmation by keyboard."""
    lang = "pt"
    france = country("FR", lang)
    with Walk(chromium_browser, countries, "pt-pharmacist", locale="en-GB") as w:
        page = w.page
        page.goto(w.base + "/")
        expect(page.locator("html")).to_have_attribute("lang", "en")  # the browser asks for en-GB
        page.select_option("#language-menu", lang)
        page.get_by_role("button", name=t("en", "Change language"), exact=True).click()
        sign_in(w, browser_accounts["pharmacist"], lang, keyboard=True)
        expect(page.locator("html")).to_have_attribute("lang", lang)  # the session's choice over the account's (de)
        choose_france(w, lang, france)
        search(w, lang, PATIENT)
        confirm(w, lang, france, PATIENT, keyboard=True)
        declare(w, lang, purpose="EMERGENCY")
        check_summary(w, lang, france, PATIENT)
        expect(page.locator("main")).to_contain_text(t(lang, "Emergency"))
        download_pdf(w, lang, PATIENT)


def test_opposed_patient_gets_an_explanation(chromium_browser: Browser, countries: Running,
                                             browser_accounts: dict[str, Account]) -> None:
    """A patient who opposed cross-border access: a page saying so, in German, with what to do next."""
    lang = "de"
    france = country("FR", lang)
    with Walk(chromium_browser, countries, "de-opposed") as w:
        page = w.page
        sign_in(w, browser_accounts["pharmacist"], lang)
        choose_france(w, lang, france)
        search(w, lang, OPPOSED)
        expect(page.locator("h1")).not_to_have_text(exact(t(lang, "Search for a patient insured in %(country)s",
                                                             country=france)))
        if page.locator("#identity").count():  # France identifies the patient, then refuses the summary
            confirm(w, lang, france, OPPOSED)
            declare(w, lang)
        expect(page.locator("h1")).to_have_text(exact(t(lang, "The summary cannot be released")))
        expect(page.get_by_role("alert")).to_contain_text(france)
        expect(page.locator("main")).to_contain_text(t(lang, "What to do next"))
        expect(page.locator(".summary-section")).to_have_count(0)
        w.shot("refused")


def test_profession_not_allowed_gets_an_explanation(chromium_browser: Browser, countries: Running,
                                                    browser_accounts: dict[str, Account]) -> None:
    """A medical secretary signs in but may not query: the policy table explained, no search form."""
    lang = "de"
    with Walk(chromium_browser, countries, "de-not-allowed") as w:
        page = w.page
        page.goto(w.base + "/")
        expect(page).to_have_url(re.compile(r"/signin$"))
        page.fill("#username", browser_accounts["secretary"].username)
        page.fill("#password", browser_accounts["secretary"].password)
        page.get_by_role("button", name=t(lang, "Sign in"), exact=True).click()
        expect(page.locator("h1")).to_have_text(exact(t(lang, "Your profession may not retrieve summaries")))
        expect(page.get_by_role("alert")).to_contain_text(t(lang, "Medical secretary"))
        policy_table = page.get_by_role("table")
        expect(policy_table).to_contain_text(t(lang, "Physician"))
        expect(policy_table).to_contain_text(t(lang, "Pharmacist"))
        w.shot("not-allowed")
        page.goto(w.base + "/search/FR")  # not by the address either
        expect(page.locator("h1")).to_have_text(exact(t(lang, "Your profession may not retrieve summaries")))
        expect(page.locator("#trait-identifier")).to_have_count(0)
