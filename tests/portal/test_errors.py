"""Errors a clinician understands, when the patient's country misbehaves: unreachable, too slow (both
with a retry button that works once the country is back), several patients matching.

Germany's real public listener (gunicorn) talks to a stand-in for France's NCPeH: a real HTTPS server on
127.0.0.1 holding FR's real server certificate, so that the channel passes the trust-list pinning.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest

from tests.conftest import make_topology
from tests.portal.conftest import DUPONT, Clinician, add_user, message
from tests.standin import reply, standing_in

CONNECT_TIMEOUT, READ_TIMEOUT = 1.0, 2.0


def patient(number: int) -> dict:
    return {"resourceType": "Patient", "id": f"p{number}", "gender": "female", "birthDate": "1984-05-12",
            "name": [{"family": "DUPONT", "given": ["Marie"]}],
            "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": DUPONT["identifier"]}]}


def answer(request, mode: str) -> None:
    """France's NCPeH listener as the test wants it: answering one or two patients, or too slowly."""
    if mode == "slow":
        time.sleep(READ_TIMEOUT * 3)
    count = 2 if mode == "several" else 1
    reply(request, 200, {"resourceType": "Bundle", "type": "searchset", "total": count,
                         "entry": [{"resource": patient(i)} for i in range(count)]})


@pytest.fixture(scope="module")
def germany(tmp_path_factory):
    """Only DE's public listener runs (short peer time-outs); FR's NCPeH is the stand-in."""
    home = tmp_path_factory.mktemp("portal-errors")
    topo = make_topology(home, ["FR", "DE"])
    topo.env = {**topo.env, "NCPEH_PEER_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
                "NCPEH_PEER_READ_TIMEOUT": str(READ_TIMEOUT)}
    topo.prepare()
    with standing_in(topo, answer, "one", skip=frozenset({("DE", "ncp")})) as (running, stand_in):
        yield running, stand_in


@pytest.fixture
def browser(germany) -> Clinician:
    running, stand_in = germany
    stand_in.mode = "one"
    if stand_in.server is None:
        stand_in.start()
    account = add_user(running, "DE", language="de", prefix="notfall")
    clinician = Clinician(running, "DE")
    assert urlsplit(clinician.sign_in(account.username).url).path == "/"
    return clinician


def retry_form(page):
    forms = [f for f in page.forms if f.action == "/search/FR/retry"]
    assert len(forms) == 1, page.text
    assert forms[0].fields.get("form_nonce") and forms[0].fields.get("csrf_token")
    return forms[0]


def test_slow_country_gives_a_time_out_page_and_retry_works(germany, browser: Clinician):
    _, stand_in = germany
    stand_in.mode = "slow"
    started = time.monotonic()
    page = browser.search("FR", **DUPONT)
    assert time.monotonic() - started < CONNECT_TIMEOUT + READ_TIMEOUT + 2
    assert page.status == 504 and page.title == message("de", "No answer in time")
    assert message("de", "%(country)s did not answer in time.", country="Frankreich") in page.text
    assert "PEER_TIMEOUT" in page.text
    retry_form(page)
    stand_in.mode = "one"
    again = browser.submit(page, "/search/FR/retry")  # the kept search, sent again
    assert urlsplit(again.url).path == "/patient" and again.status == 200
    assert "DUPONT" in again.text


def test_unreachable_country_and_retry(germany, browser: Clinician):
    _, stand_in = germany
    stand_in.stop()
    page = browser.search("FR", **DUPONT)
    assert page.status == 502 and page.title == message("de", "Country unreachable")
    assert message("de", "%(country)s cannot be reached at the moment.", country="Frankreich") in page.text
    retry_form(page)
    stand_in.start()
    again = browser.submit(page, "/search/FR/retry")
    assert urlsplit(again.url).path == "/patient", again.text
    # the retry button is a one-time form too
    assert browser.submit(page, "/search/FR/retry").status == 409


def test_several_matches(germany, browser: Clinician):
    _, stand_in = germany
    stand_in.mode = "several"
    page = browser.search("FR", **DUPONT)
    assert page.status == 200 and page.title == message("de", "Several patients match")
    assert message("de", "Add or correct identity traits (the identifier first) so that only one patient matches.") \
        in page.text
    assert [a for a in page.find_all("a") if a.get("href") == "/search/FR"]
    assert not [f for f in page.forms if f.action == "/search/FR/retry"]  # retrying the same would not help
    assert browser.get("/patient").status == 409  # no identity to confirm
