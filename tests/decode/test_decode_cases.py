"""decode_frame on crafted edge cases: truncation, size limits (fault 14), labels, fragments."""
from __future__ import annotations

import random
import struct

import pytest
from hypothesis import given, settings, strategies as st
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, ICMPv6EchoRequest, IPv6, raw

from analyzer.decode import decode_frame, tcp_options

ETH = dict(dst="00:00:00:00:00:01", src="00:00:00:00:00:02")


def tcp_frame(payload: bytes = b"hello world", **kw) -> bytes:
    return raw(Ether(**ETH) / IP(src="127.0.0.1", dst="127.0.0.1") /
               TCP(sport=40000, dport=9001, seq=1, ack=2, flags="PA", **kw) / payload)


def test_plain_tcp_fields():
    f = tcp_frame(options=[("NOP", None), ("NOP", None), ("Timestamp", (9, 10))])
    d = decode_frame(1, f)
    assert (d.transport, d.protocol, d.src, d.dst, d.sport, d.dport) == \
        ("tcp", "TCP", "127.0.0.1", "127.0.0.1", 40000, 9001)
    assert (d.seq, d.ack, d.flags, d.ip_version, d.ip_proto, d.ttl) == (1, 2, 0x18, 4, 6, 64)
    assert (d.l3_offset, d.l4_offset, d.tcp_header_len, d.payload_offset) == (14, 34, 32, 66)
    assert d.tcp_options == {"ts": (9, 10)}
    assert f[d.payload_offset:d.payload_offset + d.payload_len] == b"hello world"
    assert d.captured_payload_len == 11 and d.malformed is None and d.linktype == 1


def test_no_options_gives_none_and_all_options_parse():
    assert decode_frame(1, tcp_frame()).tcp_options is None
    o = decode_frame(1, tcp_frame(options=[("MSS", 1460), ("WScale", 14), ("SAckOK", b""),
                                           ("SAck", (1, 2, 3, 4)), ("Timestamp", (5, 6))]))
    assert o.tcp_options == {"mss": 1460, "wscale": 14, "sack_perm": True,
                             "sack": [(1, 2), (3, 4)], "ts": (5, 6)}


def test_bad_option_length_ends_the_parse_without_raising():
    assert tcp_options(b"\x02\x04\x05\xb4\x08\x00\x00", 0, 7) == {"mss": 1460}
    assert tcp_options(b"\x02\x09", 0, 2) == {}
    assert tcp_options(b"\x03", 0, 1) == {}


def test_compiled_tcp_options_read_as_the_pure_ones(monkeypatch):
    """The twin reads MSS and timestamps from the bytes in C: the same values as struct's,
    high bytes (>= 0x80) included, on random option lists."""
    from analyzer.decode import transport
    from tests.pure_module import load_pure
    pure = load_pure(transport, monkeypatch)
    rng = random.Random(5)
    kinds = [lambda: b"\x02\x04" + rng.randbytes(2), lambda: b"\x01",
             lambda: b"\x03\x03" + rng.randbytes(1), lambda: b"\x04\x02",
             lambda: b"\x08\x0a" + rng.choice([rng.randbytes(8), b"\xff" * 8, b"\x80" * 8]),
             lambda: b"\x05\x0a" + rng.randbytes(8), lambda: rng.randbytes(rng.randrange(4))]
    seen_ts = 0
    for _ in range(3000):
        data = rng.randbytes(3) + b"".join(rng.choice(kinds)() for _ in range(rng.randrange(6)))
        got = transport.tcp_options(data, 3, len(data))
        assert got == pure.tcp_options(data, 3, len(data)), data
        seen_ts += "ts" in got
    assert seen_ts > 300


def test_caplen_below_len_inside_payload_is_size_limited_not_malformed():
    f = tcp_frame(b"z" * 500)
    d = decode_frame(1, f[:100], origlen=len(f))
    assert d.malformed is None and d.transport == "tcp"
    assert d.payload_len == 500 and d.captured_payload_len == 100 - 54


