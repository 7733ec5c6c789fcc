"""Portal helpers: a clinician's browser session (requests + the standard HTML parser), accounts.

The portal is driven over HTTPS against the real running countries of ``tests/conftest.py``
(``countries``: FR and DE under gunicorn); pages are parsed to find forms, their CSRF token and
their one-time nonce, exactly as a browser would send them back.
"""

from __future__ import annotations

import copy
import json
import secrets
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pyotp
import pytest
import requests
from babel.support import NullTranslations, Translations

from gateway import i18n
from gateway.services import accounts
from gateway.services.population import store_documents
from tests.conftest import OPPOSED_INS, Running, load_fixture

FR_INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
INS = "284057505612387"
DUPONT = {"identifier": INS, "family": "DUPONT", "given": "Marie", "birthdate": "1984-05-12", "gender": "female"}
LEROY = {"identifier": OPPOSED_INS, "family": "LEROY", "given": "Jean", "birthdate": "1970-02-13", "gender": "male"}
PASSWORD = "correct horse battery staple"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    parent: Element | None = field(default=None, repr=False)

    def __getitem__(self, name: str) -> str:
        return self.attrs[name]

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)

    def lang(self) -> str | None:
        """The language in effect for this element (its own ``lang`` or its nearest ancestor's)."""
        node: Element | None = self
        while node is not None:
            if "lang" in node.attrs:
                return node.attrs["lang"]
            node = node.parent
        return None


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str]
    element: Element


class Page(HTMLParser):
    """A parsed portal page: every element (with its text), the forms and their fields."""

    def __init__(self, resp: requests.Response) -> None:
        super().__init__(convert_charrefs=True)
        self.resp = resp
        self.url = resp.url
        self.elements: list[Element] = []
        self.forms: list[Form] = []
        self._stack: list[Element] = []
        self._form: Form | None = None
        self._select: str | None = None
        self.feed(resp.text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, parent=self._stack[-1] if self._stack else None)
        self.elements.append(element)
        if tag == "form":
            self._form = Form(element.get("action") or self.url, (element.get("method") or "get").lower(), {}, element)
            self.forms.append(self._form)
        if self._form is not None and tag in ("input", "select", "textarea", "button") and element.get("name"):
            kind = element.get("type", "text")
            if tag == "input" and (kind not in ("checkbox", "radio") or "checked" in element.attrs):
                self._form.fields.setdefault(element["name"], element.get("value", ""))
            if tag == "select":
                self._select = element["name"]
        if self._form is not None and tag == "option" and self._select:
            # a browser sends the selected option, else the first one
            if "selected" in element.attrs or self._select not in self._form.fields:
                self._form.fields[self._select] = element.get("value", "")
        if tag not in VOID:
            self._stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        if tag == "select":
            self._select = None
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i].tag == tag:
                del self._stack[i:]
                break

    def handle_data(self, data: str) -> None:
        for element in self._stack:
            element.text += data

    # --- queries -------------------------------------------------------------------------------------

    @property
    def status(self) -> int:
        return self.resp.status_code

    @property
    def text(self) -> str:
        main = self.find("main")
        return " ".join((main.text if main else self.resp.text).split())

    @property
    def title(self) -> str:
        h1 = self.find("h1")
        return " ".join(h1.text.split()) if h1 else ""

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        return [e for e in self.elements if (tag is None or e.tag == tag)
                and all(e.attrs.get(k.rstrip("_").replace("_", "-")) == v for k, v in attrs.items())]

    def find(self, tag: str | None = None, **attrs: str) -> Element | None:
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def form(self, action: str) -> Form:
        """The form posting to ``action`` (a path)."""
        for form in self.forms:
            if urlsplit(urljoin(self.url, form.action)).path == action:
                return form
        raise AssertionError(f"no form posting to {action} on {self.url} ({self.status}): {self.text[:300]}")


class Clinician:
    """One browser: a cookie jar, the demo CA, no proxies from the environment."""

    def __init__(self, running: Running, code: str = "DE", language: str | None = None) -> None:
        self.running = running
        self.base = running.public(code)
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.verify = running.ca(code)
        if language:
            self.http.headers["Accept-Language"] = language

    def url(self, path: str) -> str:
        return urljoin(self.base + "/", path.lstrip("/"))

    def get(self, path: str, **kwargs) -> Page:
        return Page(self.http.get(self.url(path), timeout=30, **kwargs))

    def raw_post(self, path: str, data: dict[str, str], **kwargs) -> Page:
        return Page(self.http.post(self.url(path), data=data, timeout=30, **kwargs))

    def submit(self, page: Page, action: str, **values: str) -> Page:
        """Fill in and send the form of ``page`` that posts to ``action`` (hidden fields included)."""
        form = page.form(action)
        data = {**form.fields, **values}
        # as a browser does (Referrer-Policy: same-origin); Flask-WTF checks it on HTTPS
        return Page(self.http.post(urljoin(page.url, form.action), data=data, headers={"Referer": page.url},
                                   timeout=30))

    def sign_in(self, username: str, password: str = PASSWORD, totp_secret: str | None = None) -> Page:
        page = self.get("/signin")
        page = self.submit(page, "/signin", username=username, password=password)
        if totp_secret:
            assert urlsplit(page.url).path == "/signin/code", page.text
            page = self.submit(page, "/signin/code", code=fresh_code(totp_secret))
        return page

    def search(self, country: str = "FR", **traits: str) -> Page:
        page = self.get(f"/search/{country}")
        return self.submit(page, f"/search/{country}", **traits)

    def open_summary(self, traits: dict[str, str] | None = None, purpose: str = "TREATMENT") -> Page:
        """Search, confirm, declare: the summary page."""
        page = self.search("FR", **(traits or DUPONT))
        assert urlsplit(page.url).path == "/patient", (page.status, page.text[:500])
        page = self.submit(page, "/patient", identity="confirmed", notice="accepted")
        assert urlsplit(page.url).path == "/declare", (page.status, page.text[:500])
        return self.submit(page, "/declare", relationship="declared", purpose=purpose)

    def cookie(self, name_part: str) -> requests.cookies.Cookie | None:
        return next((c for c in self.http.cookies if name_part in c.name), None)


