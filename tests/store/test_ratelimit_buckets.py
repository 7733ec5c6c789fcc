"""Token buckets (real SQLite): a reserved failure given back, and refilled buckets deleted (second review of
#24, findings 1 and 5: each claimed client id or address added a row for ever)."""

from __future__ import annotations

from gateway.storage.ratelimit import PRUNE_AFTER, PRUNE_EVERY, RateLimiter

T0 = 1_800_000_000.0


def rows(limiter: RateLimiter) -> int:
    return limiter._connect().execute("SELECT COUNT(*) FROM token_buckets").fetchone()[0]


def test_a_given_back_failure_is_spendable_again_never_above_the_burst(tmp_path):
    limiter = RateLimiter(tmp_path / "ratelimit.sqlite3")
    assert limiter.take("k", 2, 2, T0).allowed and limiter.take("k", 2, 2, T0).allowed
    assert not limiter.take("k", 2, 2, T0).allowed
    limiter.give_back("k", 2)
    assert limiter.take("k", 2, 2, T0).allowed
    for _ in range(5):
        limiter.give_back("k", 2)
    assert limiter.take("k", 2, 2, T0).allowed and limiter.take("k", 2, 2, T0).allowed
    assert not limiter.take("k", 2, 2, T0).allowed  # given back up to the burst, not beyond


def test_refilled_buckets_are_deleted_and_nothing_else(tmp_path):
    limiter = RateLimiter(tmp_path / "ratelimit.sqlite3")
    for i in range(120):  # a flood of made-up client ids
        limiter.take(f"token-failures:client:made-up-{i}", 20, 20, T0)
    limiter.take("recent", 20, 20, T0 + PRUNE_AFTER)
    assert rows(limiter) == 121
    limiter.take("later", 20, 20, T0 + PRUNE_AFTER + PRUNE_EVERY + 1)
    assert rows(limiter) == 2  # "recent" and "later": the day-old buckets were full again, so they went
    spent = RateLimiter(tmp_path / "other.sqlite3")
    spent.take("x", 1, 1, T0)
    assert not spent.take("x", 1, 1, T0 + 1).allowed  # a bucket in use is never pruned into a full one
