"""Hostile-case catalogue, part 1: against the running FR and DE (real gunicorn, real mutual TLS).

Country A is FR (holds the patient), country B is DE (asks). Each case expects its specific
refusal code in an OperationOutcome, or, for what the TLS layer refuses, a failed handshake.
"""

from __future__ import annotations

import hashlib
import json
import socket
import ssl
import time
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gateway import audit_trail as trail
from gateway.audit.events import Outcome
from gateway.security import assertions, pki
from gateway.security.assertions import AssertionSigner, Clinician, signing
from gateway.security.trustlist import key_id
from tests.conftest import CLINICIAN
from tests.security.helpers import (
    FR_INS_SYSTEM,
    INS,
    TRAITS,
    assert_refused,
    b64,
    hs256_with_public_key,
    parts,
    resign,
    resign_iua,
    unsigned,
)


@pytest.fixture(scope="module")
def fr(countries):
    """What a hostile or honest DE NCPeH needs to talk to FR's NCPeH listener."""

    class Peer:
        url = countries.ncp("FR")
        session = countries.peer_session("DE")
        de = countries.signer("DE")
        fr_signer = countries.signer("FR")
        patient_id = countries.store("FR").records.find_by_identifier(TRAITS["identifier"].split("|")[0], INS).id

        def hcp(self, purpose: str = "TREATMENT", clinician: Clinician = CLINICIAN) -> str:
            return self.de.hcp(clinician, purpose, self.url)

        def trc(self, patient_id: str | None = None, purpose: str = "TREATMENT",
                clinician: Clinician = CLINICIAN) -> str:
            return self.de.trc(clinician, purpose, patient_id or self.patient_id, self.url)

        def search(self, token: str | None, **headers: str) -> requests.Response:
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            return self.session.get(self.url + "/fhir/Patient", params=TRAITS, headers=headers, timeout=10)

        def summary(self, hcp: str | None, trc: str | None, patient_id: str | None = None) -> requests.Response:
            headers = {}
            if hcp is not None:
                headers["Authorization"] = f"Bearer {hcp}"
            if trc is not None:
                headers["X-TRC-Assertion"] = trc
            return self.session.get(f"{self.url}/fhir/Patient/{patient_id or self.patient_id}/$summary",
                                    headers=headers, timeout=10)

    return Peer()


# --- the honest path, so that every refusal below is meaningful ------------------------------------


def test_honest_peer_identifies_and_retrieves(fr):
    found = fr.search(fr.hcp())
    assert found.status_code == 200 and found.json()["total"] == 1
    assert found.json()["entry"][0]["resource"]["id"] == fr.patient_id
    summary = fr.summary(fr.hcp(), fr.trc())
    assert summary.status_code == 200, summary.text
    assert summary.json()["type"] == "document"


def test_emergency_purpose_is_allowed(fr):
    resp = fr.summary(fr.hcp("EMERGENCY"), fr.trc(purpose="EMERGENCY"))
    assert resp.status_code == 200, resp.text


# --- 1-3: the TLS layer and the trust list ---------------------------------------------------------


def test_01_no_client_certificate_fails_the_handshake(countries):
    with pytest.raises(requests.exceptions.ConnectionError) as info:
        requests.get(countries.ncp("FR") + "/fhir/Patient", verify=countries.ca(), timeout=5)
    assert "certificate" in str(info.value).lower()


def test_02_certificate_from_another_ca_fails_the_handshake(countries, tmp_path):
    pki.ensure_ca(tmp_path)
    pki.ensure_country(tmp_path, "DE")
    with pytest.raises(requests.exceptions.ConnectionError) as info:
        requests.get(countries.ncp("FR") + "/fhir/Patient", verify=countries.ca(), timeout=5,
                     cert=(str(tmp_path / "de" / "tls-client.crt"), str(tmp_path / "de" / "tls-client.key")))
    assert "unknown ca" in str(info.value).lower() or "certificate" in str(info.value).lower()


