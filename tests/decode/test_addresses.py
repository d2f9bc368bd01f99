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


def test_numeric_addresses_and_their_bounded_cache(monkeypatch):
    from analyzer.decode.addresses import IP4_N_TEXTS, ip4_n_text
    assert ip4_n_text(0x7F000001) == "127.0.0.1" and ip4_n_text(0xFFFFFFFF) == "255.255.255.255"
    monkeypatch.setattr(addresses, "CACHE_MAX", 3)
    texts = [ip4_n_text((10 << 24) + i) for i in range(10)]
    assert texts == [f"10.0.0.{i}" for i in range(10)]
    assert 0 < len(IP4_N_TEXTS) <= 3


def test_decoder_reads_addresses_through_the_cache():
    from scapy.all import IP, TCP, Ether, raw
    from analyzer.decode import decode_frame
    from analyzer.decode.addresses import IP4_N_TEXTS
    IP4_N_TEXTS.clear()
    f = raw(Ether() / IP(src="192.168.1.2", dst="10.9.8.7") / TCP(sport=1, dport=2) / b"x")
    for _ in range(3):                  # a miss, then hits: the same text every time
        d = decode_frame(1, f)
        assert (d.src, d.dst) == ("192.168.1.2", "10.9.8.7")


def test_decoder_address_texts_in_any_order(monkeypatch):
    """The compiled fast path keeps the last two address texts at hand: any order of
    addresses (two hosts talking, a third one, 0.0.0.0, the cache starting over in between)
    gives each packet its own addresses."""
    import random
    import struct
    from analyzer.decode import decode_frame
    monkeypatch.setattr(addresses, "CACHE_MAX", 5)
    rng = random.Random(9)
    hosts = [0, 1, 0x7F000001, 0xC0A80102, 0x0A090807, 0xFFFFFFFF] + \
        [rng.getrandbits(32) for _ in range(6)]
    for _ in range(3000):
        src, dst = rng.choice(hosts[:3] if rng.random() < 0.5 else hosts), rng.choice(hosts)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0,
                         src.to_bytes(4, "big"), dst.to_bytes(4, "big"))
        frame = bytes(12) + b"\x08\x00" + ip + struct.pack("!HHIIBBHHH", 1, 2, 0, 0, 0x50, 0x10,
                                                             100, 0, 0)
        d = decode_frame(1, frame)
        assert (d.src, d.dst) == (ip4_text(src.to_bytes(4, "big")), ip4_text(dst.to_bytes(4, "big")))
