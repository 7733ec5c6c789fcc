"""Demo PKI and the signed trust list."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import threading
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.config import country_file, load_config
from gateway.security import pki, trustlist
from gateway.security.trust_sequence import SequenceState


@pytest.fixture()
def home(tmp_path):
    return tmp_path


def configs(home):
    return [load_config(country_file(code), env={"NCPEH_HOME": str(home)}) for code in ("FR", "DE")]


def init(home, force=False):
    certs = home / "certs"
    out = pki.ensure_ca(certs, force=force)
    for code in ("FR", "DE"):
        out += pki.ensure_country(certs, code, force=force)
    return certs, out


def test_init_creates_ca_and_country_material_with_private_keys_0600(home):
    certs, out = init(home)
    for rel in ("ca/ca.crt", "ca/ca.key", "fr/tls-server.crt", "fr/tls-client.crt", "fr/signing.key",
                "fr/signing.pub", "de/tls-server.key"):
        assert (certs / rel).exists(), rel
    for key in certs.rglob("*.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    ca = pki.load_certificate(certs / "ca" / "ca.crt")
    server = pki.load_certificate(certs / "fr" / "tls-server.crt")
    assert server.issuer == ca.subject
    server.verify_directly_issued_by(ca)
    assert 300 < pki.days_left(server) <= pki.LEAF_DAYS


def test_rerun_keeps_keys_and_force_replaces_them(home):
    certs, _ = init(home)
    before = {p: p.read_bytes() for p in certs.rglob("*.key")}
    _, out = init(home)
    assert {p: p.read_bytes() for p in certs.rglob("*.key")} == before
    assert all(item.action == "kept" for item in out)
    init(home, force=True)
    assert all(p.read_bytes() != data for p, data in before.items())


def test_certificate_is_reissued_from_kept_key_when_missing(home):
    certs, _ = init(home)
    key_before = (certs / "fr" / "tls-server.key").read_bytes()
    (certs / "fr" / "tls-server.crt").unlink()
    _, out = init(home)
    assert (certs / "fr" / "tls-server.key").read_bytes() == key_before
    assert any(i.action == "reissued" and i.path.name == "tls-server.crt" for i in out)


def test_wrong_key_password(home):
    pki.ensure_ca(home / "certs", password="right")
    with pytest.raises(pki.PKIError, match="wrong key password"):
        pki.load_private_key(home / "certs" / "ca" / "ca.key", "wrong")
    with pytest.raises(pki.PKIError, match="encrypted"):
        pki.load_private_key(home / "certs" / "ca" / "ca.key", None)


def test_trust_list_roundtrip_and_certificate_mapping(home):
    certs, _ = init(home)
    cfgs = configs(home)
    trustlist.build(cfgs, certs, home / "tl.jws")
    result = trustlist.verify(home / "tl.jws", certs / "ca" / "ca.crt")
    assert sorted(result.countries) == ["DE", "FR"]
    client = pki.load_certificate(certs / "de" / "tls-client.crt")
    assert result.country_for_certificate(client.public_bytes(serialization.Encoding.DER)).code == "DE"
    stranger = pki.load_certificate(certs / "ca" / "ca.crt")
    assert result.country_for_certificate(stranger.public_bytes(serialization.Encoding.DER)) is None
    assert result.countries["FR"].search_mask == ("identifier", "family", "given", "birthdate", "gender")
    assert len(result.countries["FR"].signing_keys) == 1


def test_trust_list_sequence_increments(home):
    certs, _ = init(home)
    first = trustlist.build(configs(home), certs, home / "tl.jws")
    second = trustlist.build(configs(home), certs, home / "tl.jws")
    assert second["seq"] == first["seq"] + 1


def test_tampered_trust_list_refused(home):
    certs, _ = init(home)
    trustlist.build(configs(home), certs, home / "tl.jws")
    header, payload, sig = (home / "tl.jws").read_text().split(".")
    claims = jwt.decode((home / "tl.jws").read_text(), options={"verify_signature": False})
    claims["countries"][0]["ncp_url"] = "https://evil.example"
    forged = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    (home / "tl.jws").write_text(f"{header}.{forged}.{sig}")
    with pytest.raises(trustlist.TrustListError, match="signature does not verify"):
        trustlist.verify(home / "tl.jws", certs / "ca" / "ca.crt")


def test_expired_trust_list_refused(home):
    certs, _ = init(home)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    trustlist.build(configs(home), certs, home / "tl.jws", days=30, now=past)
    with pytest.raises(trustlist.TrustListError, match="expired"):
        trustlist.verify(home / "tl.jws", certs / "ca" / "ca.crt")


def test_trust_list_signed_by_another_key_refused(home):
    certs, _ = init(home)
    trustlist.build(configs(home), certs, home / "tl.jws")
    claims = jwt.decode((home / "tl.jws").read_text(), options={"verify_signature": False})
    other = ec.generate_private_key(ec.SECP256R1())
    (home / "tl.jws").write_text(jwt.encode(claims, other, algorithm="ES256"))
    with pytest.raises(trustlist.TrustListError, match="signature"):
        trustlist.verify(home / "tl.jws", certs / "ca" / "ca.crt")


def test_trust_list_with_other_algorithm_refused(home):
    certs, _ = init(home)
    trustlist.build(configs(home), certs, home / "tl.jws")
    claims = jwt.decode((home / "tl.jws").read_text(), options={"verify_signature": False})
    (home / "tl.jws").write_text(jwt.encode(claims, "secret-secret-secret-secret-secret!", algorithm="HS256"))
    with pytest.raises(trustlist.TrustListError, match="algorithm"):
        trustlist.verify(home / "tl.jws", certs / "ca" / "ca.crt")
    (home / "tl.jws").write_text("not a token at all")
    with pytest.raises(trustlist.TrustListError):
        trustlist.verify(home / "tl.jws", certs / "ca" / "ca.crt")


def test_duplicate_country_refused(home):
    certs, _ = init(home)
    cfg = configs(home)[0]
    with pytest.raises(trustlist.TrustListError, match="listed twice"):
        trustlist.build([cfg, cfg], certs, home / "tl.jws")


# --- the running instance's trust state (reloads) --------------------------------------------------


def test_trust_state_refuses_a_rollback_to_an_older_list(home):
    certs, _ = init(home)
    path, ca = home / "tl.jws", certs / "ca" / "ca.crt"
    trustlist.build(configs(home), certs, path)
    older = path.read_bytes()
    state = trustlist.TrustState(path, ca)
    trustlist.build(configs(home)[:1], certs, path)  # the newer list names France only
    assert sorted(state.current().countries) == ["FR"] and state.current().sequence == 2
    pki.atomic_write(path, older)  # a validly signed, unexpired, older list put back in place
    current = state.current()
    assert current is not None and sorted(current.countries) == ["FR"] and current.sequence == 2
    assert "older than sequence 2" in state.error
    trustlist.build(configs(home), certs, path)  # a newly signed list (sequence 2 + 1) is taken at once
    assert sorted(state.current().countries) == ["DE", "FR"] and state.error is None


def test_trust_state_refuses_an_older_list_after_a_restart_until_an_operator_accepts_it(home):
    """The highest sequence is recorded on disk: a new process (a restart) refuses the older list too."""
    certs, _ = init(home)
    path, ca = home / "tl.jws", certs / "ca" / "ca.crt"
    recorded = SequenceState(home / "data" / "trust-list-sequence")
    trustlist.build(configs(home), certs, path)
    older = path.read_bytes()
    trustlist.TrustState(path, ca, recorded)
    trustlist.build(configs(home)[:1], certs, path)
    assert trustlist.TrustState(path, ca, recorded).current().sequence == 2 and recorded.highest() == 2
    assert (recorded.path.stat().st_mode & 0o777) == 0o600
    pki.atomic_write(path, older)
    with pytest.raises(trustlist.TrustListError, match="older than sequence 2") as refused:
        trustlist.TrustState(path, ca, recorded)  # the restarted process
    assert refused.value.code == "TRUST_LIST_OLDER_SEQUENCE"
    recorded.reset(1)  # 'ncpeh trust-list accept': the operator takes the list in place on purpose
    assert trustlist.TrustState(path, ca, recorded).current().sequence == 1
    recorded.path.write_text("garbage")  # fail closed: an unreadable record takes no list
    with pytest.raises(trustlist.TrustListError) as unreadable:
        trustlist.TrustState(path, ca, recorded)
    assert unreadable.value.code == "TRUST_LIST_SEQUENCE_UNREADABLE"


def test_a_lost_list_is_signed_again_above_the_recorded_sequence(home):
    certs, _ = init(home)
    path = home / "tl.jws"
    for cfg in configs(home):
        SequenceState.for_data_dir(cfg.data_dir).raise_to(7)
    assert trustlist.build(configs(home), certs, path)["seq"] == 8  # no file: above what the countries took


def test_trust_state_tries_a_refused_list_again_without_a_file_change(home):
    """A list signed by a clock a little ahead is 'not yet valid'; it is taken once valid."""
    certs, _ = init(home)
    path, ca = home / "tl.jws", certs / "ca" / "ca.crt"
    trustlist.build(configs(home), certs, path)
    state = trustlist.TrustState(path, ca)
    state.RETRY_AFTER = 0.2
    trustlist.build(configs(home)[:1], certs, path, now=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=62))
    assert state.current() is None and state.error  # iat more than the 60 s leeway ahead: refused
    deadline = time.monotonic() + 10
    while state.current() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert state.current() is not None and sorted(state.current().countries) == ["FR"]


def test_trust_state_never_replaces_a_newer_list_by_a_slower_verification_of_an_older_one(home, monkeypatch):
    certs, _ = init(home)
    path, ca = home / "tl.jws", certs / "ca" / "ca.crt"
    trustlist.build(configs(home)[:1], certs, path)
    state = trustlist.TrustState(path, ca)
    real_verify, read, release = trustlist.verify, threading.Event(), threading.Event()

    def slow_verify(*args, **kwargs):  # the first reload verifies the file as it is, then stalls
        result = real_verify(*args, **kwargs)
        if not read.is_set():
            read.set()
            release.wait(10)
        return result

    monkeypatch.setattr(trustlist, "verify", slow_verify)
    trustlist.build(configs(home), certs, path)  # v2: France and Germany
    slow = threading.Thread(target=state.current)
    slow.start()
    assert read.wait(10)
    trustlist.build(configs(home)[:1], certs, path)  # v3: Germany removed while v2 is still being verified
    seen: list = []
    fast = threading.Thread(target=lambda: seen.append(state.current()))
    fast.start()
    fast.join(0.5)  # unlocked, it would finish here with v3 and the stalled verification would then win
    release.set()
    slow.join(10)
    fast.join(10)
    assert sorted(seen[0].countries) == ["FR"]
    assert sorted(state.current().countries) == ["FR"]  # Germany is not trusted again


def test_atomic_write_never_follows_a_planted_temporary_file(home):
    """The temporary file has a random name and is created new: a symlink someone placed under a
    predictable name (the old ``.<name>.<pid>.tmp``) is neither followed nor reused."""
    target, outside = home / "signing.key", home / "elsewhere.txt"
    outside.write_text("untouched")
    (home / f".signing.key.{os.getpid()}.tmp").symlink_to(outside)
    pki.atomic_write(target, b"secret key bytes", mode=0o600)
    assert target.read_bytes() == b"secret key bytes" and not target.is_symlink()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert outside.read_text() == "untouched"
    assert sorted(p.name for p in home.iterdir()) == [f".signing.key.{os.getpid()}.tmp", "elsewhere.txt", "signing.key"]