def test_03_demo_ca_certificate_not_on_the_trust_list(countries, fr):
    certs = countries.configs["FR"].certs_dir
    pki.ensure_country(certs, "IT")  # issued by the genuine demo CA, but IT is not in the trust list
    try:
        resp = requests.get(fr.url + "/fhir/Patient", params=TRAITS, verify=countries.ca(), timeout=5,
                            cert=(str(certs / "it" / "tls-client.crt"), str(certs / "it" / "tls-client.key")),
                            headers={"Authorization": f"Bearer {fr.hcp()}"})
    finally:
        for path in (certs / "it").iterdir():
            path.unlink()
        (certs / "it").rmdir()
    assert_refused(resp, 403, "UNTRUSTED_CERTIFICATE")


# --- 4-13: the HCP assertion ----------------------------------------------------------------------


def test_04_missing_hcp_assertion(fr):
    assert_refused(fr.search(None), 401, "HCP_ASSERTION_MISSING")


def test_05_forged_signature(fr):
    impostor = ec.generate_private_key(ec.SECP256R1())
    token = resign(fr.hcp(), impostor, header={"kid": fr.de.kid})  # claims DE's key id
    assert_refused(fr.search(token), 401, "ASSERTION_SIGNATURE_INVALID")


def test_05b_claims_changed_after_signing(fr):
    token = fr.hcp()
    header_b64, _, signature = token.split(".")
    _, body = parts(token)
    body["extensions"]["ihe_iua"]["subject_role"]["code"] = "2212"
    tampered = f"{header_b64}.{b64(json.dumps(body).encode())}.{signature}"
    assert_refused(fr.search(tampered), 401, "ASSERTION_SIGNATURE_INVALID")


def test_06_alg_none(fr):
    assert_refused(fr.search(unsigned(fr.hcp())), 401, "ASSERTION_ALGORITHM_REFUSED")


def test_07_hs256_signed_with_the_public_key(fr, countries):
    cfg = countries.configs["DE"]
    public_pem = (cfg.certs_dir / "de" / "signing.pub").read_bytes()
    token = hs256_with_public_key(fr.hcp(), public_pem)
    assert_refused(fr.search(token), 401, "ASSERTION_ALGORITHM_REFUSED")


def test_08_key_of_another_country_over_this_tls_certificate(fr):
    # A genuine FR-signed assertion (iss, home community...) presented over DE's TLS certificate.
    fr_claims = AssertionSigner("DE", fr.de.issuer, fr.fr_signer.kid, fr.fr_signer.key)
    token = fr_claims.hcp(CLINICIAN, "TREATMENT", fr.url)
    assert_refused(fr.search(token), 401, "ASSERTION_KEY_COUNTRY_MISMATCH")


def test_08b_key_unknown_to_the_trust_list(fr):
    stranger = ec.generate_private_key(ec.SECP256R1())
    token = resign(fr.hcp(), stranger, header={"kid": key_id(stranger.public_key())})
    assert_refused(fr.search(token), 401, "ASSERTION_UNKNOWN_KEY")


def test_09_wrong_audience(fr, countries):
    token = fr.de.hcp(CLINICIAN, "TREATMENT", countries.ncp("DE"))
    assert_refused(fr.search(token), 401, "ASSERTION_WRONG_AUDIENCE")


def test_10_expired(fr):
    now = int(time.time())
    token = resign(fr.hcp(), fr.de.key, iat=now - 400, nbf=now - 400, exp=now - 100)
    assert_refused(fr.search(token), 401, "ASSERTION_EXPIRED")


def test_10b_expiry_within_clock_skew_is_accepted(fr):
    now = int(time.time())
    token = resign(fr.hcp(), fr.de.key, iat=now - 300, nbf=now - 300, exp=now - 10)
    assert fr.search(token).status_code == 200


def test_11_not_yet_valid(fr):
    now = int(time.time())
    token = resign(fr.hcp(), fr.de.key, iat=now + 120, nbf=now + 120, exp=now + 300)
    assert_refused(fr.search(token), 401, "ASSERTION_NOT_YET_VALID")


def test_12_lifetime_too_long(fr):
    now = int(time.time())
    token = resign(fr.hcp(), fr.de.key, exp=now + 24 * 3600)
    assert_refused(fr.search(token), 401, "ASSERTION_LIFETIME_TOO_LONG")


