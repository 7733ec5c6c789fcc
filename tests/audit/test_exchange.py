"""Both sides record a cross-border exchange, joined by the request id; the patient sees the accesses."""

from __future__ import annotations

import base64
import json
import uuid

import requests
from fhir.resources.R4B.auditevent import AuditEvent

from gateway import audit_trail as trail
from gateway.audit import events
from gateway.audit.events import Outcome
from gateway.audit.fhir import to_fhir
from gateway.audit.verify import verify
from tests.conftest import CLINICIAN

INS = "284057505612387"
FR_INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
TRAITS = {"country": "FR", "identifier": f"{FR_INS_SYSTEM}|{INS}", "family": "Dupont", "given": "Marie",
          "birthdate": "1984-05-12", "gender": "female"}


def rid(label: str) -> str:
    return f"audit-{label}-{uuid.uuid4().hex[:12]}"


def records(countries, code: str, request_id: str):
    store = countries.store(code)
    try:
        return store.audit.by_request_id(request_id)
    finally:
        store.close()


def exchange(countries, session=None):
    """DE identifies the French patient then retrieves the summary; returns (request ids, patient id)."""
    session = session or countries.partner_session("DE")
    base = countries.public("DE") + "/fhir"
    search_id, summary_id = rid("search"), rid("summary")
    found = session.get(f"{base}/Patient", params=TRAITS, headers={"X-Request-ID": search_id}, timeout=10)
    assert found.status_code == 200, found.text
    patient_id = found.json()["entry"][0]["resource"]["id"]
    summary = session.get(f"{base}/Patient/{patient_id}/$summary", headers={"X-Request-ID": summary_id}, timeout=10)
    assert summary.status_code == 200, summary.text
    # Germany makes the exchange ids (the partner's values are only recorded beside them)
    return found.headers["X-Request-ID"], summary.headers["X-Request-ID"], patient_id, summary.json()


def test_both_sides_record_the_exchange_joined_by_request_id(countries):
    search_id, summary_id, local_id, document = exchange(countries)
    fr_patient = local_id.removeprefix("fr-")

    (fr_search,) = records(countries, "FR", search_id)
    (de_search,) = records(countries, "DE", search_id)
    assert (fr_search.event, fr_search.side, fr_search.outcome) == (events.IDENTIFY, events.RESPONDING, "0")
    assert (de_search.event, de_search.side, de_search.outcome) == (events.IDENTIFY, events.REQUESTING, "0")
    assert fr_search.patient_id == fr_patient and de_search.patient_id == local_id
    assert fr_search.detail["matches"] == 1 and de_search.detail["matches"] == 1
    assert fr_search.peer_country == "DE" and de_search.peer_country == "FR"

    (fr_release,) = records(countries, "FR", summary_id)
    (de_receipt,) = records(countries, "DE", summary_id)
    assert (fr_release.event, fr_release.side, fr_release.outcome) == (events.SUMMARY, events.RESPONDING, "0")
    assert (de_receipt.event, de_receipt.side, de_receipt.outcome) == (events.SUMMARY, events.REQUESTING, "0")
    assert fr_release.recorder == "FR" and fr_release.listener == "ncp"
    assert de_receipt.recorder == "DE" and de_receipt.listener == "public"
    # who, from where, in which role, why - on both sides
    for record in (fr_release, de_receipt):
        assert record.actor_type == events.ACTOR_CLINICIAN and record.actor_id == CLINICIAN.id
        assert record.actor_role == CLINICIAN.role and record.organisation == CLINICIAN.organisation_id
        assert record.purpose == "TREATMENT"
    # what was sent is what was received
    assert fr_release.detail["document_id"] == de_receipt.detail["document_id"] == document["identifier"]["value"]
    assert len(fr_release.detail["document_sha256"]) == 64
    assert de_receipt.detail["document_sha256"] == fr_release.detail["document_sha256"]  # the same bytes
    assert de_receipt.detail["client_id"] == countries.partner_credentials("DE")["client_id"]

    # FHIR AuditEvents (BALP privacy disclosure at source and at recipient), valid R4B
    source = AuditEvent.model_validate(to_fhir(fr_release, countries.ncp("FR")))
    recipient = AuditEvent.model_validate(to_fhir(de_receipt, countries.ncp("DE")))
    assert source.type.code == "110106" and recipient.type.code == "110107"
    for model in (source, recipient):
        assert [e.what.identifier.value for e in model.entity if e.type.code == "XrequestId"] == [summary_id]

    for code in ("FR", "DE"):
        store = countries.store(code)
        assert verify(store.audit).ok
        store.close()


