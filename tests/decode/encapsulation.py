"""Byte-built frames for every encapsulation and link type the decoder follows (no Scapy, so
the bytes never depend on its version): each wraps an inner TCP or UDP packet whose
addresses and ports tell the layers apart.  Used by the tshark comparison and the snapshot."""
from __future__ import annotations

import struct

from tests.decode.snapshot import eth, ip4, ip6, tcp, udp

OUTER4 = (b"\xc0\xa8\x00\x01", b"\xc0\xa8\x00\x02")          # 192.168.0.1 -> 192.168.0.2
INNER4 = (b"\x0a\x01\x01\x01", b"\x0a\x02\x02\x02")          # 10.1.1.1 -> 10.2.2.2
INNER6 = (b"\x20\x01\x0d\xb8" + bytes(11) + b"\x01", b"\x20\x01\x0d\xb8" + bytes(11) + b"\x02")
MAC_A, MAC_B = bytes.fromhex("0050569a0001"), bytes.fromhex("0050569a0002")


def inner_tcp4(payload: bytes = b"GET /", sport: int = 41000, dport: int = 80, flags: int = 0x18) -> bytes:
    return ip4(tcp(payload, sport=sport, dport=dport, flags=flags), src=INNER4[0], dst=INNER4[1])


def inner_udp4(payload: bytes = b"query", sport: int = 33333, dport: int = 53) -> bytes:
    return ip4(udp(payload, sport=sport, dport=dport), proto=17, src=INNER4[0], dst=INNER4[1])


def inner_tcp6(payload: bytes = b"v6 data", sport: int = 42000, dport: int = 443) -> bytes:
    return ip6(tcp(payload, sport=sport, dport=dport), src=INNER6[0], dst=INNER6[1])


def inner_udp6(payload: bytes = b"v6 dgram", sport: int = 34444, dport: int = 123) -> bytes:
    return ip6(udp(payload, sport=sport, dport=dport), nh=17, src=INNER6[0], dst=INNER6[1])


def ether(etype: int, l3: bytes) -> bytes:
    return MAC_B + MAC_A + struct.pack("!H", etype) + l3


def pppoe(ppp_proto: int, l3: bytes, session: int = 0x1234) -> bytes:
    body = struct.pack("!H", ppp_proto) + l3
    return struct.pack("!BBHH", 0x11, 0, session, len(body)) + body


def mpls(l3: bytes, labels: tuple[int, ...] = (16, 17)) -> bytes:
    out = b""
    for i, label in enumerate(labels):
        bottom = 0x100 if i == len(labels) - 1 else 0
        out += struct.pack("!I", (label << 12) | bottom | 64)
    return out + l3


def gre(proto: int, l3: bytes, key: int | None = None, seq: int | None = None,
        checksum: bool = False) -> bytes:
    flags = (0x8000 if checksum else 0) | (0x2000 if key is not None else 0) | (
        0x1000 if seq is not None else 0)
    out = struct.pack("!HH", flags, proto)
    if checksum:
        out += bytes(4)
    if key is not None:
        out += struct.pack("!I", key)
    if seq is not None:
        out += struct.pack("!I", seq)
    return out + l3


def outer4(proto: int, body: bytes) -> bytes:
    return ip4(body, proto=proto, src=OUTER4[0], dst=OUTER4[1])


def vxlan(inner_frame: bytes, vni: int = 100, sport: int = 50000) -> bytes:
    return outer4(17, udp(struct.pack("!BxxxI", 0x08, vni << 8) + inner_frame, sport=sport,
                          dport=4789))


def nflog(family: int, l3: bytes, endian: str = "<") -> bytes:
    def tlv(kind: int, value: bytes) -> bytes:
        raw = struct.pack(endian + "HH", 4 + len(value), kind) + value
        return raw + bytes(-len(raw) % 4)
    return (struct.pack("!BBH", family, 0, 0) + tlv(1, b"\x08\x00\x03\x00") +
            tlv(10, b"prefix\0") + tlv(9, l3))


def ppp(proto: int, l3: bytes, address_control: bool = True) -> bytes:
    return (b"\xff\x03" if address_control else b"") + struct.pack("!H", proto) + l3


def chdlc(etype: int, l3: bytes) -> bytes:
    return struct.pack("!BBH", 0x0F, 0, etype) + l3


