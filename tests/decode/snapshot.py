"""Every Decoded slot of a fixed frame corpus: the decoder's complete observable output.

The corpus: every record of every captures/*.pcap, plus frames built byte by byte here (no
Scapy, so the bytes never depend on its version): each link type wrapping each kind of
layer-3 packet, and each tunnel of tests/decode/encapsulation.py, cut at every length (with
and without the original length), padded, and randomly damaged (seeded), and random bytes
under every link type.

    python3 -m tests.decode.snapshot save FILE      # pickle (frames, values) of the current code
    python3 -m tests.decode.snapshot compare FILE   # decode FILE's frames again, list differences
    python3 -m tests.decode.snapshot golden         # rewrite tests/decode/decode_golden.json

decode_golden.json holds one digest per crafted base frame (its cuts, padding and damaged
copies included); test_decode_snapshot.py recomputes them.  When it fails on purpose (the
output changed and should), `save` before the change and `compare` after it show each
differing slot, then `golden` records the new digests.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import pickle
import random
import struct
import sys

from analyzer.decode.decoded import Decoded

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GOLDEN = os.path.join(HERE, "decode_golden.json")
SLOTS = Decoded.__slots__

# ---- layer 4 ---------------------------------------------------------------------------------
_TCP = struct.Struct("!HHIIBBHHH")


def tcp(payload: bytes = b"", opts: bytes = b"", flags: int = 0x18, sport: int = 40000,
        dport: int = 9001, seq: int = 1000, ack: int = 2000, doff: int | None = None) -> bytes:
    opts += b"\0" * (-len(opts) % 4)
    hl = 20 + len(opts)
    return _TCP.pack(sport, dport, seq, ack, ((hl if doff is None else doff) // 4) << 4, flags,
                     65535, 0, 0) + opts + payload


def udp(payload: bytes = b"", ulen: int | None = None, sport: int = 5555,
        dport: int = 9005) -> bytes:
    ulen = 8 + len(payload) if ulen is None else ulen
    return struct.pack("!HHHH", sport, dport, ulen, 0) + payload


TS = b"\x01\x01\x08\x0a" + struct.pack("!II", 123456, 654321)
SYN_OPTS = b"\x02\x04\x05\xb4\x04\x02\x08\x0a" + struct.pack("!II", 7, 0) + b"\x01\x03\x03\x07"
SACK = b"\x01\x01\x05\x12" + struct.pack("!IIII", 10, 20, 30, 40) + b"\x01\x01" + TS[2:]
ODD_OPTS = [b"\x02\x09", b"\x03", b"\x00\x02\x04\x05\xb4", b"\x08\x0a\x00", b"\x05\x0a" + bytes(8),
            b"\x05\x0b" + bytes(9), b"\x04\x02\x02\x04\x05\xb4\x03\x03\x0e", b"\x1e\x06abcd",
            b"\x01\x01\x08\x0a" + bytes(7), b"\x01\x01\x08\x0b" + bytes(8)]

# ---- layer 3 ---------------------------------------------------------------------------------


def ip4(l4: bytes, proto: int = 6, opts: bytes = b"", total: int | None = None, frag: int = 0x4000,
        ttl: int = 64, src: bytes = b"\x7f\x00\x00\x01", dst: bytes = b"\x0a\x00\x00\x02",
        version: int = 4) -> bytes:
    ihl = 20 + len(opts)
    t = ihl + len(l4) if total is None else total
    return struct.pack("!BBHHHBBH4s4s", (version << 4) | (ihl // 4), 0, t, 1, frag, ttl, proto, 0,
                       src, dst) + opts + l4


def ip6(l4: bytes, nh: int = 6, plen: int | None = None, hlim: int = 63,
        src: bytes = bytes(15) + b"\x01", dst: bytes = b"\xfe\x80" + bytes(13) + b"\x02",
        version: int = 6) -> bytes:
    return struct.pack("!IHBB16s16s", version << 28, len(l4) if plen is None else plen, nh, hlim,
                       src, dst) + l4


def ext(nh: int, length_words: int = 0) -> bytes:       # hop-by-hop / routing / dest options
    return bytes([nh, length_words]) + bytes(6 + 8 * length_words)


def frag6(nh: int, offset: int = 0, more: bool = False) -> bytes:
    return struct.pack("!BBHI", nh, 0, (offset << 3) | int(more), 0x1234)


def ah(nh: int) -> bytes:
    return bytes([nh, 4]) + bytes(22)                   # (4 + 2) * 4 = 24 bytes


def l3_packets() -> list[tuple[str, int, bytes]]:
    """(name, ethertype, packet starting at the IP header)."""
    t4 = [("tcp", tcp()), ("tcp-data", tcp(b"hello world")), ("tcp-ts", tcp(b"x" * 30, TS)),
          ("tcp-syn", tcp(b"", SYN_OPTS, flags=0x02)), ("tcp-sack", tcp(b"", SACK, flags=0x10)),
          ("tcp-big", tcp(b"y" * 300, TS))]
    t4 += [(f"tcp-odd{i}", tcp(b"zz", o)) for i, o in enumerate(ODD_OPTS)]
    out: list[tuple[str, int, bytes]] = []
    for name, seg in t4:
        out.append((f"ip4-{name}", 0x0800, ip4(seg)))
        out.append((f"ip6-{name}", 0x86DD, ip6(seg)))
    out += [
        ("ip4-tcp-doff12", 0x0800, ip4(tcp(b"abc", doff=12))),
        ("ip4-tcp-doff60", 0x0800, ip4(tcp(b"abc", doff=60))),
        ("ip4-opts-tcp", 0x0800, ip4(tcp(b"data", TS), opts=b"\x94\x04\x00\x00")),
        ("ip4-ihl16", 0x0800, b"\x44" + ip4(tcp())[1:]),
        ("ip4-v6", 0x0800, ip4(tcp(), version=6)),
        ("ip4-total0", 0x0800, ip4(tcp(b"tso"), total=0)),
        ("ip4-total10", 0x0800, ip4(tcp(b"abc"), total=10)),
        ("ip4-total-big", 0x0800, ip4(tcp(b"abc"), total=500)),
        ("ip4-total-short", 0x0800, ip4(tcp(b"abcdef"), total=40)),
        ("ip4-total-tcp-short", 0x0800, ip4(tcp(b"abcdef"), total=30)),
        ("ip4-mf", 0x0800, ip4(udp(b"a" * 40), proto=17, frag=0x2000)),
        ("ip4-fragoff", 0x0800, ip4(b"a" * 40, proto=17, frag=10)),
        ("ip4-nodf", 0x0800, ip4(tcp(b"q"), frag=0)),
        ("ip4-reserved-bit", 0x0800, ip4(tcp(b"q"), frag=0x8000)),
        ("ip4-udp", 0x0800, ip4(udp(b"datagram"), proto=17)),
        ("ip4-udp-len4", 0x0800, ip4(udp(b"abcd", ulen=4), proto=17)),
        ("ip4-udp-len0", 0x0800, ip4(udp(b"abcd", ulen=0), proto=17)),
        ("ip4-udp-len100", 0x0800, ip4(udp(b"abcd", ulen=100), proto=17)),
        ("ip4-udp-short", 0x0800, ip4(b"abc", proto=17)),
        ("ip4-icmp", 0x0800, ip4(b"\x08\x00" + bytes(6) + b"ping", proto=1)),
        ("ip4-sctp", 0x0800, ip4(b"x" * 12, proto=132)),
        ("ip4-proto200", 0x0800, ip4(b"x" * 12, proto=200)),
        ("ip4-ipip", 0x0800, ip4(ip4(tcp(b"inner")), proto=4)),
        ("ip6-udp", 0x86DD, ip6(udp(b"datagram"), nh=17)),
        ("ip6-udp-jumbo", 0x86DD, ip6(udp(b"jumbo", ulen=0), nh=17, plen=0)),
        ("ip6-udp-len4", 0x86DD, ip6(udp(b"abcd", ulen=4), nh=17)),
        ("ip6-icmp6", 0x86DD, ip6(b"\x80\x00" + bytes(6) + b"ping", nh=58)),
        ("ip6-v4", 0x86DD, ip6(tcp(), version=4)),
        ("ip6-plen0-tcp", 0x86DD, ip6(tcp(b"tso"), plen=0)),
        ("ip6-nonext", 0x86DD, ip6(b"", nh=59, plen=0)),
        ("ip6-plen-big", 0x86DD, ip6(tcp(b"abc"), plen=400)),
        ("ip6-plen-short", 0x86DD, ip6(tcp(b"abcdef"), plen=22)),
        ("ip6-hbh-tcp", 0x86DD, ip6(ext(6) + tcp(b"hbh", TS), nh=0)),
        ("ip6-chain-udp", 0x86DD, ip6(ext(43, 1) + ext(60) + ext(17, 2) + udp(b"chain"), nh=0)),
        ("ip6-routing", 0x86DD, ip6(ext(6, 2) + tcp(b"r"), nh=43)),
        ("ip6-mobility", 0x86DD, ip6(ext(59, 0), nh=135)),
        ("ip6-frag-atomic", 0x86DD, ip6(frag6(17) + udp(b"ab", dport=7), nh=44)),
        ("ip6-frag-first", 0x86DD, ip6(frag6(17, more=True) + udp(b"abc"), nh=44)),
        ("ip6-frag-later", 0x86DD, ip6(frag6(6, offset=100) + b"x" * 16, nh=44)),
        ("ip6-ah-udp", 0x86DD, ip6(ah(17) + udp(b"auth"), nh=51)),
        ("ip6-ext-overflow", 0x86DD, ip6(ext(6, 9) + tcp(), nh=0)),
        ("ip6-ext-loop", 0x86DD, ip6(b"".join(ext(0) for _ in range(10)) + tcp(), nh=0)),
        ("ip6-ipip", 0x86DD, ip6(ip4(udp(b"in")), nh=4)),
        ("arp", 0x0806, bytes.fromhex("0001080006040001") + bytes(20)),
        ("lldp", 0x88CC, b"lldp-frame"),
        ("pppoes", 0x8864, b"\x11\x00" + bytes(8)),
        ("unknown-etype", 0x1234, b"zz"),
        ("mpls", 0x8847, bytes(4)),
    ]
    return out


# ---- link layer ------------------------------------------------------------------------------
MAC_DST, MAC_SRC = bytes.fromhex("000000000001"), bytes.fromhex("0a1b2c3d4e5f")


def eth(etype: int, l3: bytes, tags: tuple[tuple[int, int], ...] = ()) -> bytes:
    out = MAC_DST + MAC_SRC
    for tpid, vid in tags:
        out += struct.pack("!HH", tpid, vid)
    return out + struct.pack("!H", etype) + l3


def sll(etype: int, l3: bytes, ptype: int = 0) -> bytes:
    return struct.pack("!HHH8sH", ptype, 772, 6, bytes(8), etype) + l3


def sll2(etype: int, l3: bytes, ptype: int = 4) -> bytes:
    return struct.pack("!HHIHBB8s", etype, 0, 1, 772, ptype, 6, bytes(8)) + l3


def wrappings(etype: int, l3: bytes) -> list[tuple[str, int, bytes]]:
    """The same layer-3 packet under every link type that can carry it."""
    out = [("eth", 1, eth(etype, l3)),
           ("vlan", 1, eth(etype, l3, ((0x8100, 0x2005),))),
           ("qinq", 1, eth(etype, l3, ((0x88A8, 100), (0x8100, 200)))),
           ("q-then-ad", 1, eth(etype, l3, ((0x8100, 7), (0x88A8, 8), (0x8100, 9)))),
           ("9100", 1, eth(etype, l3, ((0x9100, 33),))),
           ("5tags", 1, eth(etype, l3, tuple((0x8100, i) for i in range(5)))),
           ("sll", 113, sll(etype, l3)), ("sll2", 276, sll2(etype, l3)),
           ("unsupported", 147, l3)]
    fam = {0x0800: 2, 0x86DD: 10}.get(etype)
    if fam is not None:
        le, be = struct.pack("<I", fam), struct.pack(">I", fam)
        raw_v = 228 if fam == 2 else 229
        out += [("null-le", 0, le + l3), ("null-be", 0, be + l3),
                ("loop-be", 108, be + l3), ("loop-le", 108, le + l3),
                ("raw101", 101, l3), ("raw12", 12, l3), (f"raw{raw_v}", raw_v, l3)]
        if fam == 10:
            out += [("null-bsd6", 0, struct.pack("<I", 24) + l3),
                    ("null-mac6", 0, struct.pack("<I", 30) + l3),
                    ("loop-fbsd6", 108, struct.pack(">I", 28) + l3)]
    return out


def link_odds() -> list[tuple[str, int, bytes]]:
    """Link-layer oddities that carry no particular layer 3."""
    ip = ip4(udp(b"x"), proto=17)
    return [
        ("llc", 1, MAC_DST + MAC_SRC + struct.pack("!H", 60) + b"\xaa\xaa\x03" + bytes(57)),
        ("llc-after-vlan", 1, eth(46, b"\xaa\xaa\x03" + bytes(40), ((0x8100, 5),))),
        ("null-af7", 0, struct.pack("<I", 7) + ip), ("loop-af7", 108, struct.pack(">I", 7) + ip),
        ("null-huge", 0, b"\xff\xff\xff\xff" + ip),
        ("raw-v5", 101, b"\x50" + bytes(30)), ("raw12-v0", 12, bytes(30)),
        ("raw228-ip6", 228, ip6(tcp())), ("raw229-ip4", 229, ip),
        ("sll-outgoing", 113, sll(0x0800, ip, ptype=4)),
        ("empty-eth", 1, b""), ("empty-raw", 101, b""), ("empty-sll2", 276, b""),
    ] + [(f"linktype{lt}", lt, eth(0x0800, ip)) for lt in (2, 9, 105, 127, 220, 0xFFFF)]


# ---- the corpus ------------------------------------------------------------------------------
Frame = tuple  # (label, linktype, data, origlen)


def crafted() -> list[Frame]:
    from tests.decode.encapsulation import CASES, UNDECODED     # it builds on this module
    rng = random.Random(20240611)
    bases = [(f"{w}/{name}", lt, f)
             for name, etype, l3 in l3_packets() for w, lt, f in wrappings(etype, l3)]
    bases += link_odds()
    bases += [(f"encap-{name}", lt, f) for name, lt, f in CASES]
    bases += [(f"encap-{name}", lt, f) for name, lt, f, _what in UNDECODED]
    out: list[Frame] = []
    for label, lt, f in bases:
        out.append((label, lt, f, None))
        out.append((label + "+pad", lt, f + bytes(6), None))
        out.append((label + "+pad-orig", lt, f + bytes(6), len(f) + 6))
        for cut in range(len(f)) if len(f) <= 120 else sorted(rng.sample(range(len(f)), 120)):
            out.append((f"{label}[:{cut}]", lt, f[:cut], None))
            out.append((f"{label}[:{cut}]+orig", lt, f[:cut], len(f)))
        for i in range(12):
            b = bytearray(f)
            for _ in range(rng.randint(1, 3)):
                if b:
                    b[rng.randrange(len(b))] = rng.randrange(256)
            if rng.random() < 0.3 and b:
                b = b[:rng.randrange(len(b))]
            out.append((f"{label}~{i}", lt, bytes(b), rng.choice((None, len(f), len(b)))))
    for lt in (0, 1, 12, 101, 108, 113, 228, 229, 276, 147, 9, 51, 104, 204, 205, 239):
        for i in range(150):
            b = rng.randbytes(rng.randrange(0, 90))
            out.append((f"random{lt}-{i}", lt, b, rng.choice((None, len(b), len(b) + 50))))
    # non-bytes inputs take the same path as bytes
    for label, lt, f in bases[:40]:
        out.append((label + "/bytearray", lt, bytearray(f), None))
        out.append((label + "/memoryview", lt, memoryview(f), len(f)))
    return out


def _pcap_records(path: str):
    with open(path, "rb") as fh:
        buf = fh.read()
    magic = buf[:4]
    e = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack_from(e + "I", buf, 20)[0]
    off = 24
    while off + 16 <= len(buf):
        _s, _f, incl, orig = struct.unpack_from(e + "IIII", buf, off)
        off += 16
        yield linktype, bytes(buf[off:off + incl]), orig
        off += incl


def from_captures() -> list[Frame]:
    out: list[Frame] = []
    for path in sorted(glob.glob(os.path.join(ROOT, "captures", "*.pcap"))):
        name = os.path.basename(path)
        for n, (lt, data, orig) in enumerate(_pcap_records(path), 1):
            out.append((f"{name}#{n}", lt, data, orig))
    return out


def values(decode, frames: list[Frame]) -> list[tuple]:
    """repr of every slot (repr keeps tuple vs list, bool vs int, str vs None apart)."""
    return [tuple(repr(getattr(d, s)) for s in SLOTS)
            for d in (decode(lt, data, orig) for _l, lt, data, orig in frames)]


def group_of(label: str) -> str:
    """The crafted base frame a label derives from ("eth/ip4-tcp[:20]+orig" -> "eth/ip4-tcp")."""
    for mark in ("+pad", "[:", "~", "/bytearray", "/memoryview"):
        i = label.find(mark)
        if i >= 0:
            label = label[:i]
    return label.split("-")[0] if label.startswith("random") else label


def digests(decode, frames: list[Frame]) -> dict[str, str]:
    """group -> sha256 (16 hex digits) over the repr of every slot of its frames, in order."""
    hashes: dict = {}
    for label, lt, data, orig in frames:
        d = decode(lt, data, orig)
        h = hashes.get(g := group_of(label))
        if h is None:
            h = hashes[g] = hashlib.sha256()
        h.update(repr((label,) + tuple(getattr(d, s) for s in SLOTS)).encode())
    return {g: h.hexdigest()[:16] for g, h in hashes.items()}


def differences(frames: list[Frame], old: list[tuple], new: list[tuple],
                limit: int = 20) -> list[str]:
    out = []
    for (label, *_), a, b in zip(frames, old, new):
        if a != b:
            diff = {s: (x, y) for s, x, y in zip(SLOTS, a, b) if x != y}
            out.append(f"{label}: {diff}")
            if len(out) >= limit:
                break
    return out


def main(argv: list[str]) -> int:
    from analyzer.decode import decode_frame
    cmd = argv[0] if argv else ""
    if cmd == "golden":
        frames = crafted()
        dig = digests(decode_frame, frames)
        with open(GOLDEN, "w", encoding="utf-8") as fh:
            json.dump(dig, fh, indent=0, sort_keys=True)
            fh.write("\n")
        print(f"{len(frames)} crafted frames in {len(dig)} groups -> {GOLDEN}")
        return 0
    if cmd in ("save", "compare") and len(argv) == 2:
        if cmd == "save":
            frames = from_captures() + crafted()
            with open(argv[1], "wb") as fh:
                pickle.dump((_storable(frames), values(decode_frame, frames)), fh)
            print(f"{len(frames)} frames saved to {argv[1]}")
            return 0
        with open(argv[1], "rb") as fh:
            stored, old = pickle.load(fh)
        frames = _restored(stored)
        new = values(decode_frame, frames)
        diffs = differences(frames, old, new)
        print(f"{len(frames)} frames, {sum(a != b for a, b in zip(old, new))} differ")
        for line in diffs:
            print(line)
        return 1 if diffs else 0
    print(__doc__)
    return 2


def _storable(frames: list[Frame]) -> list[tuple]:
    return [(label, lt, bytes(d), o, type(d).__name__) for label, lt, d, o in frames]


def _restored(stored: list[tuple]) -> list[Frame]:
    wrap = {"bytes": bytes, "bytearray": bytearray, "memoryview": memoryview}
    return [(label, lt, wrap[kind](d), o) for label, lt, d, o, kind in stored]


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
