"""A foreign NCPeH's answers are untrusted input: wrongly typed JSON never turns into a 500 or a garbled
identity.

Germany's real portal and partner API (gunicorn, HTTPS) talk to a stand-in for France's NCPeH: a real
HTTPS server on 127.0.0.1 holding FR's real server certificate (so that the channel passes the
trust-list pinning), answering what each test chooses:

- a summary whose entries and patient carry elements of the wrong JSON type (an ``onsetPeriod`` that is
  a string, an identifier ``system`` that is an object...): the summary page still shows the document;
- an identification answer whose Patient has ``name`` as an object, or ``given`` as a string: refused as
  a bad answer (a clinician must never confirm a garbled identity);
- a summary whose patient has a 3,000-character family name: the PDF is still made.
"""

from __future__ import annotations

import copy
from urllib.parse import urlsplit

import pytest

from tests.conftest import load_fixture, make_topology
from tests.partner_api.conftest import DUPONT as API_DUPONT
from tests.partner_api.conftest import FR_INS_SYSTEM, INS, add_partner, code_of
from tests.portal.conftest import Clinician, add_entry, add_user, message, resource, squeeze
from tests.portal.pdftext import extract_text
from tests.standin import reply, standing_in

PATIENT_REF = {"reference": "urn:uuid:0c0e4c5f-0000-4000-8000-000000000002"}
LONG_FAMILY = "M" * 3000  # a row of this height does not fit on a PDF page


def found_patient(**changes: object) -> dict:
    """The Patient of an identification answer (a valid one unless ``changes`` spoil it)."""
    patient = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1984-05-12",
               "name": [{"family": "DUPONT", "given": ["Marie"]}],
               "identifier": [{"system": FR_INS_SYSTEM, "value": INS}]}
    patient.update(changes)
    return patient


SEARCH_ANSWERS = {
    "name object": found_patient(name={"family": "DUPONT", "given": ["Marie"]}),
    "given string": found_patient(name=[{"family": "DUPONT", "given": "Marie"}]),
}


def wrongly_typed_document() -> dict:
    """The fixture summary, with elements of the wrong JSON type here and there."""
    doc = copy.deepcopy(load_fixture("ips-fr-dupont.json"))
    patient = resource(doc, "Patient")
    patient["identifier"].append({"system": {"oid": "1.2.250.1.213.1.4.10"}, "value": "EXTRA-ID-77"})
    condition = next(e["resource"] for e in doc["entry"] if e["resource"].get("id") == "co-1")
    del condition["onsetDateTime"]
    condition["onsetPeriod"] = "2019"
    add_entry(doc, "47519-4", {"resourceType": "Procedure", "id": "pr-x", "status": "completed",
                               "code": {"text": "Appendicectomie"}, "performedPeriod": "2010",
                               "subject": PATIENT_REF}, title="Interventions")
    add_entry(doc, "18776-5", {"resourceType": "CarePlan", "id": "cp-x", "status": "active", "intent": "plan",
                               "description": "Suivi diabétologique annuel", "period": ["2024"],
                               "subject": PATIENT_REF}, title="Plan de soins")
    add_entry(doc, "30954-2", {"resourceType": "Observation", "id": "ob-x", "status": "final",
                               "code": {"text": "HbA1c"}, "valueQuantity": {"value": 6.9, "unit": "%"},
                               "effectivePeriod": 2024, "referenceRange": "4-6", "subject": PATIENT_REF},
              title="Résultats")
    add_entry(doc, "104605-1", {"resourceType": "Flag", "id": "fl-x", "status": "active",
                                "code": {"text": "Risque de chute"}, "period": "2023", "subject": PATIENT_REF},
              title="Alertes")
    return doc


def long_name_document() -> dict:
    doc = copy.deepcopy(load_fixture("ips-fr-dupont.json"))
    resource(doc, "Patient")["name"][0]["family"] = LONG_FAMILY
    return doc


DOCUMENTS = {"wrong types": wrongly_typed_document(), "long name": long_name_document()}


def answer(request, mode: str) -> None:
    """France's NCPeH listener: identification answers and summaries as ``mode`` says."""
    path = urlsplit(request.path).path
    if path.endswith("$summary"):
        reply(request, 200, DOCUMENTS.get(mode, DOCUMENTS["wrong types"]))
        return
    patient = SEARCH_ANSWERS.get(mode, found_patient())
    reply(request, 200, {"resourceType": "Bundle", "type": "searchset", "total": 1, "entry": [{"resource": patient}]})


@pytest.fixture(scope="module")
def germany(tmp_path_factory):
    """Only DE's public listener runs; FR's NCPeH is the stand-in."""
    topo = make_topology(tmp_path_factory.mktemp("foreign-documents"), ["FR", "DE"])
    topo.prepare(patients=0)
    with standing_in(topo, answer, "valid", skip=frozenset({("DE", "ncp")})) as (running, stand_in):
        yield running, stand_in


