"""The HCP identity assertion per clinician session (issue #23, docs/trust-and-assertions.md).

Country B (DE) signs one HCP assertion per clinician session and destination and reuses it until shortly
before it expires; country A (FR) verifies it once and keeps the verification until its ``exp``, bound to
the assertion, the sending NCPeH's TLS client certificate, the audience and the trust list. The TRC
assertion stays single-use. Real FR, DE (and IT's certificate) over HTTPS; whether A verified an HCP
signature is read from A's Server-Timing header (stage ``hcp-signature``, only present when it did) and,
without servers, from the cache's own statistics.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec

from gateway import storage, timing
from gateway.audit import fhir
from gateway.audit import reconcile as reconcile_mod
from gateway.audit.reconcile import Exchanged
from gateway.security import assertions, pki, trustlist
from gateway.security.assertions import AssertionRejected, AssertionSigner, AssertionVerifier, Clinician
from gateway.security.sessions import ExpiringCache
from gateway.security.trustlist import key_id
from gateway.services.population import store_documents
from tests.conftest import CLINICIAN, Running, load_fixture, make_topology, opposed_patient_document, started
from tests.security.helpers import INS, TRAITS, assert_refused, parts, resign

OTHER = Clinician("de-lanr-987654321", "Dr. Jonas Weber", "221", "Praxis Weber", "urn:oid:1.2.276.0.76.4.8.5", "de")
SECOND_INS = "1700213055123" + f"{97 - 1700213055123 % 97:02d}"  # the second stored patient (consent allowed)


@pytest.fixture(scope="module")
def trio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """FR (two patients, both allowing access), DE, and IT's certificates and keys in the trust list
    (IT's listeners are not started: its client certificate is all the tests need)."""
    topo = make_topology(tmp_path_factory.mktemp("hcp-sessions"), ["FR", "DE", "IT"])
    topo.env = {**topo.env, "NCPEH_SERVER_TIMING": "1"}
    topo.prepare(patients=0)
    store = storage.open_store(topo.configs["FR"].database_path)
    store_documents(store, topo.configs["FR"], [load_fixture("ips-fr-dupont.json"), opposed_patient_document()])
    store.close()
    with started(topo, skip=frozenset({("IT", "public"), ("IT", "ncp"), ("DE", "ncp")})) as running:
        yield running


def _patient(running: Running, ins: str) -> str:
    store = running.store("FR")
    try:
        return store.records.find_by_identifier(TRAITS["identifier"].split("|")[0], ins).id
    finally:
        store.close()


def _call(running: Running, path: str, hcp: str, trc: str | None = None, *, over: str = "DE",
          params: dict | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {hcp}"}
    if trc is not None:
        headers["X-TRC-Assertion"] = trc
    return running.peer_session(over).get(running.ncp("FR") + "/fhir" + path, params=params, headers=headers,
                                          timeout=10)


def _summary(running: Running, patient_id: str, hcp: str, trc: str | None, **kw) -> requests.Response:
    return _call(running, f"/Patient/{patient_id}/$summary", hcp, trc, **kw)


def _search(running: Running, hcp: str, **kw) -> requests.Response:
    return _call(running, "/Patient", hcp, params=TRAITS, **kw)


def _verified_hcp_signature(resp: requests.Response) -> bool:
    """Whether country A verified an HCP assertion's signature for this answer (its Server-Timing stages)."""
    return "hcp-signature" in timing.parse(resp.headers.get("Server-Timing"))


def _session_hcp(running: Running, clinician: Clinician = CLINICIAN, lifetime: int = 3600) -> str:
    return running.signer("DE").hcp(clinician, "TREATMENT", running.ncp("FR"), lifetime)


def _trc(running: Running, patient_id: str, clinician: Clinician = CLINICIAN) -> str:
    return running.signer("DE").trc(clinician, "TREATMENT", patient_id, running.ncp("FR"))


# --- country A: one verification per session assertion --------------------------------------------


def test_one_hcp_assertion_for_two_patients_is_verified_once(trio):
    first, second = _patient(trio, INS), _patient(trio, SECOND_INS)
    hcp = _session_hcp(trio)
    resp = _summary(trio, first, hcp, _trc(trio, first))
    assert resp.status_code == 200, resp.text
    assert _verified_hcp_signature(resp)
    assert "trc-signature" in timing.parse(resp.headers["Server-Timing"])
    for patient_id in (second, first):  # the same assertion, two patients: accepted, not verified again
        again = _summary(trio, patient_id, hcp, _trc(trio, patient_id))
        assert again.status_code == 200, again.text
        assert not _verified_hcp_signature(again)
        assert "trc-signature" in timing.parse(again.headers["Server-Timing"])  # each TRC is verified
    found = _search(trio, hcp)
    assert found.status_code == 200 and not _verified_hcp_signature(found)
    # the TRC's jti is single-use, the HCP's is not recorded
    store = trio.store("FR")
    try:
        assert not store.replay.seen("DE", parts(hcp)[1]["jti"])
        trc = _trc(trio, second)
        assert _summary(trio, second, hcp, trc).status_code == 200
        assert store.replay.seen("DE", parts(trc)[1]["jti"])
    finally:
        store.close()


def test_a_reused_hcp_assertion_over_another_ncpehs_certificate_is_refused(trio):
    hcp = _session_hcp(trio)
    assert _search(trio, hcp).status_code == 200  # verified and kept over DE's certificate
    for other in ("IT", "FR"):  # both in the trust list, neither is the issuer
        resp = _search(trio, hcp, over=other)
        assert_refused(resp, 401, "ASSERTION_KEY_COUNTRY_MISMATCH")
    patient_id = _patient(trio, INS)
    assert_refused(_summary(trio, patient_id, hcp, _trc(trio, patient_id), over="IT"), 401,
                   "ASSERTION_KEY_COUNTRY_MISMATCH")
    kept = _search(trio, hcp)
    assert kept.status_code == 200 and not _verified_hcp_signature(kept)  # still DE's session


def test_a_trc_replay_is_refused_with_the_session_hcp_or_another(trio):
    patient_id = _patient(trio, INS)
    hcp, trc = _session_hcp(trio), _trc(trio, patient_id)
    assert _summary(trio, patient_id, hcp, trc).status_code == 200
    assert_refused(_summary(trio, patient_id, hcp, trc), 401, "ASSERTION_REPLAYED")
    assert_refused(_summary(trio, patient_id, _session_hcp(trio), trc), 401, "ASSERTION_REPLAYED")
    assert _summary(trio, patient_id, hcp, _trc(trio, patient_id)).status_code == 200


def test_hcp_lifetime_at_most_one_hour_trc_at_most_ten_minutes(trio):
    now = int(time.time())
    signer = trio.signer("DE")
    hour = resign(_session_hcp(trio), signer.key, iat=now, nbf=now, exp=now + 3600)
    assert _search(trio, hour).status_code == 200
    longer = resign(_session_hcp(trio), signer.key, iat=now, nbf=now, exp=now + 3601)
    assert_refused(_search(trio, longer), 401, "ASSERTION_LIFETIME_TOO_LONG")
    patient_id = _patient(trio, INS)
    trc = resign(_trc(trio, patient_id), signer.key, iat=now, nbf=now, exp=now + 601)
    assert_refused(_summary(trio, patient_id, hour, trc), 401, "ASSERTION_LIFETIME_TOO_LONG")


def test_policy_is_checked_on_every_use_of_a_session_assertion(trio):
    dietician = Clinician("de-1", "Eva Diät", "2265", "Klinikum Demo", "urn:oid:1.2.276.0.76.4.8.999", "de")
    hcp = _session_hcp(trio, dietician)
    assert_refused(_search(trio, hcp), 403, "ROLE_NOT_ALLOWED")
    assert_refused(_search(trio, hcp), 403, "ROLE_NOT_ALLOWED")  # not a replay: refused for what it says
    patient_id = _patient(trio, INS)
    session = _session_hcp(trio)
    assert _search(trio, session).status_code == 200
    assert_refused(_summary(trio, patient_id, session, _trc(trio, patient_id, OTHER)), 403, "TRC_CLINICIAN_MISMATCH")
    assert_refused(_summary(trio, patient_id, session, None), 403, "TRC_ASSERTION_MISSING")


# --- country B: one assertion per clinician session, through the partner API -------------------------


def _hcp_jtis_at_a(running: Running, responses: list[requests.Response]) -> list[str]:
    store = running.store("FR")
    try:
        jtis = []
        for resp in responses:
            records = store.audit.by_request_id(resp.headers["X-Request-ID"])  # A keeps B's request id
            assert records, resp.headers["X-Request-ID"]
            jtis.append(records[-1].detail["hcp_assertion_jti"])
        return jtis
    finally:
        store.close()


def test_b_sends_one_hcp_assertion_per_clinician_session(trio):
    base = trio.public("DE") + "/fhir"
    anna = trio.partner_session("DE")
    found = anna.get(f"{base}/Patient", params={"country": "FR", **TRAITS}, timeout=10)
    assert found.status_code == 200, found.text
    local = found.json()["entry"][0]["resource"]["id"]
    summary = anna.get(f"{base}/Patient/{local}/$summary", timeout=10)
    assert summary.status_code == 200, summary.text
    # a new partner token and clinician assertion with the same claims: the same clinician session
    anna_again = trio.partner_session("DE")
    again = anna_again.get(f"{base}/Patient", params={"country": "FR", **TRAITS}, timeout=10)
    jonas = trio.partner_session("DE", clinician=OTHER)
    other = jonas.get(f"{base}/Patient", params={"country": "FR", **TRAITS}, timeout=10)
    emergency = trio.partner_session("DE", purpose="EMERGENCY").get(
        f"{base}/Patient", params={"country": "FR", **TRAITS}, timeout=10)
    assert again.status_code == other.status_code == emergency.status_code == 200
    first, second, third, for_jonas, for_emergency = _hcp_jtis_at_a(trio, [found, summary, again, other, emergency])
    assert first == second == third
    assert len({first, for_jonas, for_emergency}) == 3


def test_each_summary_call_is_recorded_at_a_with_its_own_trc_assertion(trio):
    """B's calls of one clinician session share the HCP assertion; what tells two calls (or a call and its
    retry) apart in A's records, and in reconciliation, is the single-use TRC assertion."""
    base = trio.public("DE") + "/fhir"
    anna = trio.partner_session("DE")
    found = anna.get(f"{base}/Patient", params={"country": "FR", **TRAITS}, timeout=10)
    local = found.json()["entry"][0]["resource"]["id"]
    calls = [anna.get(f"{base}/Patient/{local}/$summary", timeout=10) for _ in range(2)]
    assert [c.status_code for c in calls] == [200, 200], [c.text for c in calls]
    store = trio.store("FR")
    try:
        records = [store.audit.by_request_id(c.headers["X-Request-ID"])[-1] for c in calls]
        search = store.audit.by_request_id(found.headers["X-Request-ID"])[-1]
    finally:
        store.close()
    hcp = {r.detail["hcp_assertion_jti"] for r in records}
    trc = [r.detail["trc_assertion_jti"] for r in records]
    assert len(hcp) == 1 and len(set(trc)) == 2 and not hcp & set(trc)
    assert "trc_assertion_jti" not in search.detail  # an identification carries no TRC assertion
    attempts = [Exchanged.from_entry(r).attempt for r in records]
    assert attempts == trc
    exported = [reconcile_mod.from_fhir(fhir.to_fhir(r)) for r in records]
    assert [e.attempt for e in exported if e is not None] == trc


# --- the trust list: a removed country, a revoked key --------------------------------------------------


def test_a_removed_country_stops_a_kept_verification(trio):
    fr = trio.configs["FR"]
    hcp = _session_hcp(trio)
    assert _search(trio, hcp).status_code == 200
    trustlist.build([c for code, c in trio.configs.items() if code != "DE"], fr.certs_dir, fr.trust_list)
    try:
        assert_refused(_search(trio, hcp), 403, "UNTRUSTED_CERTIFICATE")
    finally:
        trustlist.build(trio.configs.values(), fr.certs_dir, fr.trust_list)
    back = _search(trio, hcp)  # named again by a newer list: verified in full again, then kept
    assert back.status_code == 200 and _verified_hcp_signature(back)
    assert not _verified_hcp_signature(_search(trio, hcp))


def test_a_revoked_key_stops_a_kept_verification(trio):
    de = trio.configs["DE"]
    hcp = _session_hcp(trio)
    assert _search(trio, hcp).status_code == 200
    assert not _verified_hcp_signature(_search(trio, hcp))
    pki.rotate_signing_key(de.certs_dir, "DE")
    current, retired = de.certs_dir / "de" / "signing.pub", de.certs_dir / "de" / "retired-signing.pub"
    current.rename(retired)
    try:
        trustlist.build(trio.configs.values(), de.certs_dir, de.trust_list)  # DE listed, its old key not
        assert_refused(_search(trio, hcp), 401, "ASSERTION_UNKNOWN_KEY")
    finally:
        retired.rename(current)
        trustlist.build(trio.configs.values(), de.certs_dir, de.trust_list)
    back = _search(trio, hcp)
    assert back.status_code == 200 and _verified_hcp_signature(back)


# --- without servers: the caches themselves -------------------------------------------------------------


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_signer_keeps_one_assertion_per_session_until_shortly_before_expiry():
    key = ec.generate_private_key(ec.SECP256R1())
    clock, cache = Clock(1_900_000_000.0), ExpiringCache[str](size=8)
    signer = AssertionSigner("DE", "https://de.example", key_id(key.public_key()), key, clock, cache, 900)
    a = "https://fr.example"
    first = signer.session_hcp(CLINICIAN, "TREATMENT", a)
    claims = parts(first)[1]
    assert claims["exp"] - claims["iat"] == 900
    assert signer.session_hcp(CLINICIAN, "TREATMENT", a) == first
    assert signer.session_hcp(dataclasses.replace(CLINICIAN), "TREATMENT", a) == first  # equal claims, same session
    others = {
        signer.session_hcp(OTHER, "TREATMENT", a),
        signer.session_hcp(dataclasses.replace(CLINICIAN, language="fr"), "TREATMENT", a),
        signer.session_hcp(CLINICIAN, "EMERGENCY", a),
        signer.session_hcp(CLINICIAN, "TREATMENT", "https://it.example"),
        signer.session_hcp(CLINICIAN, "TREATMENT", a, session="another-sign-in"),
    }
    assert len(others) == 5 and first not in others
    rotated = ec.generate_private_key(ec.SECP256R1())
    resigned = dataclasses.replace(signer, kid=key_id(rotated.public_key()), key=rotated)
    assert resigned.session_hcp(CLINICIAN, "TREATMENT", a) != first  # another signing key
    assert cache.stats() == {"size": 7, "hits": 2, "misses": 7}
    clock.now += 900 - assertions.HCP_RENEW_BEFORE - 1
    assert signer.session_hcp(CLINICIAN, "TREATMENT", a) == first
    clock.now += 1  # HCP_RENEW_BEFORE seconds left: a new one
    renewed = signer.session_hcp(CLINICIAN, "TREATMENT", a)
    assert renewed != first and parts(renewed)[1]["iat"] == int(clock.now)
    ceiling = dataclasses.replace(signer, hcp_lifetime=7200).session_hcp(OTHER, "TREATMENT", "https://x.example")
    assert parts(ceiling)[1]["exp"] - parts(ceiling)[1]["iat"] == assertions.HCP_MAX_LIFETIME
    assert len(cache) <= 8


def test_expiring_cache_is_bounded_and_forgets_expired_entries():
    cache = ExpiringCache[int](size=3)
    for n in range(5):
        cache.put(n, n, expires_at=100, now=0)
    assert len(cache) == 3 and cache.get(0, 1) is None and cache.get(4, 1) == 4  # the oldest went first
    assert cache.get(4, 100) is None and len(cache) == 2  # expired at 100
    cache.put("late", 1, expires_at=50, now=50)
    assert cache.get("late", 10) is None  # nothing kept once expired


def test_verifier_keeps_a_verification_per_certificate_and_trust_list(trio, tmp_path: Path):
    fr = trio.configs["FR"]
    trust = trustlist.verify(fr.trust_list, fr.certs.ca_cert)
    peer = trust.country("DE")
    assert peer is not None
    de_cert = trio.configs["DE"].certs.client_cert.read_bytes()
    it_cert = trio.configs["IT"].certs.client_cert.read_bytes()
    store = storage.open_store(tmp_path / "a.sqlite3")
    cache, clock = ExpiringCache[assertions.KeptHcp](), Clock(time.time())

    def verify(token: str, certificate: bytes = de_cert, trust_list: trustlist.TrustList = trust) -> None:
        AssertionVerifier(trust_list, peer, fr.ncp.url, store.replay, clock, sessions=cache,
                          client_certificate=certificate).verify(token)

    try:
        hcp = _session_hcp(trio, lifetime=600)
        verify(hcp)
        verify(hcp)
        verify(hcp)
        assert cache.stats() == {"size": 1, "hits": 2, "misses": 1}  # its signature verified once
        verify(hcp, it_cert)  # another certificate: verified in full (the country is the caller's to map)
        assert cache.stats()["misses"] == 2 and cache.stats()["size"] == 2
        reloaded = trustlist.verify(fr.trust_list, fr.certs.ca_cert)  # same sequence, another verified list
        verify(hcp, trust_list=reloaded)
        assert cache.stats()["misses"] == 3
        clock.now = parts(hcp)[1]["exp"] + assertions.CLOCK_SKEW + 1  # past its expiry: never used again
        with pytest.raises(AssertionRejected) as info:
            verify(hcp)
        assert info.value.code == "ASSERTION_EXPIRED"
        assert store.replay.count() == 0  # no HCP jti recorded
    finally:
        store.close()