def test_13_hcp_assertion_reused_within_its_validity(fr):
    """The HCP assertion is the clinician's session (issue #23): sent again by the same NCPeH, accepted
    (tests/security/test_hcp_sessions.py: verified once, refused over another NCPeH's certificate)."""
    token = fr.hcp()
    assert fr.search(token).status_code == 200
    assert fr.search(token).status_code == 200


def test_13b_hcp_jti_is_not_a_replay_key_the_trc_jti_is(fr):
    first = fr.hcp()
    assert fr.search(first).status_code == 200
    again = resign(fr.hcp(), fr.de.key, jti=parts(first)[1]["jti"])  # another assertion, the same jti
    assert fr.search(again).status_code == 200
    trc = fr.trc()
    assert fr.summary(fr.hcp(), trc).status_code == 200
    assert_refused(fr.summary(fr.hcp(), resign(fr.trc(), fr.de.key, jti=parts(trc)[1]["jti"])), 401,
                   "ASSERTION_REPLAYED")


def test_wrong_token_type_trc_as_hcp(fr):
    assert_refused(fr.search(fr.trc()), 401, "ASSERTION_WRONG_TYPE")


def test_issuer_is_not_the_tls_country(fr):
    token = resign(fr.hcp(), fr.de.key, iss=fr.url)
    assert_refused(fr.search(token), 401, "ASSERTION_ISSUER_MISMATCH")


def test_missing_identity_claim(fr):
    token = resign_iua(fr.hcp(), fr.de.key, subject_organization=None)
    assert_refused(fr.search(token), 401, "ASSERTION_CLAIM_MISSING")


# --- 14-17: policy and the TRC assertion ----------------------------------------------------------


def test_14_trc_for_another_patient(fr):
    assert_refused(fr.summary(fr.hcp(), fr.trc(patient_id="someone-else")), 403, "TRC_PATIENT_MISMATCH")


def test_15_trc_of_another_clinician(fr):
    other = Clinician("de-lanr-999999999", "Dr. Max Muster", "221", "Praxis Muster", "urn:oid:1.2.276.0.76.4.8.1",
                      "de")
    assert_refused(fr.summary(fr.hcp(), fr.trc(clinician=other)), 403, "TRC_CLINICIAN_MISMATCH")


def test_15b_trc_missing_on_summary(fr, countries):
    """Step 7 of docs/trust-and-assertions.md: the clinician is authenticated (HCP assertion verified), the
    treatment relationship is not shown: 403, and only once the HCP assertion verified."""
    assert_refused(fr.summary(fr.hcp(), None), 403, "TRC_ASSERTION_MISSING")
    assert_refused(fr.summary(fr.de.hcp(CLINICIAN, "TREATMENT", countries.ncp("DE")), None), 401,
                   "ASSERTION_WRONG_AUDIENCE")


def test_15c_trc_with_another_purpose(fr):
    assert_refused(fr.summary(fr.hcp("TREATMENT"), fr.trc(purpose="EMERGENCY")), 403, "TRC_PURPOSE_MISMATCH")


def test_15d_replayed_trc(fr):
    trc = fr.trc()
    assert fr.summary(fr.hcp(), trc).status_code == 200
    assert_refused(fr.summary(fr.hcp(), trc), 401, "ASSERTION_REPLAYED")


def test_15e_a_trc_sharing_the_session_hcps_jti_is_still_single_use(fr, monkeypatch):
    monkeypatch.setattr(signing.secrets, "token_urlsafe", lambda _n=18: "one-jti-for-two-assertions")
    hcp, trc = fr.hcp(), fr.trc()
    monkeypatch.undo()
    assert fr.summary(hcp, trc).status_code == 200  # the HCP's jti is not recorded: the TRC's is new
    assert_refused(fr.summary(fr.hcp(), trc), 401, "ASSERTION_REPLAYED")


def test_16_role_not_allowed(fr):
    dietician = Clinician("de-1", "Eva Diät", "2265", "Klinikum Demo", "urn:oid:1.2.276.0.76.4.8.999", "de")
    assert_refused(fr.search(fr.hcp(clinician=dietician)), 403, "ROLE_NOT_ALLOWED")


