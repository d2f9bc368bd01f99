"""Address text and its bounded caches."""
from __future__ import annotations

from analyzer.decode import addresses
from analyzer.decode.addresses import ip4_text, ip6_text, mac_text


def test_texts():
    assert ip4_text(b"\x7f\x00\x00\x01") == "127.0.0.1"
    assert ip6_text(bytes(15) + b"\x01") == "::1"
    assert mac_text(bytes.fromhex("0a1b2c3d4e5f")) == "0a:1b:2c:3d:4e:5f"


def test_a_full_cache_starts_over(monkeypatch):
    monkeypatch.setattr(addresses, "CACHE_MAX", 3)
    cache = ip4_text.__self__
    texts = [ip4_text(bytes([10, 0, 0, i])) for i in range(10)]
    assert texts == [f"10.0.0.{i}" for i in range(10)]
    assert len(cache) <= 3
