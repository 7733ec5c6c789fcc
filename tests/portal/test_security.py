"""Bad input: forged and replayed posts, script in fields and in foreign narratives, refused roles,
opposed patients, expired sessions (the search survives sign-in)."""

from __future__ import annotations

import copy
from urllib.parse import urlsplit

import pytest

from gateway.audit import events
from gateway.audit.events import Outcome
from tests.portal.conftest import (
    DUPONT,
    LEROY,
    PASSWORD,
    Clinician,
    Page,
    add_user,
    composition,
    french_document,
    import_french,
    ins,
    message,
    resource,
    squeeze,
)
from tests.portal.pdftext import extract_text

HOSTILE_INS = ins("2751113055125")
HOSTILE = {"identifier": HOSTILE_INS, "family": "MALICE", "given": "Eve", "birthdate": "1975-11-03", "gender": "female"}
NARRATIVE = (
    '<div xmlns="http://www.w3.org/1999/xhtml"><p onclick="alert(1)" style="display:none">Réaction <b>grave</b></p>'
    '<script>alert("narrative")</script><img src="x" onerror="alert(2)"/><a href="javascript:alert(3)">lien</a>'
    '<iframe src="https://evil.example/"></iframe><style>body{display:none}</style><svg onload="alert(4)"/>'
    '<form action="https://evil.example/"><input name="password"/></form>'
    '<table><tr><td colspan="2" style="color:red" onmouseover="alert(5)">Αλλεργία στην πενικιλίνη — Żółć, Łódź</td>'
    '</tr></table></div>')
TEXT_PAYLOADS = ('<script>alert("display")</script>', '<img src=x onerror=alert("text")>',
                 '"><svg onload=alert("dose")>', '<script>alert("author")</script>', '<script>alert("title")</script>')


def path(page) -> str:
    return urlsplit(page.url).path


def assert_inert(page: Page) -> None:
    """Nothing in the page can run: no script but the portal's own, no handlers, no active elements."""
    scripts = page.find_all("script")
    assert [s.get("src") for s in scripts] == ["/static/portal.js"]
    assert not [s for s in scripts if s.text.strip()]
    for element in page.elements:
        assert not [a for a in element.attrs if a.startswith("on")], element
        assert element.tag not in ("img", "iframe", "svg", "style", "object", "embed", "base"), element
        assert not element.get("style"), element
        if element.tag == "a":
            assert not (element.get("href") or "").strip().lower().startswith(("javascript", "data", "http")), element
        if element.tag == "form":
            assert urlsplit(element.get("action") or "/").netloc == "", element
    csp = page.resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp


# --- forged and replayed posts -----------------------------------------------------------------------


def test_post_without_csrf_token_is_refused(countries, signed_in: Clinician):
    page = signed_in.get("/search/FR")
    form = page.form("/search/FR")
    data = {k: v for k, v in {**form.fields, **DUPONT}.items() if k != "csrf_token"}
    refused = signed_in.raw_post("/search/FR", data, headers={"Referer": page.url})
    assert refused.status == 400 and refused.title == message("de", "This form has expired")
    assert "Code: FORM_INVALID" in squeeze(refused.text) or "FORM_INVALID" in refused.text
    forged = signed_in.raw_post("/search/FR", {**data, "csrf_token": "forged"}, headers={"Referer": page.url})
    assert forged.status == 400 and "FORM_INVALID" in forged.text
    # the sign-in form too: a login CSRF is refused
    anonymous = Clinician(countries, "DE")
    anonymous.get("/signin")
    refused = anonymous.raw_post("/signin", {"username": "pharmacist", "password": PASSWORD},
                                 headers={"Referer": anonymous.url("/signin")})
    assert refused.status == 400 and "FORM_INVALID" in refused.text


def test_post_from_another_site_is_refused(countries, signed_in: Clinician):
    page = signed_in.get("/search/FR")
    data = {**page.form("/search/FR").fields, **DUPONT}
    refused = signed_in.raw_post("/search/FR", data, headers={"Referer": "https://evil.example/search/FR"})
    assert refused.status == 400 and "FORM_INVALID" in refused.text
    # the token and the nonce were not consumed by the refused post: the real form still goes through
    assert path(signed_in.raw_post("/search/FR", data, headers={"Referer": page.url})) == "/patient"


def test_replayed_form_is_refused(countries, signed_in: Clinician):
    page = signed_in.get("/search/FR")
    data = {**page.form("/search/FR").fields, **DUPONT}
    first = signed_in.raw_post("/search/FR", data, headers={"Referer": page.url})
    assert path(first) == "/patient"
    again = signed_in.raw_post("/search/FR", data, headers={"Referer": page.url})
    assert again.status == 409 and again.title == message("de", "This form was already sent")
    # the same for every step: the confirmation form, posted twice
    confirm = signed_in.get("/patient")
    fields = {**confirm.form("/patient").fields, "identity": "confirmed", "notice": "accepted"}
    assert path(signed_in.raw_post("/patient", fields, headers={"Referer": confirm.url})) == "/declare"
    assert signed_in.raw_post("/patient", fields, headers={"Referer": confirm.url}).status == 409


