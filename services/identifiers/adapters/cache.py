"""A per-process cache of agencies by code.

Lookups by code are the directory's hot path (every edXML package names its sender and
receivers) and agencies change a few times a year. Entries are dropped when this process writes
an agency and when any replica's change arrives on the agency topic (a broadcast subscription),
and they expire after ``ttl`` seconds in any case, so a missed event costs at most that.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Generic, TypeVar

from services.chassis.dependencies import DependencyProvider

V = TypeVar("V")


class TtlCache(Generic[V]):
    def __init__(self, *, ttl: float = 60.0, max_entries: int = 50_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> V | None:
        # Lock-free: a dict lookup is atomic in CPython, and taking a lock on the hot path
        # makes the gRPC threads queue behind each other (a convoy) under load. The counters
        # are statistics; a lost increment does not matter.
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            self.misses += 1
            return None
        self.hits += 1
        return entry[1]

    def put(self, key: str, value: V) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + self.ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def invalidate(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class Cache(DependencyProvider[TtlCache]):  # type: ignore[type-arg]
    def __init__(self, *, ttl: float = 60.0, max_entries: int = 50_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries

    def setup(self, service_name: str) -> None:
        self._cache: TtlCache = TtlCache(ttl=self.ttl, max_entries=self.max_entries)  # type: ignore[type-arg]

    def get_dependency(self) -> TtlCache:  # type: ignore[type-arg]
        return self._cache
