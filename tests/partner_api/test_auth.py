"""SMART Backend Services client authentication (private_key_jwt), access tokens, scopes, revocation."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gateway.audit import events
from gateway.audit.events import Outcome
from tests.partner_api.conftest import DUPONT, add_partner, code_of, plain, stored_state


def test_smart_configuration_advertises_private_key_jwt(countries):
    conf = plain(countries).get(countries.public("DE") + "/.well-known/smart-configuration", timeout=10).json()
    assert conf["token_endpoint"] == countries.public("DE") + "/oauth/token"
    assert "private_key_jwt" in conf["token_endpoint_auth_methods_supported"]
    assert {"ES384", "RS384"} <= set(conf["token_endpoint_auth_signing_alg_values_supported"])
    assert "client-confidential-asymmetric" in conf["capabilities"]
    assert conf["grant_types_supported"] == ["client_credentials"]


def test_private_key_jwt_gives_a_token_that_works(partner):
    resp = partner.token_response(scope="system/Patient.read")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] <= 300 and body["scope"] == "system/Patient.read"
    found = partner.session().get(partner.fhir + "/Patient", params={"country": "FR", **DUPONT}, timeout=10)
    assert found.status_code == 200, found.text
    assert found.json()["total"] == 1


def test_client_assertion_is_single_use(partner):
    assertion = partner.client_assertion()
    assert partner.token_response(assertion).status_code == 200
    replay = partner.token_response(assertion)
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_client" and "replayed" in replay.json()["error_description"]


def other_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.mark.parametrize("case", [
    "wrong-key", "wrong-audience", "expired", "too-long", "no-jti", "sub-differs", "unknown-client", "hs256",
    "none", "not-a-jwt", "wrong-type", "client-id-differs", "rsa-unregistered",
])
def test_bad_client_assertions_are_refused(countries, partner, case):
    before = stored_state(countries)
    now = int(time.time())
    form = {}
    if case == "wrong-key":
        assertion = partner.client_assertion(key=other_key())
    elif case == "wrong-audience":
        assertion = partner.client_assertion(aud=countries.public("FR") + "/oauth/token")
    elif case == "expired":
        assertion = partner.client_assertion(iat=now - 900, exp=now - 600)
    elif case == "too-long":
        assertion = partner.client_assertion(exp=now + 3600)
    elif case == "no-jti":
        assertion = partner.client_assertion(jti=None)
    elif case == "sub-differs":
        assertion = partner.client_assertion(sub="client-someone-else")
    elif case == "unknown-client":
        assertion = partner.client_assertion(iss="client-0000000000000000", sub="client-0000000000000000")
    elif case == "hs256":
        assertion = jwt.encode({"iss": partner.client_id, "sub": partner.client_id, "aud": partner.token_url,
                                "exp": now + 60, "jti": "x" * 16}, "secret-secret-secret-secret-32by", algorithm="HS256")
    elif case == "none":
        assertion = jwt.encode({"iss": partner.client_id, "sub": partner.client_id, "aud": partner.token_url,
                                "exp": now + 60, "jti": "y" * 16}, None, algorithm="none")
    elif case == "not-a-jwt":
        assertion = "'; DROP TABLE clients; --"
    elif case == "wrong-type":
        form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"
        assertion = partner.client_assertion()
    elif case == "client-id-differs":
        form["client_id"] = "client-someone-else"
        assertion = partner.client_assertion()
    else:  # an RSA key (RS384) the client never registered
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = int(time.time())
        assertion = jwt.encode({"iss": partner.client_id, "sub": partner.client_id, "aud": partner.token_url,
                                "exp": now + 60, "jti": "z" * 16}, key, algorithm="RS384", headers={"kid": "rsa-1"})
    resp = partner.token_response(assertion, **form)
    assert resp.status_code == 401, resp.text
    assert resp.json()["error"] == "invalid_client"
    assert resp.headers["X-Request-ID"]
    assert "Traceback" not in resp.text
    assert stored_state(countries) == before


def test_secret_client_still_works_and_wrong_secret_is_refused(countries):
    creds = countries.partner_credentials("DE")
    ok = plain(countries).post(creds["token_url"], data={"grant_type": "client_credentials"},
                               auth=(creds["client_id"], creds["client_secret"]), timeout=10)
    assert ok.status_code == 200
    bad = plain(countries).post(creds["token_url"], data={"grant_type": "client_credentials"},
                                auth=(creds["client_id"], "wrong-secret-1234"), timeout=10,
                                headers={"X-Request-ID": (request_id := f"token-refused-{uuid.uuid4().hex}")})
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    assert "WWW-Authenticate" in bad.headers
    request_id = bad.headers["X-Request-ID"]  # this NCPeH's id of the call (the partner's is recorded beside)
    # the refusal is in the audit trail, naming the client and never the secret it tried
    store = countries.store("DE")
    try:
        records = [e for e in store.audit.entries() if e.request_id == request_id]
    finally:
        store.close()
    assert [(e.event, e.outcome, e.outcome_code, e.actor_id) for e in records] == [
        (events.TOKEN, Outcome.REFUSED, "invalid_client", creds["client_id"])]
    assert "wrong-secret-1234" not in repr(records[0])


def test_private_key_jwt_only_client_has_no_secret(countries):
    partner = add_partner(countries)
    assert partner.secret is None
    resp = plain(countries).post(partner.token_url, data={"grant_type": "client_credentials"},
                                 auth=(partner.client_id, ""), timeout=10)
    assert resp.status_code == 401


def test_token_of_another_country_is_refused(countries):
    fr = countries.partner_session("FR")  # a token issued by France's NCPeH
    session = plain(countries)
    session.headers.update({"Authorization": fr.headers["Authorization"],
                            "X-Clinician-Assertion": countries.clinician_assertion("DE")})
    resp = session.get(countries.public("DE") + "/fhir/Patient", params={"country": "FR", **DUPONT}, timeout=10)
    assert resp.status_code == 401
    assert code_of(resp) == "INVALID_TOKEN"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_is_refused(countries):
    signer = countries.signer("DE")
    base = countries.public("DE")
    now = int(time.time())
    token = jwt.encode({"iss": base, "aud": base + "/fhir", "sub": countries.partner_credentials("DE")["client_id"],
                        "scope": "system/Patient.read", "iat": now - 900, "nbf": now - 900, "exp": now - 600,
                        "jti": "expired-token-1"}, signer.key, algorithm="ES256",
                       headers={"kid": signer.kid, "typ": "at+jwt"})
    resp = plain(countries).get(base + "/fhir/Patient", params={"country": "FR", **DUPONT},
                                headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert resp.status_code == 401 and code_of(resp) == "TOKEN_EXPIRED"
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


def test_clinician_assertion_of_another_client_is_refused(countries, partner):
    session = partner.session(clinician=False)
    session.headers["X-Clinician-Assertion"] = countries.clinician_assertion("DE")  # signed for the demo client
    resp = session.get(partner.fhir + "/Patient", params={"country": "FR", **DUPONT}, timeout=10)
    assert resp.status_code == 401
    assert code_of(resp) in ("CLINICIAN_ASSERTION_INVALID", "CLINICIAN_KEY_UNKNOWN")


def test_insufficient_scope_is_403(countries):
    portal_only = add_partner(countries, scopes=("system/AuditEvent.read",))
    resp = portal_only.session().get(portal_only.fhir + "/Patient", params={"country": "FR", **DUPONT}, timeout=10)
    assert resp.status_code == 403 and code_of(resp) == "INSUFFICIENT_SCOPE"
    assert "insufficient_scope" in resp.headers["WWW-Authenticate"]


def revoke(countries, client_id: str) -> None:
    store = countries.store("DE")
    try:
        store.clients.revoke(client_id)
    finally:
        store.close()


def test_revoked_client_token_stops_working(countries):
    partner = add_partner(countries)
    session = partner.session()
    revoke(countries, partner.client_id)
    resp = session.get(partner.fhir + "/Patient", params={"country": "FR", **DUPONT}, timeout=10)
    assert resp.status_code == 401 and code_of(resp) == "CLIENT_REVOKED"
    assert partner.token_response().status_code == 401


def test_rate_limit_answers_429_with_retry_after(countries):
    limited = add_partner(countries, rate=3)
    session = limited.session()
    url = limited.fhir + "/CodeSystem/$lookup"
    params = {"system": "http://loinc.org", "code": "48765-2"}
    statuses = [session.get(url, params=params, timeout=10) for _ in range(5)]
    assert [r.status_code for r in statuses[:3]] != [429] * 3
    refused = [r for r in statuses if r.status_code == 429]
    assert refused, [r.status_code for r in statuses]
    assert code_of(refused[0]) == "RATE_LIMITED"
    assert 1 <= int(refused[0].headers["Retry-After"]) <= 60
    assert refused[0].headers["X-Request-ID"]
    # another client is not affected
    other = add_partner(countries).session()
    assert other.get(url, params=params, timeout=10).status_code != 429


def test_revoked_client_token_stops_working_after_it_was_used(countries):
    """The access token's verification is kept between calls (gateway.security.jws.VerifiedTokens);
    the revocation of its client still takes effect on the next call."""
    partner = add_partner(countries)
    session = partner.session()
    resp = session.get(partner.fhir + "/Patient", params={"country": "FR", **DUPONT}, timeout=10)
    assert resp.status_code == 200
    revoke(countries, partner.client_id)
    resp = session.get(partner.fhir + "/Patient", params={"country": "FR", **DUPONT}, timeout=10)
    assert resp.status_code == 401 and code_of(resp) == "CLIENT_REVOKED"


def test_terminology_operations_record_refused_access_only(countries):
    """The terminology operations hold no patient data: their answers and parameter errors leave no audit
    record, but a missing token, a revoked client and a spent rate limit do (refused access is a
    security event, as on the partner API)."""
    url = countries.public("DE") + "/fhir/CodeSystem/$lookup"
    known, unknown = {"system": "http://loinc.org", "code": "48765-2"}, {"system": "http://snomed.info/sct", "code": "0"}
    calls: dict[str, int] = {}
    tags: dict[str, str] = {}

    def call(session, params, tag: str) -> None:
        resp = session.get(url, params=params, headers={"X-Request-ID": f"lookup-{tag}-{uuid.uuid4().hex}"}, timeout=10)
        calls[resp.headers["X-Request-ID"]] = resp.status_code  # this NCPeH's id of the call
        tags[resp.headers["X-Request-ID"]] = tag

    partner, limited, revoked = add_partner(countries), add_partner(countries, rate=1), add_partner(countries)
    call(partner.session(), known, "ok")
    call(partner.session(), unknown, "unknown-code")
    call(plain(countries), known, "no-token")
    revoked_session = revoked.session()
    revoke(countries, revoked.client_id)
    call(revoked_session, known, "revoked")
    limited_session = limited.session()
    for _ in range(3):
        call(limited_session, known, "limited")
    store = countries.store("DE")
    try:
        recorded = {e.request_id: e for e in store.audit.entries() if e.request_id in calls}
    finally:
        store.close()
    for request_id, status in calls.items():
        if status in (200, 404):
            assert request_id not in recorded, request_id
            continue
        entry = recorded[request_id]
        assert (entry.event, entry.outcome, entry.detail["status"]) == (events.API, Outcome.REFUSED, status)
        assert entry.detail["endpoint"] == "terminology_api.lookup"
    codes = sorted((tags[rid].split("-")[0], e.outcome_code, e.actor_id) for rid, e in recorded.items())
    assert codes[0] == ("limited", "RATE_LIMITED", limited.client_id)
    assert ("no", "NO_TOKEN", None) in codes and ("revoked", "CLIENT_REVOKED", revoked.client_id) in codes
    assert sorted(calls.values()).count(200) >= 2 and 404 in calls.values()
