import time

from services.identifiers.adapters.cache import TtlCache


def test_entries_expire_and_can_be_invalidated() -> None:
    cache: TtlCache[str] = TtlCache(ttl=0.05, max_entries=2)
    cache.put("a", "A")
    assert cache.get("a") == "A"
    cache.invalidate("a")
    assert cache.get("a") is None
    cache.put("b", "B")
    time.sleep(0.06)
    assert cache.get("b") is None


def test_least_recently_written_entry_is_evicted_beyond_the_bound() -> None:
    cache: TtlCache[int] = TtlCache(ttl=60, max_entries=2)
    for key in "abc":
        cache.put(key, ord(key))
    assert cache.get("a") is None and cache.get("b") == 98 and cache.get("c") == 99
