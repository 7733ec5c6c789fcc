"""The caches on the summary's hot path: release at country A (stored document read only on a miss),
translation at country B (by digest of the bytes A sent, language and terminology, on the runtime object),
and their effect end to end."""

from __future__ import annotations

import hashlib
import time

import orjson
import pytest

import terminology
from gateway import errors, storage
from gateway.audit import events
from gateway.config import country_file, load_config
from gateway.security.trustlist import TrustedCountry
from gateway.services import crossborder
from gateway.services import terminology as terminology_service
from gateway.services.caches import BoundedCache
from gateway.services.peers import PeerClient
from gateway.services.population import store_documents
from tests.conftest import load_fixture
from tests.test_terminology_exchange import fetch_summary


@pytest.fixture
def released_body() -> bytes:
    raw = orjson.dumps(load_fixture("ips-fr-dupont.json"))
    return terminology_service.release_document(BoundedCache(8), raw, hashlib.sha256(raw).hexdigest(), "FR",
                                                terminology.load()).body


def test_current_summary_without_the_document(tmp_path):
    cfg = load_config(country_file("FR"), env={}, overrides={"home": str(tmp_path), "public.port": 1, "ncp.port": 2})
    store = storage.open_store(cfg.database_path)
    try:
        store_documents(store, cfg, [load_fixture("ips-fr-dupont.json")])
        patient = store.records.find_by_identifier("urn:oid:1.2.250.1.213.1.4.8", "284057505612387")
        full = store.records.current_summary(patient.id)
        head = store.records.current_summary(patient.id, with_document=False)
        assert head.document == b"" and (head.version, head.sha256) == (full.version, full.sha256)
        assert store.records.summary_document(patient.id, head.version) == full.document
        assert store.records.summary_document(patient.id, head.version + 1) is None
    finally:
        store.close()


def test_repeated_summary_is_identical_and_audited_each_time(countries):
    first, second = fetch_summary(countries, language="de"), fetch_summary(countries, language="de")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert first.headers["X-Terminology-Coverage"] == second.headers["X-Terminology-Coverage"]
    assert second.headers["Content-Language"] == "de"
    rids = {first.headers["X-Request-ID"], second.headers["X-Request-ID"]}
    document_id = first.json()["identifier"]["value"]
    for code in ("DE", "FR"):
        store = countries.store(code)
        try:
            entries = [e for e in store.audit.entries() if e.request_id in rids and e.event == events.SUMMARY]
        finally:
            store.close()
        assert len(entries) == 2, (code, entries)
        assert all((e.detail or {}).get("document_id") == document_id for e in entries), (code, entries)


# --- country B's caches on the runtime object (Runtime.summaries) ------------------------------------


@pytest.fixture
def peer_side(tmp_path) -> tuple[PeerClient, TrustedCountry]:
    """A real peer client of Germany, and France as the trust list names it (nothing is sent)."""
    cfg = load_config(country_file("DE"), env={}, overrides={"home": str(tmp_path), "public.port": 1, "ncp.port": 2})
    france = TrustedCountry(code="FR", name="France", ncp_url="https://127.0.0.1:1", public_url="https://127.0.0.1:1",
                            languages=("fr",), identifier_system="urn:oid:1.2.250.1.213.1.4.8",
                            identifier_scheme="ins-nir", identifier_label="INS", search_mask=("identifier",),
                            tls_fingerprints=frozenset(), signing_keys={})
    return PeerClient(cfg), france


def test_runtime_cache_translates_once_per_digest_language_and_terminology(released_body, peer_side, tmp_path):
    peers, france = peer_side
    caches, term = crossborder.SummaryCaches(), terminology.load()
    first = crossborder.translate_received(peers, france, released_body, "de", term, caches)
    assert crossborder.translate_received(peers, france, bytes(released_body), "de", term, caches) is first
    french = crossborder.translate_received(peers, france, released_body, "fr", term, caches)
    assert french is not first and french.language == "fr" and french.body != first.body
    assert len(caches.translated) == 2
    # what the runtime's cache holds is what the uncached path gives, sanitised and identified the same way
    bundle, coverage = terminology_service.translate(crossborder._parsed_document(peers, france, released_body), "de",
                                                     term)
    assert (first.body, first.coverage, first.document_id, first.received_sha256) == (
        orjson.dumps(bundle), coverage, bundle["identifier"]["value"], hashlib.sha256(released_body).hexdigest())
    # another terminology (other data folders) is another key, never the first one's translation
    assert crossborder.summary_key(released_body, "de", term) != crossborder.summary_key(
        released_body, "de", terminology.load(extra_dirs=[tmp_path]))


def test_runtime_cache_keeps_no_unreadable_answer(peer_side):
    peers, france = peer_side
    caches = crossborder.SummaryCaches()
    for body in (b"<html>", orjson.dumps({"resourceType": "Bundle", "type": "searchset"})):
        with pytest.raises(errors.PeerError):
            crossborder.translate_received(peers, france, body, "de", terminology.load(), caches)
    assert len(caches.translated) == 0


def test_bounded_cache_limits_entries_bytes_and_age():
    cache = BoundedCache(3, max_bytes=1000)
    for i in range(5):
        cache.put(i, str(i), weight=100)
    assert [cache.get(i) for i in range(5)] == [None, None, "2", "3", "4"]
    cache.get(2)  # the least recently used goes first
    cache.put("big", "x", weight=850)
    assert cache.get(2) == "2" and cache.get(3) is None and cache.get(4) is None and cache.total == 950
    cache.put(2, "two", weight=10)  # replacing an entry re-weighs it
    assert cache.total == 860 and cache.get(2) == "two"
    cache.discard(lambda key: key != "big")
    assert cache.get("big") is None and len(cache) == 1
    built: list[int] = []
    assert cache.get_or_build("k", lambda: built.append(1) or "v") == "v"
    assert cache.get_or_build("k", lambda: built.append(1) or "w") == "v" and built == [1]
    aged = BoundedCache(10, ttl=0.01)
    aged.put("k", "v")
    time.sleep(0.05)
    assert aged.get("k") is None and len(aged) == 0