def test_16b_physiotherapist_not_for_emergency(fr):
    physio = Clinician("de-2", "Paul Physio", "2264", "Praxis", "urn:oid:1.2.276.0.76.4.8.998", "de")
    assert fr.search(fr.hcp(clinician=physio)).status_code == 200
    assert_refused(fr.search(fr.hcp("EMERGENCY", clinician=physio)), 403, "PURPOSE_NOT_ALLOWED")


def test_17_purpose_missing(fr):
    token = resign_iua(fr.hcp(), fr.de.key, purpose_of_use=None)
    assert_refused(fr.search(token), 403, "PURPOSE_OF_USE_MISSING")


def test_17b_purpose_not_allowed(fr):
    token = resign_iua(fr.hcp(), fr.de.key, purpose_of_use={"code": "MARKETING"})
    assert_refused(fr.search(token), 403, "PURPOSE_NOT_ALLOWED")


# --- verification order ----------------------------------------------------------------------------


def test_order_signature_before_everything(fr):
    impostor = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    token = resign(fr.hcp(), impostor, header={"kid": fr.de.kid}, aud="https://elsewhere", exp=now - 1000)
    assert_refused(fr.search(token), 401, "ASSERTION_SIGNATURE_INVALID")


def test_order_audience_before_time(fr):
    now = int(time.time())
    token = resign(fr.hcp(), fr.de.key, aud="https://elsewhere", iat=now - 900, nbf=now - 900, exp=now - 600)
    assert_refused(fr.search(token), 401, "ASSERTION_WRONG_AUDIENCE")


def test_order_time_before_replay_and_refused_tokens_do_not_burn_their_jti(fr):
    good = fr.hcp()
    now = int(time.time())
    expired = resign(good, fr.de.key, iat=now - 900, nbf=now - 900, exp=now - 600)
    assert_refused(fr.search(expired), 401, "ASSERTION_EXPIRED")
    assert fr.search(good).status_code == 200  # same jti: the expired copy did not consume it


def test_order_trc_replay_before_policy(fr):
    dietician = Clinician("de-1", "Eva Diät", "2265", "Klinikum Demo", "urn:oid:1.2.276.0.76.4.8.999", "de")
    token = fr.hcp(clinician=dietician)
    assert_refused(fr.search(token), 403, "ROLE_NOT_ALLOWED")
    assert_refused(fr.search(token), 403, "ROLE_NOT_ALLOWED")  # the policy is checked at every use
    trc = fr.trc(clinician=dietician)
    assert_refused(fr.summary(token, trc), 403, "ROLE_NOT_ALLOWED")  # its jti recorded before the policy...
    assert_refused(fr.summary(token, trc), 401, "ASSERTION_REPLAYED")  # ...so the replay comes first


def test_order_trc_binding_before_consent_and_patient(fr):
    # An unknown patient with a TRC for another patient: the binding is refused first.
    assert_refused(fr.summary(fr.hcp(), fr.trc(patient_id="fr-x"), patient_id="nobody"), 403, "TRC_PATIENT_MISMATCH")


# --- 20: consent, through the whole chain (DE partner API -> DE NCPeH -> FR NCPeH) ----------------


def test_19_patient_opposed(countries, fr):
    session = countries.partner_session("DE")
    base = countries.public("DE") + "/fhir"
    found = session.get(f"{base}/Patient", params={"country": "FR", **TRAITS}, timeout=10).json()
    local = found["entry"][0]["resource"]["id"]
    store = countries.store("FR")
    try:
        store.records.set_consent(fr.patient_id, "opposed", audit=trail.consent_draft("FR", fr.patient_id, "opposed"))
        resp = session.get(f"{base}/Patient/{local}/$summary", timeout=10)
        assert_refused(resp, 403, "ACCESS_REFUSED")
        direct = fr.summary(fr.hcp(), fr.trc())
        assert_refused(direct, 403, "ACCESS_REFUSED")
    finally:
        store.records.set_consent(fr.patient_id, "allowed", audit=trail.consent_draft("FR", fr.patient_id, "allowed"))
        store.close()
    assert session.get(f"{base}/Patient/{local}/$summary", timeout=10).status_code == 200


