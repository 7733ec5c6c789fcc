"""The policy table and the replay cache, without servers."""

from __future__ import annotations

import pytest

from gateway import errors, storage
from gateway.security import policy


@pytest.mark.parametrize("role", ["221", "2211", "2212", "2261", "2262", "2222", "2221", "2264"])
def test_allowed_professions_for_treatment(role):
    assert policy.check(role, "TREATMENT").code == role


@pytest.mark.parametrize(("role", "purpose", "code"), [
    ("2265", "TREATMENT", "ROLE_NOT_ALLOWED"),  # dieticians
    ("225", "EMERGENCY", "ROLE_NOT_ALLOWED"),  # veterinarians
    ("", "TREATMENT", "ROLE_MISSING"),
    ("221", "", "PURPOSE_OF_USE_MISSING"),
    ("221", "RESEARCH", "PURPOSE_NOT_ALLOWED"),
    ("2264", "EMERGENCY", "PURPOSE_NOT_ALLOWED"),  # physiotherapists: planned care only
])
def test_refusals(role, purpose, code):
    with pytest.raises(errors.Forbidden) as info:
        policy.check(role, purpose)
    assert info.value.code == code


def test_replay_cache_is_per_issuer_and_persistent(tmp_path):
    path = tmp_path / "db.sqlite3"
    store = storage.open_store(path)
    assert store.replay.remember("DE", "jti-000001", "HCP", 2_000_000_000)
    assert not store.replay.remember("DE", "jti-000001", "HCP", 2_000_000_000)
    assert store.replay.remember("IT", "jti-000001", "HCP", 2_000_000_000)  # another issuer's namespace
    store.close()
    again = storage.open_store(path)
    try:
        assert again.replay.seen("DE", "jti-000001")
        assert not again.replay.remember("DE", "jti-000001", "TRC", 2_000_000_000)
    finally:
        again.close()


def test_replay_cache_forgets_only_after_expiry(tmp_path):
    from gateway.storage.replay import ReplayCache

    store = storage.open_store(tmp_path / "db.sqlite3")
    try:
        store.replay.remember("DE", "old-jti-01", "HCP", expires_at=1000, now=900)
        ReplayCache._last_purge = 0
        store.replay.remember("DE", "new-jti-01", "HCP", expires_at=5000, now=2000)
        assert not store.replay.seen("DE", "old-jti-01") and store.replay.seen("DE", "new-jti-01")
    finally:
        store.close()


def test_replay_cache_records_a_requests_assertions_at_once(tmp_path):
    store = storage.open_store(tmp_path / "db.sqlite3")
    try:
        assert store.replay.remember_all("DE", [("hcp-jti-0001", "HCP", 2_000_000_000),
                                                ("trc-jti-0001", "TRC", 2_000_000_000)]) == {"hcp-jti-0001", "trc-jti-0001"}
        assert store.replay.seen("DE", "hcp-jti-0001") and store.replay.seen("DE", "trc-jti-0001")
        # a replayed HCP assertion with a new TRC assertion: only the new one is recorded as new
        assert store.replay.remember_all("DE", [("hcp-jti-0001", "HCP", 2_000_000_000),
                                                ("trc-jti-0002", "TRC", 2_000_000_000)]) == {"trc-jti-0002"}
        assert store.replay.remember_all("IT", [("hcp-jti-0001", "HCP", 2_000_000_000)]) == {"hcp-jti-0001"}
        assert not store.replay.remember("DE", "trc-jti-0002", "TRC", 2_000_000_000)
        assert store.replay.remember_all("DE", []) == set()
    finally:
        store.close()