def test_header_cut_by_snaplen_says_size_limited():
    f = tcp_frame(b"z" * 100)
    d = decode_frame(1, f[:40], origlen=len(f))
    assert d.malformed == "packet size limited during capture (TCP header cut)"
    assert d.transport != "tcp"


@pytest.mark.parametrize("cut,reason", [
    (10, "truncated Ethernet header"),
    (20, "truncated IPv4 header"),
    (40, "TCP segment of 6 bytes is shorter than a TCP header"),
])
def test_truncated_headers_are_malformed(cut, reason):
    f = tcp_frame()
    d = decode_frame(1, f[:cut])
    assert d.malformed is not None
    # a frame cut without origlen: the IP total length no longer fits
    assert reason in d.malformed or "exceeds the captured frame" in d.malformed


def test_bad_tcp_data_offset():
    f = bytearray(tcp_frame())
    f[14 + 20 + 12] = 0x30           # data offset 3 words
    assert decode_frame(1, bytes(f)).malformed == "bad TCP header length 12"
    f[14 + 20 + 12] = 0xF0           # 60 bytes > segment
    assert "exceeds the segment" in decode_frame(1, bytes(f)).malformed


def test_bad_ipv4_lengths():
    f = bytearray(tcp_frame())
    f[14] = 0x44                     # ihl 16 bytes
    assert decode_frame(1, bytes(f)).malformed == "bad IPv4 header length 16"
    f = bytearray(tcp_frame())
    f[16:18] = struct.pack("!H", 10)
    d = decode_frame(1, bytes(f))        # tshark's expert info words, and no conversation
    assert d.malformed == "Bogus IP length (10, less than header length 20)"
    assert d.payload_offset == -1
    f = bytearray(tcp_frame())
    f[14] = 0x65
    assert decode_frame(1, bytes(f)).malformed == "IPv4 header with version 6"


def test_ethernet_padding_is_not_payload():
    f = raw(Ether(**ETH) / IP(src="1.1.1.1", dst="2.2.2.2") / TCP(flags="A"))   # 54 bytes
    d = decode_frame(1, f + bytes(6))                                    # padded to 60
    assert d.payload_len == 0 and d.captured_payload_len == 0 and d.malformed is None


def test_udp_bad_lengths():
    f = bytearray(raw(Ether(**ETH) / IP() / UDP(sport=1, dport=2) / b"abcd"))
    f[38:40] = struct.pack("!H", 4)
    d = decode_frame(1, bytes(f))        # tshark gives such a datagram no udp.stream
    assert (d.malformed, d.transport, d.sport, d.payload_offset) == (
        "Bad length value 4 < 8", "other", 1, -1)
    f[38:40] = struct.pack("!H", 100)
    d = decode_frame(1, bytes(f))        # kept in its conversation with the bytes it has
    assert d.malformed == "Bad length value 100 > IP payload length 12"
    assert (d.transport, d.payload_offset, d.payload_len, d.captured_payload_len) == (
        "udp", 42, 4, 4)


def test_labels_of_other_packets():
    assert decode_frame(1, raw(Ether(**ETH) / ARP())).protocol == "ARP"
    d = decode_frame(1, raw(Ether(**ETH) / ARP()))
    assert d.transport == "arp" and d.src == "00:00:00:00:00:02"
    d = decode_frame(1, raw(Ether(**ETH) / IP() / ICMP()))
    assert (d.protocol, d.transport, d.malformed) == ("ICMP", "icmp", None)
    d = decode_frame(1, raw(Ether(**ETH) / IPv6() / ICMPv6EchoRequest()))
    assert (d.protocol, d.transport, d.ip_version) == ("ICMPv6", "icmpv6", 6)
    d = decode_frame(1, raw(Ether(**ETH) / IP(proto=132) / (b"x" * 12)))
    assert (d.protocol, d.transport) == ("SCTP", "other")
    d = decode_frame(1, raw(Ether(**ETH, type=0x88CC) / b"lldp"))
    assert d.protocol == "LLDP" and d.malformed is None
    d = decode_frame(1, raw(Ether(**ETH, type=0x1234) / b"zz"))
    assert d.protocol == "0x1234"
    d = decode_frame(1, bytes(12) + struct.pack("!H", 60) + b"\xaa\xaa\x03" + bytes(57))
    assert d.protocol == "LLC"


