"""A bounded, thread-safe map whose entries expire each at its own time (per process, kept on the runtime).

Used for the clinician sessions of the HCP identity assertion (see :mod:`gateway.security.assertions`):
country B keeps the assertion it signed for a clinician's session, country A keeps the verification of an
assertion it received, each until shortly before (B) or at (A) the assertion's expiry; and for the partner
tokens verified once until their ``exp`` (:class:`gateway.security.jws.VerifiedTokens`). The caller passes
the time, so that each use keeps the clock its tokens are checked against.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

#: Entries kept at most, per cache (the oldest go first beyond it).
DEFAULT_SIZE = 4096


class ExpiringCache(Generic[V]):
    """``key -> value`` until ``expires_at``; at most ``size`` entries; counts hits and misses."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size < 1:
            raise ValueError("an ExpiringCache holds at least one entry")
        self.size = size
        self._items: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, now: float, accept: Callable[[V], bool] | None = None) -> V | None:
        """The value kept for ``key`` while ``now`` < its expiry and ``accept(value)`` holds, else None (an
        expired or unaccepted entry is dropped, and counts as a miss)."""
        with self._lock:
            item = self._items.get(key)
            if item is not None and now < item[0] and (accept is None or accept(item[1])):
                self.hits += 1
                return item[1]
            if item is not None:
                del self._items[key]
            self.misses += 1
            return None

    def put(self, key: Hashable, value: V, expires_at: float, now: float) -> None:
        """Keep ``value`` until ``expires_at`` (nothing is kept when that has passed)."""
        if expires_at <= now:
            return
        with self._lock:
            self._items[key] = (expires_at, value)
            self._items.move_to_end(key)
            if len(self._items) > self.size:
                for stale in [k for k, (until, _) in self._items.items() if until <= now]:
                    del self._items[stale]
                while len(self._items) > self.size:
                    self._items.popitem(last=False)

    def discard(self, key: Hashable) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def stats(self) -> dict[str, int]:
        """Entries held, hits and misses since start (for tests and benchmarks: no keys, no values)."""
        with self._lock:
            return {"size": len(self._items), "hits": self.hits, "misses": self.misses}