@pytest.fixture
def browser(germany) -> Clinician:
    """A German physician, freshly signed in (no summary cached for this session)."""
    running, stand_in = germany
    stand_in.mode = "valid"
    account = add_user(running, "DE", language="de", prefix="fremd")
    clinician = Clinician(running, "DE")
    assert urlsplit(clinician.sign_in(account.username).url).path == "/"
    return clinician


def section(page, code: str):
    return next(e for e in page.find_all("section") if e.get("data-code") == code)


def test_wrongly_typed_elements_do_not_break_the_summary_page(germany, browser: Clinician):
    _, stand_in = germany
    stand_in.mode = "wrong types"
    page = browser.open_summary()
    assert page.status == 200, page.text[:500]
    assert "Traceback" not in page.resp.text
    # the patient, with the identifiers that can be read (one without a readable system keeps its value)
    identity = page.find("table", class_="identity")
    assert "DUPONT" in identity.text and "Marie Louise" in identity.text
    assert INS in identity.text and "EXTRA-ID-77" in identity.text and "oid" not in identity.text
    # the condition with an unreadable onset is still listed, its onset not stated
    problems = section(page, "11450-4")
    assert "Diabète sucré de type 2" in problems.text and "Autres malaises et fatigue" in problems.text
    # every other entry is still shown, partial dates as before
    allergies = section(page, "48765-2")
    assert "Pénicilline" in allergies.text and message("de", "partial date") in allergies.text
    assert [t for t in page.find_all("time") if t.get("datetime") == "2019"]  # the allergy's onset
    assert [t for t in page.find_all("time") if t.get("datetime") == "2018-03"]  # the medicine's start
    assert [t for t in page.find_all("time") if t.get("datetime") == "2024"]  # the other condition's onset
    assert "METFORMINE EUROGEN" in section(page, "10160-0").text
    assert "Appendicectomie" in section(page, "47519-4").text
    assert "Suivi diabétologique annuel" in section(page, "18776-5").text
    results = section(page, "30954-2")
    assert "HbA1c" in results.text and "6.9 %" in results.text
    assert "Risque de chute" in section(page, "104605-1").text
    narratives = page.find_all("div", class_="narrative-body")
    assert narratives and "Allergie à la pénicilline" in narratives[0].text


@pytest.mark.parametrize("mode", ["name object", "given string"])
def test_a_garbled_identity_is_refused_by_the_portal(germany, browser: Clinician, mode):
    _, stand_in = germany
    stand_in.mode = mode
    page = browser.search("FR", identifier=INS, family="DUPONT", given="Marie", birthdate="1984-05-12",
                          gender="female")
    assert urlsplit(page.url).path == "/search/FR", (page.url, page.text[:300])  # no identity to confirm
    assert page.status == 502 and page.title == message("de", "Unreadable answer"), page.text[:500]
    assert message("de", "%(country)s answered, but its answer could not be read safely; nothing of it is shown.",
                   country="Frankreich") in page.text
    assert message("de", "Code: %(code)s", code="PEER_BAD_ANSWER") in page.text
    assert "M a r i e" not in page.text
    assert browser.get("/patient").status == 409  # nothing kept to confirm


def test_a_valid_identity_is_shown_for_confirmation(germany, browser: Clinician):
    page = browser.search("FR", identifier=INS, family="DUPONT", given="Marie", birthdate="1984-05-12",
                          gender="female")
    assert urlsplit(page.url).path == "/patient" and page.status == 200, page.text[:300]
    assert "DUPONT" in page.text and "Marie" in page.text


@pytest.mark.parametrize("mode", ["name object", "given string"])
def test_a_garbled_identity_is_a_bad_answer_for_the_partner_api(germany, mode):
    running, stand_in = germany
    session = add_partner(running, rate=100_000).session()
    stand_in.mode = mode
    try:
        resp = session.get(running.public("DE") + "/fhir/Patient", params={"country": "FR", **API_DUPONT}, timeout=15)
    finally:
        stand_in.mode = "valid"
    assert resp.status_code == 502, resp.text
    assert code_of(resp) == "PEER_BAD_ANSWER"
    assert "Marie" not in resp.text
    healthy = session.get(running.public("DE") + "/fhir/Patient", params={"country": "FR", **API_DUPONT}, timeout=15)
    assert healthy.status_code == 200 and healthy.json()["entry"][0]["resource"]["id"] == "fr-p1"


def test_pdf_of_a_summary_with_a_very_long_family_name(germany, browser: Clinician):
    _, stand_in = germany
    stand_in.mode = "long name"
    page = browser.open_summary()
    assert page.status == 200, page.text[:300]
    assert LONG_FAMILY in page.text  # the portal shows it whole
    resp = browser.http.get(browser.url("/summary.pdf"), timeout=60)
    assert resp.status_code == 200, resp.text[:300]
    assert resp.headers["Content-Type"] == "application/pdf"
    assert resp.content.startswith(b"%PDF-") and resp.content.rstrip().endswith(b"%%EOF")
    text = squeeze(extract_text(resp.content))
    assert LONG_FAMILY[:200] in text.replace(" ", "")
    assert message("de", "(shortened: see the portal)") in text
    assert "Diabète sucré de type 2" in text and INS in text