def test_ipv4_fragments_are_labelled_not_decoded():
    frags = raw(Ether(**ETH) / IP(flags="MF", frag=0) / UDP() / (b"a" * 100))
    d = decode_frame(1, frags)
    assert d.transport == "ip-fragment" and d.malformed is None
    later = raw(Ether(**ETH) / IP(frag=10, proto=17) / (b"a" * 40))
    assert decode_frame(1, later).transport == "ip-fragment"
    df = raw(Ether(**ETH) / IP(flags="DF") / UDP() / b"a")
    assert decode_frame(1, df).transport == "udp"


def test_ipv6_fragment_header():
    from scapy.all import IPv6ExtHdrFragment
    first = raw(Ether(**ETH) / IPv6() / IPv6ExtHdrFragment(m=1, offset=0) / UDP() / b"abc")
    assert decode_frame(1, first).transport == "ip-fragment"
    atomic = raw(Ether(**ETH) / IPv6() / IPv6ExtHdrFragment(m=0, offset=0) / UDP(dport=7) / b"ab")
    d = decode_frame(1, atomic)
    assert (d.transport, d.dport, d.payload_len) == ("udp", 7, 2)


def test_bsd_loopback_written_on_big_endian_host():
    ip = raw(IP(src="127.0.0.1", dst="127.0.0.1") / UDP(sport=1, dport=2) / b"x")
    assert decode_frame(0, struct.pack(">I", 2) + ip).transport == "udp"
    d = decode_frame(108, struct.pack("<I", 2) + ip)   # OpenBSD loopback: network order only
    assert (d.transport, d.undecoded) == ("other", "OpenBSD loopback family 0x2000000")
    d = decode_frame(0, struct.pack("<I", 7) + ip)
    assert d.malformed is None and d.protocol == "NULL"
    assert d.undecoded == "BSD loopback family 7"


def test_raw_ip_with_bad_version():
    d = decode_frame(101, b"\x50" + bytes(30))
    assert d.malformed == "raw IP packet with IP version 5"


def test_memoryview_input():
    f = tcp_frame()
    assert decode_frame(1, memoryview(f)).sport == 40000


LINKTYPES = [0, 1, 12, 101, 108, 113, 228, 229, 276, 147]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(LINKTYPES), st.binary(max_size=120), st.none() | st.integers(0, 2**32 - 1))
def test_random_bytes_never_raise(linktype, data, origlen):
    d = decode_frame(linktype, data, origlen)
    assert d.malformed is None or isinstance(d.malformed, str)
    if d.transport in ("tcp", "udp"):
        assert 0 <= d.captured_payload_len <= d.payload_len
        assert d.payload_offset + d.captured_payload_len <= len(data)


_VALID = [tcp_frame(options=[("MSS", 1460), ("SAck", (1, 2))]),
          raw(Ether(**ETH) / IPv6() / TCP(options=[("WScale", 3)]) / b"abc"),
          raw(Ether(**ETH) / IP() / UDP() / b"datagram")]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_VALID), st.integers(0, 120), st.integers(0, 119), st.integers(0, 255))
def test_mutated_valid_frames_never_raise(frame, cut, pos, value):
    b = bytearray(frame)
    b[pos % len(b)] = value
    d = decode_frame(1, bytes(b[:cut]), len(frame))
    if d.transport in ("tcp", "udp"):
        assert 0 <= d.captured_payload_len <= d.payload_len