# --- country B: the clinician behind the partner software -----------------------------------------


def test_partner_without_clinician_assertion(countries):
    session = countries.partner_session("DE", clinician=None)
    resp = session.get(countries.public("DE") + "/fhir/Patient", params={"country": "FR", **TRAITS}, timeout=10)
    assert_refused(resp, 401, "CLINICIAN_ASSERTION_MISSING")


def test_partner_clinician_assertion_signed_by_an_unregistered_key(countries):
    session = countries.partner_session("DE", clinician=None)
    creds = countries.partner_credentials("DE")
    stranger = ec.generate_private_key(ec.SECP256R1())
    token = assertions.clinician_assertion(stranger, creds["client_id"], creds["fhir_base"], CLINICIAN)
    resp = session.get(countries.public("DE") + "/fhir/Patient", params={"country": "FR", **TRAITS},
                       headers={"X-Clinician-Assertion": token}, timeout=10)
    assert_refused(resp, 401, "CLINICIAN_KEY_UNKNOWN")


def test_partner_clinician_assertion_of_another_client(countries):
    session = countries.partner_session("DE", clinician=None)
    creds = countries.partner_credentials("DE")
    from gateway.security import assertions

    key = pki.load_private_key(Path(creds["clinician_signing_key"]))
    token = assertions.clinician_assertion(key, "client-someone-else", creds["fhir_base"], CLINICIAN)
    resp = session.get(countries.public("DE") + "/fhir/Patient", params={"country": "FR", **TRAITS},
                       headers={"X-Clinician-Assertion": token}, timeout=10)
    assert_refused(resp, 401, "CLINICIAN_ASSERTION_INVALID")


def test_partner_role_refused_at_home(countries):
    vet = Clinician("de-3", "Dr. Tier", "225", "Tierklinik", "urn:oid:1.2.276.0.76.4.8.997", "de")
    session = countries.partner_session("DE", clinician=vet)
    resp = session.get(countries.public("DE") + "/fhir/Patient", params={"country": "FR", **TRAITS}, timeout=10)
    assert_refused(resp, 403, "ROLE_NOT_ALLOWED")


def test_partner_purpose_missing_refused_at_home(countries):
    session = countries.partner_session("DE", purpose=None)
    resp = session.get(countries.public("DE") + "/fhir/Patient", params={"country": "FR", **TRAITS}, timeout=10)
    assert_refused(resp, 403, "PURPOSE_OF_USE_MISSING")


def test_partner_emergency_through_the_chain(countries):
    session = countries.partner_session("DE", purpose="EMERGENCY")
    base = countries.public("DE") + "/fhir"
    found = session.get(f"{base}/Patient", params={"country": "FR", **TRAITS}, timeout=10)
    assert found.status_code == 200 and found.json()["total"] == 1
    local = found.json()["entry"][0]["resource"]["id"]
    assert session.get(f"{base}/Patient/{local}/$summary", timeout=10).status_code == 200


# --- bad input: garbage tokens, huge headers, broken handshakes ------------------------------------


@pytest.mark.parametrize("garbage", [
    "x", "a.b.c", "....", "eyJhbGciOiJFUzI1NiJ9", "eyJ.eyJ.eyJ", "%00%ff", "null", "Bearer",
    b64(b"[1,2,3]") + ".e30.", b64(b'{"alg":"ES256","kid":123}') + ".e30.sig",
    b64(b'{"alg":"ES256","kid":"k","crit":["x"]}') + ".e30.sig", "\u00e9\u00e9.\u00e9.\u00e9",
])
def test_garbage_tokens(fr, garbage):
    try:
        resp = fr.search(garbage)
    except (ValueError, UnicodeError):
        pytest.skip("the HTTP client itself refuses to send this header")
    assert resp.status_code == 401, resp.text
    assert_refused(resp, 401, resp.json()["issue"][0]["details"]["coding"][0]["code"])
    assert resp.json()["issue"][0]["details"]["coding"][0]["code"].startswith(("ASSERTION_", "HCP_"))


