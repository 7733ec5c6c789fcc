"""The clinician's flow against real running countries: a German physician reads a French summary.

country -> search mask form (inline validation) -> identity to confirm + FR's information notice ->
treatment relationship and purpose -> the summary in German beside the French originals -> PDF.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from babel.dates import format_date, format_skeleton

from gateway.surfaces.portal_view import SECTION_ORDER
from terminology.dosage import render_dosage
from tests.conftest import load_fixture
from tests.portal.conftest import (
    DUPONT,
    INS,
    Clinician,
    add_entry,
    add_user,
    composition,
    french_document,
    import_french,
    ins,
    message,
    squeeze,
)
from tests.portal.pdftext import extract_text

ABSENT = "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips"
SNOMED = "http://snomed.info/sct"
RICH_INS = ins("2900313055124")
# Expected dates as the pinned Babel renders them for German (CLDR patterns change between releases).
BIRTH_DE = format_date(dt.date(1984, 5, 12), "medium", locale="de")
#: The search mask asks for the birth name; pages showing the foreign document label its family name.
BIRTH_NAME = "search trait: the birth name"
MARCH_2018_DE = format_skeleton("yMM", dt.date(2018, 3, 1), locale="de")
RICH = {"identifier": RICH_INS, "family": "BERNARD", "given": "Lucie", "birthdate": "1990-03-08", "gender": "female"}


def path(page) -> str:
    return urlsplit(page.url).path


def test_whole_flow_german_physician_french_patient(countries, signed_in: Clinician):
    browser = signed_in
    visited = []

    start = browser.get("/")
    visited.append(start.url)
    assert start.status == 200
    assert start.find("html")["lang"] == "de"  # the physician's preferred language
    france = [a for a in start.find_all("a") if a.get("href") == "/search/FR"]
    assert france and france[0].text.strip() == "Frankreich"  # country names in the clinician's language
    assert not [a for a in start.find_all("a") if a.get("href") == "/search/DE"]  # not one's own country

    # the form is FR's search mask: INS with its shape, names, birth date, sex; every field labelled
    form_page = browser.get("/search/FR")
    form = form_page.form("/search/FR")
    assert {"identifier", "family", "given", "birthdate", "gender"} <= {e.get("name") for e in form_page.find_all()}
    assert form.fields["csrf_token"] and form.fields["form_nonce"]
    for field in ("identifier", "family", "given", "birthdate", "gender"):
        control = form_page.find(id=f"trait-{field}")
        assert control is not None and form_page.find("label", **{"for": f"trait-{field}"}) is not None
    identifier = form_page.find(id="trait-identifier")
    assert identifier["maxlength"] == "15" and identifier.get("pattern")
    assert "INS" in form_page.find("label", **{"for": "trait-identifier"}).text
    assert message("de", "Family name", context=BIRTH_NAME) in form_page.find("label", **{"for": "trait-family"}).text

    confirm = browser.submit(form_page, "/search/FR", **DUPONT)
    visited.append(confirm.url)
    assert path(confirm) == "/patient", confirm.text
    assert "DUPONT" in confirm.text and "Marie Louise" in confirm.text and INS in confirm.text
    assert BIRTH_DE in confirm.text  # date of birth in the German format
    # the document's family name is labelled as such, not as the birth name the search mask asked for
    assert message("de", "Family name") != message("de", "Family name", context=BIRTH_NAME)
    labels = [th.text.strip() for th in confirm.find_all("th")]
    assert message("de", "Family name") in labels and message("de", "Family name", context=BIRTH_NAME) not in labels
    notice = confirm.find("section", aria_labelledby="notice-heading")
    assert notice is not None and "Mon espace santé" in notice.text  # FR's own patient information notice

    # both boxes are required
    refused = browser.submit(confirm, "/patient", identity="confirmed")
    assert refused.status == 400 and refused.find(id="confirm-error") is not None
    declare = browser.submit(refused, "/patient", identity="confirmed", notice="accepted")
    visited.append(declare.url)
    assert path(declare) == "/declare"
    purposes = [e["value"] for e in declare.find_all("input", name="purpose")]
    assert purposes == ["TREATMENT", "EMERGENCY"]

    missing = browser.submit(declare, "/declare", purpose="TREATMENT")  # relationship not declared
    assert missing.status == 400 and missing.find(id="declare-error") is not None
    summary = browser.submit(missing, "/declare", relationship="declared", purpose="TREATMENT")
    visited.append(summary.url)
    assert summary.status == 200 and path(summary) == "/summary", summary.text
    assert summary.find("html")["lang"] == "de"

    # header: name, identifier, birth date, sex, country, dates, original language
    header = summary.find("section", aria_labelledby="patient-heading").text
    composed = format_date(dt.date(2026, 10, 2), "medium", locale="de")
    for expected in ("DUPONT", "Marie Louise", INS, BIRTH_DE, "Frankreich", composed, "Französisch"):
        assert expected in header, expected

    # translated German term beside the original French term, code and code system (lang="fr")
    terms = {" ".join(e.text.split()) for e in summary.find_all("span", class_="term") if e.get("lang") == "de"}
    assert any(t.startswith("Diabetes mellitus, Typ 2") for t in terms), terms
    assert any(t.startswith("Metformin") for t in terms), terms
    originals = [e for e in summary.find_all("span") if e.text.startswith("Diabète sucré de type 2")]
    assert originals and originals[0].lang().startswith("fr")
    cell = originals[0].parent
    assert "CIM-10 (FR)" in cell.text and "E11.9" in cell.text
    medicine = [e for e in summary.find_all("span") if e.text.startswith("METFORMINE EUROGEN")]
    assert medicine and medicine[0].lang().startswith("fr") and "3400938939750" in medicine[0].parent.text

    # sections in the eHDSI order, the missing ones shown as missing (not hidden)
    codes = [e["data-code"] for e in summary.find_all("section") if e.get("data-code")]
    assert codes == [slot[1][0] for slot in SECTION_ORDER]
    for section in summary.find_all("section"):
        if section.get("data-code") in ("48765-2", "11450-4", "10160-0"):
            assert "section-missing" not in section["class"]
        elif section.get("data-code"):
            assert "section-missing" in section["class"]
            assert squeeze(message("de", "Missing: %(country)s sent no such section. This does not mean that there "
                                   "is nothing to report.", country="Frankreich")) in squeeze(section.text)
    # unmapped / untranslated entries are flagged; partial dates stay partial
    flags = [squeeze(e.text) for e in summary.find_all("span", class_="flag")]
    assert f"⚑ {message('de', 'not translated')}" in flags and f"⚑ {message('de', 'no European code')}" in flags
    partial = [e for e in summary.find_all("time") if e.get("datetime") == "2019"]
    assert partial and partial[0].text == "2019" and message("de", "partial date") in partial[0].parent.text
    assert [e for e in summary.find_all("time") if e.get("datetime") == "2018-03" and e.text == MARCH_2018_DE]
    # uncoded text stays in the original, marked as such; narratives with their language
    dosage = [e for e in summary.find_all("span") if e.text == "1 comprimé matin et soir"]
    assert dosage and dosage[0].lang() == "fr-FR"
    # ...and the structured dosage as a sentence in German beside it
    sent = load_fixture("ips-fr-dupont.json")
    structured = next(e["resource"]["dosage"][0] for e in sent["entry"] if e["resource"]["resourceType"] == "MedicationStatement")
    sentence = [e for e in summary.find_all("span") if e.text == render_dosage(structured, "de")]
    assert sentence and sentence[0].lang() == "de" and "Tablette" in sentence[0].text
    narratives = summary.find_all("div", class_="narrative-body")
    assert narratives and all(n.get("lang") == "fr-FR" for n in narratives)
    assert "Allergie à la pénicilline" in narratives[0].text

    # tables: column headers and row headers
    table = summary.find("table", class_="entries")
    assert [th for th in summary.find_all("th") if th.get("scope") == "col"]
    assert [th for th in summary.find_all("th") if th.get("scope") == "row"]
    assert table is not None

    # patient data never appears in a URL
    for url in visited:
        assert INS not in url and "DUPONT" not in url.upper()


def test_pdf_download_is_the_translated_summary_with_originals(countries, signed_in: Clinician):
    summary = signed_in.open_summary()
    assert summary.status == 200
    link = summary.find("a", href="/summary.pdf")
    assert link is not None and "download" in link.attrs
    resp = signed_in.http.get(signed_in.url("/summary.pdf"), timeout=60)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/pdf"
    assert resp.headers["Content-Disposition"].startswith("attachment; filename=\"patient-summary-fr-")
    assert INS not in resp.headers["Content-Disposition"]
    data = resp.content
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert 10_000 < len(data) < 2_000_000
    assert b"/Lang (de)" in data and b"DejaVuSans" in data
    text = squeeze(extract_text(data))  # table cells wrap: compare without line breaks
    for expected in ("DUPONT", "Marie Louise", INS, "Frankreich", "Diabetes mellitus, Typ 2",
                     "Diabète sucré de type 2", "CIM-10 (FR) E11.9", "METFORMINE EUROGEN", "3400938939750",
                     f"⚑ {message('de', 'not translated')}", f"2019 ({message('de', 'partial date')})",
                     "Allergie à la pénicilline", "Dr. Anna Schmidt"):
        assert squeeze(expected) in text, expected


@pytest.fixture(scope="module")
def rich_patient(countries) -> dict:
    """A French patient whose summary has a known absence, a lack of information, a vaccination with a
    partial date, an uncoded entry and a section outside the guideline's list."""
    doc = french_document(RICH_INS, "BERNARD", "Lucie", "1990-03-08", "female", "000000000777")
    entries = composition(doc)["section"]
    allergy_section = next(s for s in entries if s["code"]["coding"][0]["code"] == "48765-2")
    allergy_section["entry"] = []
    add_entry(doc, "48765-2", {"resourceType": "AllergyIntolerance", "id": "al-none", "code": {"coding": [
        {"system": ABSENT, "code": "no-known-allergies", "display": "No known allergies"}]},
        "patient": {"reference": "urn:uuid:0c0e4c5f-0000-4000-8000-000000000002"}})
    medication_section = next(s for s in entries if s["code"]["coding"][0]["code"] == "10160-0")
    medication_section["entry"] = []
    add_entry(doc, "10160-0", {"resourceType": "MedicationStatement", "id": "ms-none", "status": "active",
                               "medicationCodeableConcept": {"coding": [{"system": ABSENT, "code": "no-medication-info",
                                                                         "display": "No information about medications"}]},
                               "subject": {"reference": "urn:uuid:0c0e4c5f-0000-4000-8000-000000000002"}})
    add_entry(doc, "11369-6", {"resourceType": "Immunization", "id": "im-1", "status": "completed",
                               "vaccineCode": {"coding": [{"system": SNOMED, "code": "836398006"}],
                                               "text": "Vaccin anti-tétanique"},
                               "occurrenceDateTime": "2015-06",
                               "patient": {"reference": "urn:uuid:0c0e4c5f-0000-4000-8000-000000000002"}},
              title="Vaccinations", narrative='<div xmlns="http://www.w3.org/1999/xhtml">Tétanos 2015</div>')
    add_entry(doc, "42348-3", {"resourceType": "Consent", "id": "ad-1", "status": "active"},
              title="Directives anticipées", narrative='<div xmlns="http://www.w3.org/1999/xhtml">Pas de directives</div>')
    import_french(countries, doc)
    return RICH