def test_refusals_are_recorded_on_both_sides_with_their_code(countries):
    session = countries.partner_session("DE")
    base = countries.public("DE") + "/fhir"

    # unknown patient at FR
    unknown = rid("unknown")
    resp = session.get(f"{base}/Patient/fr-0000000000000000/$summary", headers={"X-Request-ID": unknown}, timeout=10)
    assert resp.status_code == 404
    unknown = resp.headers["X-Request-ID"]
    (fr,) = records(countries, "FR", unknown)
    (de,) = records(countries, "DE", unknown)
    assert (fr.outcome, fr.outcome_code, fr.side) == (Outcome.REFUSED, "UNKNOWN_PATIENT", events.RESPONDING)
    assert (de.outcome, de.outcome_code, de.side) == (Outcome.REFUSED, "UNKNOWN_PATIENT", events.REQUESTING)

    # the patient opposed cross-border access
    search_id, _, local_id, _ = exchange(countries, session)
    store = countries.store("FR")
    patient = store.records.get_patient(local_id.removeprefix("fr-"))
    store.records.set_consent(patient.id, "opposed", audit=trail.consent_draft("FR", patient.id, "opposed"))
    try:
        refused = rid("consent")
        resp = session.get(f"{base}/Patient/{local_id}/$summary", headers={"X-Request-ID": refused}, timeout=10)
        assert resp.status_code == 403
        refused = resp.headers["X-Request-ID"]
    finally:
        store.records.set_consent(patient.id, "allowed", audit=trail.consent_draft("FR", patient.id, "allowed"))
        store.close()
    (fr,) = records(countries, "FR", refused)
    (de,) = records(countries, "DE", refused)
    assert (fr.event, fr.outcome, fr.outcome_code) == (events.SUMMARY, Outcome.REFUSED, "ACCESS_REFUSED")
    assert (de.event, de.outcome, de.outcome_code) == (events.SUMMARY, Outcome.REFUSED, "ACCESS_REFUSED")
    assert fr.patient_id == patient.id and de.patient_id == local_id
    store = countries.store("FR")
    consent = [e for e in store.audit.entries() if e.event == events.CONSENT and e.patient_id == patient.id]
    store.close()
    assert [e.detail["consent"] for e in consent][-2:] == ["opposed", "allowed"]

    # refused before any view ran: no clinician assertion at DE, no HCP assertion at FR
    no_clinician = rid("noclin")
    resp = countries.partner_session("DE", clinician=None).get(
        f"{base}/Patient", params=TRAITS, headers={"X-Request-ID": no_clinician}, timeout=10)
    assert resp.status_code in (400, 401, 403)
    (de,) = records(countries, "DE", resp.headers["X-Request-ID"])
    assert de.outcome == Outcome.REFUSED and de.outcome_code == resp.json()["issue"][0]["details"]["coding"][0]["code"]
    bare = rid("bare")
    resp = countries.peer_session("DE").get(countries.ncp("FR") + "/fhir/Patient", params=TRAITS,
                                            headers={"X-Request-ID": bare}, timeout=10)
    assert resp.status_code in (401, 403)
    (fr,) = records(countries, "FR", bare)
    assert fr.outcome == Outcome.REFUSED and fr.outcome_code and fr.peer_country == "DE"

    # a bad token at DE
    bad_token = rid("token")
    resp = requests.get(f"{base}/Patient", params=TRAITS, verify=countries.ca(), timeout=10,
                        headers={"Authorization": "Bearer not-a-token", "X-Request-ID": bad_token})
    assert resp.status_code == 401
    (de,) = records(countries, "DE", resp.headers["X-Request-ID"])
    assert de.outcome_code == "INVALID_TOKEN"