_catalogs: dict[str, NullTranslations] = {}


def message(lang: str, msgid: str, context: str | None = None, **params: object) -> str:
    """A message as the portal shows it in ``lang``: through the same compiled catalogue as the servers
    (the message itself, in English, while a catalogue lacks it); ``context`` for pgettext messages."""
    if lang not in _catalogs:
        _catalogs[lang] = Translations.load(str(i18n.compile_catalogs()), [lang], domain="messages")
    catalog = _catalogs[lang]
    text = catalog.pgettext(context, msgid) if context else catalog.gettext(msgid)
    return text % params if params else text


def squeeze(text: str) -> str:
    return " ".join(text.split())


_last_steps: dict[str, int] = {}


def fresh_code(secret: str) -> str:
    """A TOTP code of a time step not used yet with this secret (waits for the next step when needed)."""
    totp = pyotp.TOTP(secret)
    while True:
        step = int(time.time() // totp.interval)
        if _last_steps.get(secret, -1) < step:
            _last_steps[secret] = step
            return totp.generate_otp(step)
        time.sleep(max(0.2, (step + 1) * totp.interval - time.time()))


@dataclass
class Account:
    username: str
    password: str
    name: str
    role: str
    totp_secret: str | None = None


def add_user(running: Running, code: str = "DE", *, role: str = "221", language: str = "de", totp: bool = False,
             name: str = "Dr. Test Person", prefix: str = "user") -> Account:
    """A new clinician account, created through the real storage (Argon2id hash, optional TOTP, sealed)."""
    username = f"{prefix}-{secrets.token_hex(4)}"
    secret = accounts.new_totp_secret() if totp else None
    store = running.store(code)
    try:
        store.users.add(username, PASSWORD, professional_id=f"test-{secrets.token_hex(3)}", name=name, role=role,
                        organisation="Klinikum Test", organisation_id="urn:oid:1.2.276.0.76.4.8.998",
                        language=language,
                        totp_secret=accounts.seal_totp_secret(running.configs[code], username, secret) if secret else None)
    finally:
        store.close()
    return Account(username, PASSWORD, name, role, secret)


def demo_accounts(running: Running, code: str) -> dict[str, dict]:
    path = running.configs[code].data_dir / "demo-users.json"
    return {a["username"]: a for a in json.loads(path.read_text())["accounts"]}


@pytest.fixture
def physician(countries) -> Account:
    """A German physician whose interface is in German."""
    return add_user(countries, "DE", role="221", language="de", name="Dr. Anna Schmidt", prefix="arzt")


@pytest.fixture
def signed_in(countries, physician) -> Clinician:
    browser = Clinician(countries, "DE")
    page = browser.sign_in(physician.username)
    assert urlsplit(page.url).path == "/", (page.status, page.text[:300])
    return browser


# --- French documents imported for these tests --------------------------------------------------------


def ins(base: str) -> str:
    """A valid INS (NIR): 13 digits and their key."""
    return base + f"{97 - int(base) % 97:02d}"


def french_document(identifier: str, family: str, given: str, birth: str, gender: str, uuid_tail: str) -> dict:
    """The fixture summary (tests/fixtures/ips-fr-dupont.json) for another French patient."""
    doc = copy.deepcopy(load_fixture("ips-fr-dupont.json"))
    doc["identifier"]["value"] = f"urn:uuid:6e1fb74a-742b-4c7b-8487-{uuid_tail:0>12}"
    for entry in doc["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Patient":
            resource["identifier"][0]["value"] = identifier
            resource["name"] = [{"use": "official", "family": family, "given": [given]}]
            resource["gender"] = gender
            resource["birthDate"] = birth
    return doc


def resource(doc: dict, kind: str) -> dict:
    return next(e["resource"] for e in doc["entry"] if e["resource"]["resourceType"] == kind)


def composition(doc: dict) -> dict:
    return resource(doc, "Composition")


def add_entry(doc: dict, section_code: str, item: dict, title: str | None = None, narrative: str | None = None) -> None:
    """Add ``item`` to the document, in the section ``section_code`` (created when missing)."""
    url = f"urn:uuid:0c0e4c5f-0000-4000-8000-{len(doc['entry']) + 100:012d}"
    doc["entry"].append({"fullUrl": url, "resource": item})
    sections = composition(doc)["section"]
    section = next((s for s in sections if s["code"]["coding"][0]["code"] == section_code), None)
    if section is None:
        section = {"title": title or section_code, "code": {"coding": [{"system": "http://loinc.org", "code": section_code}]},
                   "entry": []}
        if narrative is not None:
            section["text"] = {"status": "generated", "div": narrative}
        sections.append(section)
    section.setdefault("entry", []).append({"reference": url})


def import_french(running: Running, *docs: dict) -> None:
    """Store documents in FR's national record store (as its import does), while FR runs."""
    store = running.store("FR")
    try:
        store_documents(store, running.configs["FR"], list(docs))
    finally:
        store.close()
