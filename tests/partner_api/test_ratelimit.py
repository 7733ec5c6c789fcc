"""The partner API's token buckets (gateway.storage.ratelimit): one SQLite file shared by every worker."""

from __future__ import annotations

import threading

from gateway.storage.ratelimit import RateLimiter


def test_a_bucket_allows_its_burst_then_refills_at_its_rate(tmp_path):
    limiter = RateLimiter(tmp_path / "ratelimit.sqlite3")
    now = 1_000_000.0
    decisions = [limiter.take("client-a", per_minute=60, burst=3, now=now) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions[:3]] == [2, 1, 0]
    assert decisions[3].retry_after == 1  # one token per second
    assert limiter.take("client-b", per_minute=60, burst=3, now=now).allowed  # another client's bucket
    assert not limiter.take("client-a", per_minute=60, burst=3, now=now + 0.5).allowed
    assert limiter.take("client-a", per_minute=60, burst=3, now=now + 1.01).allowed  # refilled (1 token)
    assert not limiter.take("client-a", per_minute=60, burst=3, now=now + 1.02).allowed
    later = limiter.take("client-a", per_minute=60, burst=3, now=now + 3600)  # never above the burst
    assert later.allowed and later.remaining == 2
    slow = [limiter.take("client-c", per_minute=6, burst=1, now=now) for _ in range(2)]
    assert [d.allowed for d in slow] == [True, False] and slow[1].retry_after == 10


def test_workers_share_the_buckets_and_never_overspend(tmp_path):
    path = tmp_path / "ratelimit.sqlite3"
    workers = [RateLimiter(path), RateLimiter(path)]  # as two gunicorn processes: one file, two connections
    allowed: list[bool] = []
    lock = threading.Lock()

    def client(limiter: RateLimiter) -> None:
        for _ in range(25):
            decision = limiter.take("shared", per_minute=1, burst=30, now=5_000.0)
            with lock:
                allowed.append(decision.allowed)

    threads = [threading.Thread(target=client, args=(workers[n % 2],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 100 and allowed.count(True) == 30