# (name, linktype, frame, what the innermost header is) -- each a new conversation
CASES: list[tuple[str, int, bytes]] = [
    ("pppoe-ip4", 1, ether(0x8864, pppoe(0x0021, inner_tcp4(sport=41001)))),
    ("pppoe-ip6", 1, ether(0x8864, pppoe(0x0057, inner_udp6(sport=34001)))),
    ("gre-ip4", 1, ether(0x0800, outer4(47, gre(0x0800, inner_tcp4(sport=41002))))),
    ("gre-key-seq-csum", 1, ether(0x0800, outer4(47, gre(0x0800, inner_udp4(sport=33002), key=7,
                                                          seq=9, checksum=True)))),
    ("gre-ip6", 1, ether(0x0800, outer4(47, gre(0x86DD, inner_tcp6(sport=42002))))),
    ("gre-eth", 1, ether(0x0800, outer4(47, gre(0x6558, ether(0x0800, inner_tcp4(sport=41003)),
                                               key=1)))),
    ("ipip", 1, ether(0x0800, outer4(4, inner_tcp4(sport=41004)))),
    ("6in4", 1, ether(0x0800, outer4(41, inner_udp6(sport=34004)))),
    ("ip6-in-ip6", 1, ether(0x86DD, ip6(inner_tcp6(sport=42004), nh=41))),
    ("ip4-in-ip6", 1, ether(0x86DD, ip6(inner_udp4(sport=33004), nh=4))),
    ("mpls-ip4", 1, ether(0x8847, mpls(inner_tcp4(sport=41005)))),
    ("mpls-ip6", 1, ether(0x8847, mpls(inner_udp6(sport=34005), labels=(100,)))),
    ("mpls-3labels", 1, ether(0x8847, mpls(inner_udp4(sport=33005), labels=(1, 2, 3)))),
    ("vxlan-tcp", 1, ether(0x0800, vxlan(ether(0x0800, inner_tcp4(sport=41006))))),
    ("vxlan-udp6", 1, ether(0x0800, vxlan(ether(0x86DD, inner_udp6(sport=34006)), sport=50001))),
    ("nflog-ip4", 239, nflog(2, inner_tcp4(sport=41007))),
    ("nflog-ip6", 239, nflog(10, inner_udp6(sport=34007))),
    ("ppp-ip4", 9, ppp(0x0021, inner_tcp4(sport=41008))),
    ("ppp-ip6-no-ac", 9, ppp(0x0057, inner_udp6(sport=34008), address_control=False)),
    ("chdlc-ip4", 104, chdlc(0x0800, inner_udp4(sport=33009))),
    ("chdlc-ip6", 104, chdlc(0x86DD, inner_tcp6(sport=42009))),
    ("chdlc-mpls", 104, chdlc(0x8847, mpls(inner_tcp4(sport=41009)))),
]
# BSD loopback families tshark decodes (host byte order guessed, both orders), OpenBSD in
# network order only
for _fam in (2, 24, 28, 30):
    _l3 = inner_tcp4(sport=41100 + _fam) if _fam == 2 else inner_tcp6(sport=42100 + _fam)
    CASES += [(f"null-{_fam}-le", 0, struct.pack("<I", _fam) + _l3),
              (f"null-{_fam}-be", 0, struct.pack(">I", _fam) + _l3),
              (f"loop-{_fam}", 108, struct.pack(">I", _fam) + _l3)]
CASES += [("null-ethertype-ip4", 0, struct.pack("<I", 0x0800) + inner_udp4(sport=33100)),
          ("null-ethertype-ip6-be", 0, struct.pack(">I", 0x86DD) + inner_udp6(sport=34100))]

# (name, linktype, frame, Decoded.undecoded): neither decoded by wirelab nor TCP/UDP-bearing
UNDECODED: list[tuple[str, int, bytes, str]] = [
    ("lldp", 1, ether(0x88CC, b"\x02\x07\x04" + bytes(20)), "ethertype 0x88cc (LLDP)"),
    ("gre-pptp", 1, ether(0x0800, outer4(47, struct.pack("!HHHH", 0x3001, 0x880B, 4, 1) +
                                             struct.pack("!I", 1) + b"\xff\x03\xc0\x21")),
     "GRE version 1 (PPTP)"),
    ("gre-erspan", 1, ether(0x0800, outer4(47, gre(0x88BE, bytes(8)))),
     "GRE carrying ethertype 0x88be (ERSPAN)"),
    ("null-linux-af-inet6", 0, struct.pack("<I", 10) + inner_tcp6(), "BSD loopback family 10"),
    ("loop-le", 108, struct.pack("<I", 2) + inner_tcp4(), "OpenBSD loopback family 0x2000000"),
    ("ppp-lcp", 9, ppp(0xC021, bytes(8)), "PPP protocol 0xc021 (LCP)"),
    ("pppoe-lcp", 1, ether(0x8864, pppoe(0xC021, bytes(8))), "PPP protocol 0xc021 (LCP)"),
    ("nflog-bridge", 239, nflog(7, bytes(20)), "NFLOG family 7"),
    ("radiotap", 127, bytes(30), "802.11 radiotap (linktype 127)"),
    ("llc", 1, MAC_B + MAC_A + struct.pack("!H", 38) + b"\x42\x42\x03" + bytes(35),
     "802.3 LLC frame"),
]