def _slots(d):
    return {k: getattr(d, k) for k in type(d).__slots__}


_FASTABLE = [tcp_frame(b"x" * 30, options=[("NOP", None), ("NOP", None), ("Timestamp", (1, 2))]),
             tcp_frame(b"", options=[("MSS", 1460), ("WScale", 2), ("SAckOK", b"")]),
             tcp_frame(b"abc")]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_FASTABLE), st.integers(0, 200), st.integers(0, 255), st.integers(40, 200))
def test_fast_path_equals_general_path(frame, pos, value, cut):
    from analyzer.decode import decode_general
    b = bytearray(frame)
    b[pos % len(b)] = value
    b = bytes(b[:cut])
    assert _slots(decode_frame(1, b, len(frame))) == _slots(decode_general(1, b, len(frame)))
    assert _slots(decode_frame(1, b)) == _slots(decode_general(1, b))


def test_fast_path_taken_frames_equal_general_path():
    from analyzer.decode import decode_general
    for f in _FASTABLE:
        assert _slots(decode_frame(1, f)) == _slots(decode_general(1, f))
        assert decode_frame(1, f).transport == "tcp"


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_FASTABLE), st.integers(0, 200), st.integers(0, 255), st.integers(40, 200))
def test_options_unread_changes_nothing_else(frame, pos, value, cut):
    """options=False (the engine's loop): the same Decoded, but a fast-path segment without
    SYN may leave its TCP options unread; a SYN's are always read (the flow table wants its
    window scale)."""
    b = bytearray(frame)
    b[pos % len(b)] = value
    b = bytes(b[:cut])
    full, lean = _slots(decode_frame(1, b)), _slots(decode_frame(1, b, None, False))
    if lean["tcp_options"] != full["tcp_options"]:
        assert lean["tcp_options"] is None and not full["flags"] & 0x02
    lean["tcp_options"] = full["tcp_options"]
    assert lean == full


def test_options_unread_only_without_syn():
    ts = [("NOP", None), ("NOP", None), ("Timestamp", (7, 8))]
    assert decode_frame(1, tcp_frame(options=ts), None, False).tcp_options is None
    syn = raw(Ether(**ETH) / IP(src="127.0.0.1", dst="127.0.0.1") /
              TCP(sport=40000, dport=9001, flags="S", options=ts))
    assert decode_frame(1, syn, None, False).tcp_options == {"ts": (7, 8)}
    ws = raw(Ether(**ETH) / IP(src="127.0.0.1", dst="127.0.0.1") /
             TCP(sport=40000, dport=9001, flags="SA", options=[("MSS", 1460), ("WScale", 2)]))
    assert decode_frame(1, ws, None, False).tcp_options == {"mss": 1460, "wscale": 2}


def test_a_reused_decoded_is_filled_like_a_new_one():
    """decode_frame(..., into=d) (the engine's loop hands the same Decoded, packet after
    packet): a fast-path frame fills every field of `d` as a new Decoded would have them, over
    whatever the previous frame left; any other frame gets a new Decoded and `d` is left as
    it was."""
    import random
    from analyzer.decode.decoded import Decoded
    rng = random.Random(21)
    scratch = Decoded()
    frames = list(_FASTABLE) + [raw(Ether(**ETH) / IP() / UDP() / b"u"), b"\x00" * 30]
    for _ in range(600):
        b = bytearray(rng.choice(frames))
        if rng.random() < 0.5:
            b[rng.randrange(len(b))] = rng.randrange(256)
        b = bytes(b[:rng.randint(20, len(b))]) if rng.random() < 0.3 else bytes(b)
        before = _slots(scratch)
        options = rng.random() < 0.5
        got = decode_frame(1, b, None, options, scratch)
        assert _slots(got) == _slots(decode_frame(1, b, None, options))
        if got is not scratch:
            assert _slots(scratch) == before
