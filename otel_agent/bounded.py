"""A bounded least-recently-used map: the one shape for per-model (or per-input) caches, so state never grows with
the number of distinct names a process sees."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """Thread-safe; `get_or_compute` computes outside the lock (a value may be computed twice, never stored twice)."""

    def __init__(self, maxsize: int = 4096) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._max = maxsize
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def get(self, key: K, default: V | None = None) -> V | None:
        with self._lock:
            try:
                value = self._data[key]
            except KeyError:
                return default
            self._data.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._max:
                self._data.popitem(last=False)

    def add_new(self, key: K, value: V) -> bool:
        """Store `value` unless `key` is present; True when it was new (for do-once-per-key work)."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return False
            self._data[key] = value
            while len(self._data) > self._max:
                self._data.popitem(last=False)
            return True

    def get_or_compute(self, key: K, compute: Callable[[], V]) -> V:
        with self._lock:
            try:
                value = self._data[key]
            except KeyError:
                pass
            else:
                self._data.move_to_end(key)
                return value
        computed = compute()
        self.put(key, computed)
        return computed

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