def test_authorization_with_another_scheme(fr):
    resp = fr.session.get(fr.url + "/fhir/Patient", params=TRAITS, headers={"Authorization": "Basic Zm9vOmJhcg=="},
                          timeout=10)
    assert_refused(resp, 401, "HCP_ASSERTION_MISSING")


def test_large_assertion(fr):
    token = resign(fr.hcp(), fr.de.key, padding="A" * 6500)
    assert_refused(fr.search(token), 401, "ASSERTION_TOO_LARGE")


def test_huge_header_is_refused_by_the_server_without_a_trace(fr):
    resp = fr.session.get(fr.url + "/fhir/Patient", params=TRAITS,
                          headers={"Authorization": "Bearer " + "A" * 70000}, timeout=10)
    assert 400 <= resp.status_code < 500
    assert "Traceback" not in resp.text


def test_many_headers(fr):
    headers = {f"X-Junk-{i}": "x" * 100 for i in range(150)}
    headers["Authorization"] = f"Bearer {fr.hcp()}"
    resp = fr.session.get(fr.url + "/fhir/Patient", params=TRAITS, headers=headers, timeout=10)
    assert resp.status_code in (200, 400, 431)
    assert "Traceback" not in resp.text


def _raw(host: str, port: int, data: bytes) -> None:
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(data)
        sock.settimeout(2)
        try:
            sock.recv(1024)
        except (TimeoutError, OSError):
            pass