def test_known_absence_no_information_and_other_sections(countries, signed_in: Clinician, rich_patient):
    summary = signed_in.open_summary(rich_patient)
    assert summary.status == 200, summary.text
    known = summary.find_all("p", class_="known-absence")
    unknown = summary.find_all("p", class_="no-information")
    assert len(known) == 1 and len(unknown) == 1
    assert message("de", "Known absence:") in known[0].text
    assert message("de", "No information:") in unknown[0].text and message("de", "Known absence:") not in unknown[0].text
    codes = [e["data-code"] for e in summary.find_all("section") if e.get("data-code")]
    assert codes[-1] == "42348-3"  # a section outside the guideline's list comes last, with its original title
    other = [e for e in summary.find_all("section") if e.get("data-code") == "42348-3"][0]
    assert "Directives anticipées" in other.text
    vaccination = [e for e in summary.find_all("section") if e.get("data-code") == "11369-6"][0]
    assert "section-missing" not in vaccination["class"]
    assert [t for t in summary.find_all("time") if t.get("datetime") == "2015-06"]
    assert message("de", "partial date") in vaccination.text
    assert "Vaccin anti-tétanique" in vaccination.text


def test_interface_language_is_switchable(countries, signed_in: Clinician):
    summary = signed_in.open_summary()
    assert summary.find("html")["lang"] == "de"
    menu = summary.find("select", name="language")
    assert menu is not None and summary.find("label", **{"for": "language-menu"}) is not None
    options = {e["value"] for e in summary.find_all("option")}
    assert {"fr", "en", "de", "es", "it", "pt"} <= options
    french = signed_in.submit(summary, "/language", language="fr")
    assert path(french) == "/summary" and french.status == 200
    assert french.find("html")["lang"] == "fr"
    assert french.resp.headers["Content-Language"] == "fr"
    terms = [e for e in french.find_all("span", class_="term") if e.get("lang") == "fr"]
    assert terms, "the summary is translated into the newly chosen language"
    assert "France" in french.find("section", aria_labelledby="patient-heading").text
    spanish = signed_in.submit(french, "/language", language="es")
    assert spanish.find("html")["lang"] == "es"
    assert "Francia" in spanish.find("section", aria_labelledby="patient-heading").text


