"""The per-process verdict cache: one verification per package and sender, bounded in time."""

from __future__ import annotations

from services.distribution.service_layer.ports import Verdict
from services.distribution.service_layer.use_cases import VerdictCache


def test_cached_per_package_and_sender_until_the_ttl() -> None:
    cache = VerdictCache(ttl_s=60)
    cache.put("a" * 64, "000.00.01.H56", Verdict(True))
    assert cache.get("a" * 64, "000.00.01.H56") == Verdict(True)
    assert cache.get("a" * 64, "000.00.02.H56") is None, "another sender is verified anew"
    assert cache.get("b" * 64, "000.00.01.H56") is None
    expired = VerdictCache(ttl_s=-1)
    expired.put("a" * 64, "s", Verdict(False, "hỏng"))
    assert expired.get("a" * 64, "s") is None


def test_bounded() -> None:
    cache = VerdictCache(max_entries=2)
    for n in range(5):
        cache.put(str(n), "s", Verdict(True))
    assert len(cache._entries) <= 2
    assert cache.get("4", "s") == Verdict(True)