def portal_session(countries, scope="system/AuditEvent.read"):
    store = countries.store("FR")
    client_id, secret = store.clients.add("Mon espace sante (test)", [scope])
    store.close()
    session = requests.Session()
    session.trust_env = False
    session.verify = countries.ca()
    token = session.post(countries.public("FR") + "/oauth/token", data={"grant_type": "client_credentials"},
                         auth=(client_id, secret), timeout=10)
    assert token.status_code == 200, token.text
    session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return client_id, session


def test_patient_access_history_api(countries):
    _, summary_id, local_id, _ = exchange(countries)
    client_id, session = portal_session(countries)
    url = countries.public("FR") + "/patient-portal/access-history"
    resp = session.get(url, params={"patient": INS}, timeout=10)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["patient"] == local_id.removeprefix("fr-")
    latest = [a for a in body["accesses"] if a["request_id"] == summary_id]
    assert latest == [{
        "when": latest[0]["when"], "access": "summary", "country": "DE", "organisation": CLINICIAN.organisation_id,
        "role": CLINICIAN.role, "purpose": "TREATMENT", "outcome": "success", "refusal_code": None,
        "request_id": summary_id, "audit_event": latest[0]["audit_event"]}]
    assert {a["access"] for a in body["accesses"]} >= {"identification", "summary"}
    assert "Schmidt" not in resp.text  # the clinician's name is not recorded

    bundle = session.get(url, params={"patient": f"{FR_INS_SYSTEM}|{INS}", "format": "fhir"}, timeout=10).json()
    assert bundle["resourceType"] == "Bundle" and bundle["total"] >= 2
    for entry in bundle["entry"]:
        AuditEvent.model_validate(entry["resource"])

    # the read itself is audited
    store = countries.store("FR")
    reads = [e for e in store.audit.entries() if e.event == events.ACCESS_HISTORY and e.actor_id == client_id]
    store.close()
    assert reads and reads[-1].patient_id == body["patient"] and reads[-1].outcome == "0"

    # protected: a partner token (no AuditEvent scope) or no token is refused
    assert requests.get(url, params={"patient": INS}, verify=countries.ca(), timeout=10).status_code == 401
    partner = countries.partner_session("FR")
    assert partner.get(url, params={"patient": INS}, timeout=10).status_code == 403
    assert session.get(url, params={"patient": "nobody"}, timeout=10).status_code in (400, 404)


def test_no_traits_secrets_or_tokens_in_audit_records_or_logs(countries):
    session = countries.partner_session("DE")
    token = session.headers["Authorization"].split()[1]
    exchange(countries, session)
    secrets_ = [countries.partner_credentials(c)["client_secret"] for c in ("FR", "DE")]
    forbidden = ["Dupont", "DUPONT", "Marie", "1984-05-12", CLINICIAN.name, token, *secrets_,
                 session.headers["X-Clinician-Assertion"]]
    for code in ("FR", "DE"):
        store = countries.store(code)
        dumped = "\n".join(json.dumps(to_fhir(e)) + repr(e) for e in store.audit.entries())
        store.close()
        for value in forbidden:
            assert value not in dumped, (code, value[:20])
            assert base64.b64encode(value.encode()).decode()[:16] not in dumped
    for log in countries.topo.log_dir.glob("*.log"):
        text = log.read_text(errors="replace")
        for value in forbidden:
            assert value not in text, (log.name, value[:20])


def test_access_log_lines_carry_the_request_id_on_both_sides(countries):
    import re
    import time

    _, summary_id, local_id, _ = exchange(countries)
    remote = local_id.removeprefix("fr-")
    expected = {
        "de-public.log": rf'^127\.0\.0\.1 "GET /fhir/Patient/{re.escape(local_id)}/\$summary" 200 \d+ \d+ms rid={summary_id}$',
        "fr-ncp.log": rf'^127\.0\.0\.1 "GET /fhir/Patient/{re.escape(remote)}/\$summary" 200 \d+ \d+ms rid={summary_id}$',
    }
    deadline = time.monotonic() + 5
    while True:
        found = {name: bool(re.search(pattern, (countries.topo.log_dir / name).read_text(errors="replace"), re.M))
                 for name, pattern in expected.items()}
        if all(found.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert all(found.values()), found