def test_preferred_language_of_another_clinician(countries):
    italian = add_user(countries, "DE", role="2262", language="it", name="Marco Bianchi", prefix="farmacista")
    browser = Clinician(countries, "DE", language="de")  # the account's language wins over the browser's
    page = browser.sign_in(italian.username)
    assert page.status == 200 and page.find("html")["lang"] == "it"
    assert "Francia" in page.text


def test_no_match_page_keeps_the_search(countries, signed_in: Clinician):
    page = signed_in.search("FR", **{**DUPONT, "given": "Marianne"})
    assert page.status == 200 and path(page) == "/search/FR"
    assert page.title == message("de", "No patient found")
    assert "Frankreich" in page.text
    again = [a for a in page.find_all("a") if a.get("href") == "/search/FR"]
    assert again, "a way back to the search"
    form = signed_in.get("/search/FR")
    assert form.find(id="trait-given")["value"] == "Marianne"
    assert form.find(id="trait-identifier")["value"] == INS


def test_home_page_resumes_or_restarts_a_search_in_progress(countries, signed_in: Clinician):
    def links(page, href):  # noqa: ANN001, ANN202
        return [squeeze(a.text) for a in page.find_all("a", href=href)]

    restart = message("de", "Start a new search")
    home = signed_in.get("/")
    assert not home.find_all("form", action="/new")  # nothing in progress yet
    signed_in.search("FR", **{**DUPONT, "given": "Marianne"})  # no match: the search is kept
    home = signed_in.get("/")
    assert message("de", "Continue the search") in links(home, "/search/FR")
    assert len(home.find_all("form", action="/new")) == 1 and home.form("/new").fields["csrf_token"]
    assert restart in [squeeze(b.text) for b in home.find_all("button")]
    assert signed_in.open_summary().status == 200
    home = signed_in.get("/")
    assert message("de", "Back to the summary") in links(home, "/summary")
    assert len(home.find_all("form", action="/new")) == 1
    home = signed_in.submit(home, "/new")
    assert path(home) == "/" and not home.find_all("form", action="/new")  # started afresh