def test_truncated_handshakes_and_certificates_do_not_hurt_the_listener(countries, fr):
    cfg = countries.configs["FR"]
    host, port = cfg.ncp.host, cfg.ncp.port
    # a truncated ClientHello, plain-text HTTP on the TLS port, random bytes
    hello = bytes.fromhex("16030100c4010000c00303") + b"\x00" * 20
    for data in (hello, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", bytes(range(256)) * 4):
        _raw(host, port, data)
    # a client whose certificate message is cut short: the handshake with a truncated chain fails
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(countries.ca())
    pem = cfg.certs_dir / "de" / "tls-client.crt"
    truncated = countries.configs["FR"].home / "truncated-client.crt"
    truncated.write_bytes(pem.read_bytes()[: len(pem.read_bytes()) // 2])
    with pytest.raises(ssl.SSLError):
        ctx.load_cert_chain(str(truncated), str(cfg.certs_dir / "de" / "tls-client.key"))
    # the truncated DER of a valid certificate is no certificate of the trust list either
    der = pki.load_certificate(pem).public_bytes(serialization.Encoding.DER)
    from gateway.security.trustlist import verify

    trust = verify(cfg.trust_list, cfg.certs.ca_cert)
    assert trust.country_for_certificate(der[: len(der) // 2]) is None
    # and the listener still answers honest peers
    assert fr.search(fr.hcp()).status_code == 200


def test_workers_survive_the_catalogue(countries, fr):
    for code in ("FR", "DE"):
        cfg = countries.configs[code]
        resp = requests.get(cfg.ncp.url + "/_status", verify=countries.ca(), timeout=5,
                            cert=(str(cfg.certs.client_cert), str(cfg.certs.client_key)))
        assert resp.status_code == 200 and resp.json()["checks"]["signing_key"]["published"] is True
    for name, proc in countries.topo.processes:
        assert proc.poll() is None, f"{name} died"
    assert fr.search(fr.hcp()).status_code == 200


# --- every refusal is in the audit trail -----------------------------------------------------------


def test_refusals_are_audited_with_their_code_and_the_clinician(fr, countries):
    dietician = Clinician("de-diet-7", "Eva Diät", "2265", "Klinikum Demo", "urn:oid:1.2.276.0.76.4.8.999", "de")
    token = fr.hcp(clinician=dietician)
    refused = fr.session.get(fr.url + "/fhir/Patient", params=TRAITS, timeout=10, headers={
        "Authorization": f"Bearer {token}", "X-Request-ID": "audit-role-000001"})
    assert_refused(refused, 403, "ROLE_NOT_ALLOWED")
    forged = fr.session.get(fr.url + "/fhir/Patient", params=TRAITS, timeout=10, headers={
        "Authorization": f"Bearer {unsigned(fr.hcp())}", "X-Request-ID": "audit-algn-000001"})
    assert_refused(forged, 401, "ASSERTION_ALGORITHM_REFUSED")
    store = countries.store("FR")
    try:
        role = store.audit.by_request_id("audit-role-000001")
        alg = store.audit.by_request_id("audit-algn-000001")
    finally:
        store.close()
    assert [e.outcome_code for e in role] == ["ROLE_NOT_ALLOWED"]
    assert role[0].actor_id == "de-diet-7" and role[0].actor_role == "2265" and role[0].peer_country == "DE"
    assert [e.outcome_code for e in alg] == ["ASSERTION_ALGORITHM_REFUSED"]
    assert alg[0].peer_country == "DE" and alg[0].actor_id == "NCPeH-DE"
    trail = repr(role[0]) + repr(alg[0])
    assert token.split(".")[1][:40] not in trail and token.split(".")[2][:40] not in trail  # no token in the trail


def test_an_identifier_in_other_scripts_digits_is_a_clear_refusal(fr):
    """``str.isdigit`` says a superscript or an Arabic-Indic digit is a digit; the INS check does not."""
    for nir in ("28405\u00b2505612387", "\u0662" + INS[1:]):
        resp = fr.session.get(fr.url + "/fhir/Patient", params={**TRAITS, "identifier": f"{FR_INS_SYSTEM}|{nir}"},
                              headers={"Authorization": f"Bearer {fr.hcp()}"}, timeout=10)
        assert_refused(resp, 400, "INVALID_IDENTIFIER")


def test_unknown_paths_and_methods_on_the_ncpeh_listener_are_audited(fr, countries):
    """A probe of the NCPeH listener (no route: 404, wrong method: 405) leaves a record naming the
    certificate, from a trusted peer or from a demo-CA certificate that is not on the trust list."""
    certs = countries.configs["FR"].certs_dir
    pki.ensure_country(certs, "IT")
    try:
        probe = requests.get(fr.url + "/fhir/metadata", verify=countries.ca(), timeout=5,
                             cert=(str(certs / "it" / "tls-client.crt"), str(certs / "it" / "tls-client.key")),
                             headers={"X-Request-ID": "audit-probe-404"})
        stranger = pki.load_certificate(certs / "it" / "tls-client.crt").public_bytes(serialization.Encoding.DER)
    finally:
        for path in (certs / "it").iterdir():
            path.unlink()
        (certs / "it").rmdir()
    assert probe.status_code == 404
    wrong_method = fr.session.post(f"{fr.url}/fhir/Patient/{fr.patient_id}/$summary", timeout=10,
                                   headers={"X-Request-ID": "audit-probe-405"})
    assert wrong_method.status_code == 405
    store = countries.store("FR")
    try:
        found = store.audit.by_request_id("audit-probe-404"), store.audit.by_request_id("audit-probe-405")
    finally:
        store.close()
    (unknown,), (method,) = found
    assert (unknown.outcome, unknown.detail["status"]) == (Outcome.REFUSED, 404)
    assert unknown.detail["client_certificate_sha256"] == hashlib.sha256(stranger).hexdigest()
    assert (method.outcome, method.detail["status"], method.detail["method"]) == (Outcome.REFUSED, 405, "POST")


# --- found by the conformance kit: a trait given twice -------------------------------------------------


def test_a_trait_given_twice_is_refused_not_read_as_its_first_value(fr):
    """Two identifiers (the first one matching) used to identify the patient by the first; each trait once."""
    params = [*TRAITS.items(), ("identifier", TRAITS["identifier"].split("|")[0] + "|" + "2840763123456" + "04")]
    resp = fr.session.get(fr.url + "/fhir/Patient", params=params, headers={"Authorization": f"Bearer {fr.hcp()}"},
                          timeout=10)
    assert resp.status_code == 400, resp.text
    assert resp.json()["issue"][0]["details"]["coding"][0]["code"] == "REPEATED_PARAMETER"
