"""The per-country bulkhead of the peer client, in isolation (no network)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from gateway import errors
from gateway.services.peers import Bulkhead

FR = SimpleNamespace(code="FR", name="France")
IT = SimpleNamespace(code="IT", name="Italia")


def hold(bulkhead: Bulkhead, country, release: threading.Event, entered: threading.Event) -> threading.Thread:
    def run() -> None:
        with bulkhead.slot(country):
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert entered.wait(5)
    return thread


def test_a_healthy_country_at_the_cap_makes_the_next_call_wait_not_fail():
    bulkhead = Bulkhead(1, stuck_after=5.0)
    release, entered = threading.Event(), threading.Event()
    holder = hold(bulkhead, FR, release, entered)
    threading.Timer(0.2, release.set).start()
    started = time.monotonic()
    with bulkhead.slot(FR):  # waits for the slot the holder frees
        waited = time.monotonic() - started
    holder.join(5)
    assert 0.1 < waited < 2.0


def test_a_hanging_country_is_refused_at_once_and_others_are_not_affected():
    bulkhead = Bulkhead(2, stuck_after=0.3)
    release = threading.Event()
    holders = [hold(bulkhead, FR, release, threading.Event()) for _ in range(2)]
    try:
        with bulkhead.slot(IT):  # another country: its own slots
            pass
        started = time.monotonic()
        with pytest.raises(errors.PeerError) as refused:  # waits until France's oldest call is 0.3 s old
            with bulkhead.slot(FR):
                pass
        assert refused.value.code == "PEER_BUSY" and refused.value.status == 502
        assert refused.value.headers["Retry-After"]
        assert time.monotonic() - started < 1.0
        started = time.monotonic()
        with pytest.raises(errors.PeerError):  # now refused without waiting
            with bulkhead.slot(FR):
                pass
        assert time.monotonic() - started < 0.1
    finally:
        release.set()
        for holder in holders:
            holder.join(5)
    with bulkhead.slot(FR):  # slots are given back
        pass