@pytest.mark.parametrize("traits, field, expected", [
    ({**DUPONT, "identifier": INS[:-2] + "00"}, "identifier",  # wrong INS key
     ("This %(label)s is not valid: check every character and the check key.", {"label": "INS (NIR)"})),
    ({**DUPONT, "family": ""}, "family", ("%(trait)s is required by %(country)s.", {"country": "Frankreich"})),
    ({**DUPONT, "birthdate": "2999-01-01"}, "birthdate", ("Give a real date of birth, not in the future.", {})),
    ({**DUPONT, "gender": "robot"}, "gender", ("Choose one of the values offered.", {})),
])
def test_inline_validation(countries, signed_in: Clinician, traits, field, expected):
    page = signed_in.search("FR", **traits)
    assert page.status == 400 and path(page) == "/search/FR"
    control = page.find(id=f"trait-{field}")
    assert control.get("aria-invalid") == "true"
    error = page.find(id=f"trait-{field}-error")
    msgid, params = expected
    if "trait" in msgid:
        params = {**params, "trait": message("de", "Family name", context=BIRTH_NAME)}
    assert error is not None and error.text == message("de", msgid, **params)
    assert f"trait-{field}-error" in control.get("aria-describedby", "")
    summary_link = [a for a in page.find_all("a") if a.get("href") == f"#trait-{field}"]
    assert summary_link, "the error summary links to the field"
    if field != "gender":
        assert control.get("value", "") == traits[field]  # what was typed is kept