# --- script in fields and in the foreign document ------------------------------------------------------


@pytest.mark.parametrize("field", ["family", "given", "identifier"])
def test_script_in_search_fields_is_shown_as_text(countries, signed_in: Clinician, field):
    payload = '"><script>alert("x")</script><img src=x onerror=alert(1)>'
    page = signed_in.search("FR", **{**DUPONT, field: payload})
    assert page.status == 400 and path(page) == "/search/FR"
    assert "<script>alert" not in page.resp.text and "<img src=x" not in page.resp.text
    assert page.find(id=f"trait-{field}")["value"] == payload[:100]  # given back, as text, in the field
    assert_inert(page)


def test_script_in_username_is_shown_as_text(countries):
    browser = Clinician(countries, "DE")
    payload = '"><script>alert("u")</script>'
    page = browser.sign_in(payload, password="whatever password")
    assert page.status == 401 and "<script>alert" not in page.resp.text
    assert page.find(id="username")["value"] == payload
    assert_inert(page)


@pytest.fixture(scope="module")
def hostile_patient(countries) -> dict:
    """A French patient whose summary carries script and markup everywhere text can be."""
    doc = french_document(HOSTILE_INS, "MALICE", "Eve", "1975-11-03", "female", "000000000666")
    comp = composition(doc)
    allergies = comp["section"][0]
    allergies["title"] = 'Allergies <script>alert("title")</script>'
    allergies["text"]["div"] = NARRATIVE
    comp["section"][1]["text"]["div"] = '<div xmlns="http://www.w3.org/1999/xhtml"><script src="https://evil.example/x.js">' \
                                        '</script>Metformine</div>'
    allergy = resource(doc, "AllergyIntolerance")
    allergy["code"] = {"coding": [{"system": "http://snomed.info/sct", "code": "764146007",
                                   "display": '<script>alert("display")</script>'}],
                       "text": '<img src=x onerror=alert("text")>'}
    medication = resource(doc, "MedicationStatement")
    medication["dosage"] = [{"text": '"><svg onload=alert("dose")> ' + "très long texte " * 400}]  # > one PDF page
    resource(doc, "Practitioner")["name"] = [{"family": '<script>alert("author")</script>', "given": ["Mallory"]}]
    import_french(countries, copy.deepcopy(doc))
    return HOSTILE


def test_foreign_narrative_and_texts_never_run(countries, signed_in: Clinician, hostile_patient):
    summary = signed_in.open_summary(hostile_patient)
    assert summary.status == 200, summary.text
    assert_inert(summary)
    raw = summary.resp.text
    assert "<script>alert" not in raw and "onerror=" not in raw.replace("onerror=alert", "")
    # the texts are shown, as text, where the document put them
    text = summary.text
    for payload in TEXT_PAYLOADS:
        assert payload in text, payload
    # the narrative keeps its structure and words (allow-list), marked with its language
    narrative = summary.find_all("div", class_="narrative-body")[0]
    assert narrative.get("lang") == "fr-FR"
    assert "Réaction grave" in squeeze(narrative.text) and "Αλλεργία στην πενικιλίνη" in narrative.text
    assert 'alert("narrative")' not in narrative.text  # a script's content is dropped, not shown
    inner = [e for e in summary.elements if e.parent is not None and narrative in _ancestors(e)]
    assert {e.tag for e in inner} <= {"div", "p", "b", "table", "tbody", "tr", "td"}
    cells = [e for e in inner if e.tag == "td"]
    assert cells and cells[0].attrs == {"colspan": "2"}  # table spans kept, style and handlers gone


def _ancestors(element):
    node = element.parent
    while node is not None:
        yield node
        node = node.parent


def test_pdf_of_a_hostile_summary_with_non_latin_text(countries, signed_in: Clinician, hostile_patient):
    assert signed_in.open_summary(hostile_patient).status == 200
    resp = signed_in.http.get(signed_in.url("/summary.pdf"), timeout=60)
    assert resp.status_code == 200 and resp.content.startswith(b"%PDF-")
    text = squeeze(extract_text(resp.content))
    assert "MALICE" in text
    assert "Αλλεργία στην πενικιλίνη — Żółć, Łódź" in text  # Greek and Polish: a Unicode font is embedded
    assert '<script>alert("display")</script>' in text.replace(" ", "")  # plain text (wrapped), never markup
    assert 'alert("narrative")' not in text


# --- who may query, and patients who opposed --------------------------------------------------------


