"""A bounded, thread-safe cache for process-wide state kept on the runtime object (``gateway.runtime``)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class BoundedCache:
    """A thread-safe LRU map: at most ``size`` entries and ``max_bytes`` bytes (each entry weighs what
    :meth:`put` is told), each kept at most ``ttl`` seconds when given; the least recently used go first."""

    def __init__(self, size: int, max_bytes: int | None = None, ttl: float | None = None) -> None:
        self.size, self.max_bytes, self.ttl = size, max_bytes, ttl
        self._data: OrderedDict[Hashable, tuple[float, Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.total = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def get(self, key: Hashable) -> Any:
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            if self.ttl is not None and time.monotonic() - hit[0] > self.ttl:
                self._drop(key)
                return None
            self._data.move_to_end(key)
            return hit[1]

    def put(self, key: Hashable, value: Any, weight: int = 0) -> None:
        with self._lock:
            if key in self._data:
                self._drop(key)
            self._data[key] = (time.monotonic(), value, weight)
            self.total += weight
            while len(self._data) > self.size or (self.max_bytes is not None and self.total > self.max_bytes
                                                  and len(self._data) > 1):
                self._drop(next(iter(self._data)))

    def get_or_build(self, key: Hashable, build: Callable[[], Any], weigh: Callable[[Any], int] | None = None) -> Any:
        """The cached value, else ``build()`` cached (two concurrent misses may both build: same result)."""
        value = self.get(key)
        if value is None:
            value = build()
            self.put(key, value, weigh(value) if weigh else 0)
        return value

    def discard(self, keep: Callable[[Hashable], bool]) -> None:
        """Drop every entry whose key ``keep`` refuses."""
        with self._lock:
            for key in [k for k in self._data if not keep(k)]:
                self._drop(key)

    def _drop(self, key: Hashable) -> None:
        self.total -= self._data.pop(key)[2]