def test_own_and_unknown_countries_are_explained(countries, signed_in: Clinician):
    own = signed_in.get("/search/DE")
    assert own.status == 400 and own.title == message("de", "This is your own country")
    unknown = signed_in.get("/search/ZZ")
    assert unknown.status == 404 and unknown.title == message("de", "Country not connected")
    assert not unknown.find_all("input", name="identifier")


def test_pages_use_only_local_resources_and_a_print_stylesheet(countries, signed_in: Clinician):
    summary = signed_in.open_summary()
    resources = [e.get("href") for e in summary.find_all("link")] + [e.get("src") for e in summary.find_all("script")]
    assert resources and all(r.startswith("/static/") for r in resources)  # no CDN
    css = signed_in.http.get(signed_in.url("/static/portal.css"), timeout=10)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert "@media print" in css.text and ":focus-visible" in css.text
    skip = summary.find("a", class_="skip-link")
    assert skip is not None and skip["href"] == "#main" and summary.find("main", id="main") is not None
    assert [e for e in summary.find_all("button") if "data-print" in e.attrs]
    headings = [e.tag for e in summary.elements if e.tag in ("h1", "h2", "h3")]
    assert headings[0] == "h1" and headings.count("h1") == 1


def _pdf(browser: Clinician) -> bytes:
    resp = browser.http.get(browser.url("/summary.pdf"), timeout=60)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/pdf", resp.text[:300]
    return resp.content


def test_kept_summary_views_and_pdfs_follow_language_and_clinician(countries, signed_in: Clinician):
    """The view model and the PDF are kept on the runtime: what is served again is what was built, and
    whatever changes them (the interface language, the clinician) gets its own."""
    assert signed_in.open_summary().status == 200
    german = _pdf(signed_in)
    assert _pdf(signed_in) == german  # served again as built (dated when France's document was received)
    page = signed_in.get("/summary")
    assert "Diabetes mellitus, Typ 2" in page.text
    page = signed_in.submit(page, "/language", language="fr", next="/summary")
    assert urlsplit(page.url).path == "/summary" and page.status == 200
    assert "Diabète sucré de type 2" in page.text and "Diabetes mellitus, Typ 2" not in page.text
    french = _pdf(signed_in)
    assert b"/Lang (fr)" in french and b"/Lang (de)" in german
    assert "Diabetes mellitus, Typ 2" not in squeeze(extract_text(french))
    assert "Frankreich" in squeeze(extract_text(german)) and "Frankreich" not in squeeze(extract_text(french))

    colleague = add_user(countries, "DE", role="221", language="de", name="Dr. Jonas Weber", prefix="arzt")
    other = Clinician(countries, "DE")
    other.sign_in(colleague.username)
    assert other.open_summary().status == 200
    text = squeeze(extract_text(_pdf(other)))
    assert "Jonas Weber" in text and "Anna Schmidt" not in text