def test_role_not_allowed_gets_an_explanation(countries):
    secretary = add_user(countries, "DE", role="3344", name="Petra Klein", prefix="sekretariat")
    browser = Clinician(countries, "DE")
    page = browser.sign_in(secretary.username)
    assert page.status == 403 and path(page) == "/"
    assert page.title == message("de", "Your profession may not retrieve summaries")
    table = page.find("table")
    assert table is not None and page.find("caption") is not None
    rows = [squeeze(th.text) for th in page.find_all("th") if th.get("scope") == "row"]
    assert message("de", "Physician") in rows and message("de", "Pharmacist") in rows
    assert message("de", "Medical secretary") not in rows
    assert "ROLE_NOT_ALLOWED" in page.text
    for target in ("/search/FR", "/declare"):
        refused = browser.get(target)
        assert refused.status in (403, 409) and "<form" in refused.resp.text  # a page, with sign-out
    assert browser.get("/search/FR").status == 403
    assert_inert(page)


def test_purpose_not_allowed_for_a_profession(countries):
    physio = add_user(countries, "DE", role="2264", name="Felix Hoffmann", prefix="physio")
    browser = Clinician(countries, "DE")
    browser.sign_in(physio.username)
    page = browser.search("FR", **DUPONT)
    page = browser.submit(page, "/patient", identity="confirmed", notice="accepted")
    assert [e["value"] for e in page.find_all("input", name="purpose")] == ["TREATMENT"]  # only what is allowed
    forged = browser.submit(page, "/declare", relationship="declared", purpose="EMERGENCY")
    assert forged.status == 403 and forged.title == message("de", "Purpose not allowed for your profession")
    assert "PURPOSE_NOT_ALLOWED" in forged.text
    store = countries.store("DE")  # refused before anything left, and recorded like a refusal later on
    try:
        refused = [e for e in store.audit.entries() if e.outcome_code == "PURPOSE_NOT_ALLOWED" and e.actor_role == "2264"
                   and e.detail.get("username") == physio.username]
    finally:
        store.close()
    assert [(e.event, e.outcome, e.purpose, e.peer_country) for e in refused] == [
        (events.SUMMARY, Outcome.REFUSED, "EMERGENCY", "FR")]


def test_opposed_patient_gets_the_refusal_page(countries, signed_in: Clinician):
    page = signed_in.open_summary(LEROY)
    assert page.status == 403 and path(page) == "/summary"
    assert page.title == message("de", "The summary cannot be released")
    assert "ACCESS_REFUSED" in page.text
    assert not page.find_all("section", class_="summary-section")  # nothing of the summary
    assert not [f for f in page.forms if "/retry" in f.action]  # retrying would not help


# --- expired sessions --------------------------------------------------------------------------------


def test_expired_session_returns_to_sign_in_and_resumes_the_search(countries, physician, signed_in: Clinician):
    form = signed_in.get("/search/FR")
    store = countries.store("DE")
    try:
        assert store.users.expire_sessions(physician.username) == 1  # as if idle for too long
    finally:
        store.close()
    traits = {**DUPONT, "given": "Marie"}
    page = signed_in.submit(form, "/search/FR", **traits)
    assert path(page) == "/signin" and page.status == 200
    assert page.find(role="status").text == message(
        "de", "Your session has expired. Sign in again: your patient search will be kept.")
    pending = [h for r in page.resp.history for h in r.raw.headers.get_all("Set-Cookie") or [] if "_pending=" in h]
    assert pending, "the search is kept in a short-lived cookie"
    attributes = [p.strip().lower() for p in pending[0].split(";")]
    assert "secure" in attributes and "httponly" in attributes and "samesite=strict" in attributes
    assert DUPONT["family"] not in pending[0] and DUPONT["identifier"] not in pending[0]  # encrypted
    assert path(signed_in.get("/")) == "/signin"

    resumed = signed_in.sign_in(physician.username)
    assert path(resumed) == "/search/FR"
    assert resumed.find(role="status").text == message(
        "de", "Welcome back: your patient search has been restored. Check it and search again.")
    for trait, value in traits.items():
        if trait == "gender":
            chosen = [o for o in resumed.find_all("option") if "selected" in o.attrs and o.parent.get("name") == "gender"]
            assert chosen and chosen[0]["value"] == value
        else:
            assert resumed.find(id=f"trait-{trait}")["value"] == value
    assert path(signed_in.submit(resumed, "/search/FR")) == "/patient"


def test_pending_search_of_another_clinician_is_not_resumed(countries, physician, signed_in: Clinician):
    form = signed_in.get("/search/FR")
    store = countries.store("DE")
    try:
        store.users.expire_sessions(physician.username)
    finally:
        store.close()
    signed_in.submit(form, "/search/FR", **DUPONT)
    colleague = add_user(countries, "DE", prefix="kollege")
    page = signed_in.sign_in(colleague.username)  # same browser, another clinician
    assert path(page) == "/" and page.find(role="status") is None
    assert signed_in.get("/search/FR").find(id="trait-identifier").get("value", "") == ""
