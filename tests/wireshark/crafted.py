"""Scapy-crafted captures (deterministic TCP phenomena and default-port conversations)."""
from __future__ import annotations

import json
import struct

from scapy.all import IP, TCP, UDP, Ether, Raw, wrpcap

LO = "127.0.0.1"


class Conv:
    """A TCP conversation written packet by packet, with its own seq/ack bookkeeping."""

    def __init__(self, packets: list, sport: int, dport: int, t0: float = 1_700_000_000.0,
                 isn_c: int = 1000, isn_s: int = 5000):
        self.pk, self.cport, self.sport = packets, sport, dport
        self.t = t0
        self.seq = {"c": isn_c, "s": isn_s}

    def _add(self, who: str, flags: str, data: bytes = b"", seq: int | None = None,
             ack: int | None = None, window: int = 65535, dt: float = 0.001):
        other = "s" if who == "c" else "c"
        sport, dport = (self.cport, self.sport) if who == "c" else (self.sport, self.cport)
        s = (self.seq[who] if seq is None else seq) & 0xFFFFFFFF
        a = (self.seq[other] if ack is None else ack) & 0xFFFFFFFF
        p = Ether() / IP(src=LO, dst=LO) / TCP(sport=sport, dport=dport, flags=flags, seq=s,
                                               ack=a if "A" in flags else 0, window=window)
        if data:
            p = p / Raw(data)
        self.t += dt
        p.time = self.t
        self.pk.append(p)
        return s

    def handshake(self) -> None:
        self._add("c", "S")
        self.seq["c"] += 1
        self._add("s", "SA")
        self.seq["s"] += 1
        self._add("c", "A")

    def send(self, who: str, data: bytes, advance: bool = True, **kw) -> int:
        s = self._add(who, "PA", data, **kw)
        if advance and kw.get("seq") is None:
            self.seq[who] += len(data)
        return s

    def ack(self, who: str, **kw) -> None:
        self._add(who, "A", **kw)

    def close(self) -> None:
        self._add("c", "FA")
        self.seq["c"] += 1
        self._add("s", "FA")
        self.seq["s"] += 1
        self._add("c", "A")


def frame(payload: bytes) -> bytes:
    return struct.pack("!I", len(payload)) + payload


def default_port_protocols(path: str) -> None:
    """One conversation per protocol on its DEFAULT port, with coalesced and split messages."""
    pk: list = []
    c = Conv(pk, 40001, 9001)
    c.handshake()
    c.send("c", frame(b"hello") + frame(b"world"))          # two messages, one segment
    c.send("s", frame(b"HELLO") + frame(b"WORLD"))
    big = frame(b"x" * 3000)
    c.send("c", big[:1000])
    c.send("c", big[1000:2000])
    c.send("c", big[2000:] + frame(b"tail")[:2])           # end of one + start of next
    c.send("c", frame(b"tail")[2:])
    c.ack("s")
    c.close()
    c = Conv(pk, 40002, 9000)
    c.handshake()
    c.send("c", b"hi\nthere\n")
    c.send("s", b"HI\nTHERE\n")
    c.send("c", b"long li")
    c.send("c", b"ne\n")
    c.send("s", b"LONG LINE\n")
    c.close()
    c = Conv(pk, 40003, 9002)
    c.handshake()
    head = json.dumps({"filename": "a.txt", "filesize": 10}).encode()
    st = json.dumps({"ok": True, "stored": "a.txt", "size": 10}).encode()
    c.send("c", struct.pack("!I", len(head)) + head[:5])
    c.send("c", head[5:] + b"0123")
    c.send("c", b"456789")
    c.send("s", frame(st))
    c.close()
    c = Conv(pk, 40004, 9003)
    c.handshake()
    c.send("s", bytes(range(32)))
    c.send("c", b"0123456789abcdef0123456789abcdef" + b"hi\n")   # md5-hex answer + chat
    c.send("s", b"HI\n")
    c.close()
    c = Conv(pk, 40005, 9004)
    c.handshake()
    rep = b"REPORT r1 2000\n" + b"y" * 2000
    c.send("c", b"GET r1\nGET r1\n")
    c.send("s", rep + rep[:500])
    c.send("s", rep[500:])
    c.send("c", b"GET zz\n")
    c.send("s", b"ERROR unknown report\n")
    c.close()
    t = pk[-1].time
    for i, (sport, dport, data) in enumerate(((40006, 9005, b"ping"), (9005, 40006, b"PING"))):
        p = Ether() / IP(src=LO, dst=LO) / UDP(sport=sport, dport=dport) / Raw(data)
        p.time = t + 0.001 * (i + 1)
        pk.append(p)
    wrpcap(path, pk)


def retransmission(path: str) -> None:
    """A lost data segment retransmitted after an RTO (200 ms), on a lenmsg stream."""
    pk: list = []
    c = Conv(pk, 40011, 9001)
    c.handshake()
    c.send("c", frame(b"first"))
    c.ack("s")
    s = c.send("c", frame(b"second"))
    c.send("c", frame(b"second"), seq=s, dt=0.2)             # RTO retransmission
    c.ack("s")
    c.send("s", frame(b"FIRST") + frame(b"SECOND"))
    c.ack("c")
    c.close()
    wrpcap(path, pk)


def out_of_order(path: str) -> None:
    """Three segments captured in the order 1, 3, 2 (previous segment not captured, then OOO)."""
    pk: list = []
    c = Conv(pk, 40021, 9001)
    c.handshake()
    a, b, d = frame(b"A" * 100), frame(b"B" * 100), frame(b"C" * 100)
    s0 = c.seq["c"]
    c.send("c", a)
    c.send("c", d, seq=s0 + len(a) + len(b))
    c.send("c", b, seq=s0 + len(a))
    c.seq["c"] = s0 + len(a) + len(b) + len(d)
    c.ack("s")
    c.send("s", frame(b"OK"))
    c.ack("c")
    c.close()
    wrpcap(path, pk)


def fast_retransmission(path: str) -> None:
    """A lost segment, three duplicate ACKs from the receiver, then a fast retransmission."""
    pk: list = []
    c = Conv(pk, 40031, 9001)
    c.handshake()
    segs = [frame(bytes([65 + i]) * 200) for i in range(5)]
    s0 = c.seq["c"]
    offs = [s0]
    for sg in segs:
        offs.append(offs[-1] + len(sg))
    c.send("c", segs[0])
    c.ack("s", ack=offs[1])
    # segs[1] is lost on the wire (not captured)
    for i in (2, 3, 4):
        c.send("c", segs[i], seq=offs[i])
        c.ack("s", ack=offs[1])                              # duplicate ACKs
    c.send("c", segs[1], seq=offs[1], dt=0.002)              # fast retransmission
    c.seq["c"] = offs[5]
    c.ack("s", ack=offs[5])
    c.close()
    wrpcap(path, pk)


def ipv6_icmp_arp(path: str) -> None:
    """IPv6 TCP (aborted by RST) and UDP, an ICMP error quoting a UDP datagram, an ARP."""
    from scapy.all import ARP, ICMP, IPv6

    pk: list = []
    t = [1_700_000_000.0]

    def add(p):
        t[0] += 0.001
        p.time = t[0]
        pk.append(p)

    v6 = dict(src="::1", dst="::1")
    add(Ether() / IPv6(**v6) / TCP(sport=40100, dport=9001, flags="S", seq=0))
    add(Ether() / IPv6(**v6) / TCP(sport=9001, dport=40100, flags="SA", seq=0, ack=1))
    add(Ether() / IPv6(**v6) / TCP(sport=40100, dport=9001, flags="A", seq=1, ack=1))
    add(Ether() / IPv6(**v6) / TCP(sport=40100, dport=9001, flags="PA", seq=1, ack=1) / Raw(frame(b"hi")))
    add(Ether() / IPv6(**v6) / TCP(sport=40100, dport=9001, flags="R", seq=7, ack=0))
    add(Ether() / IPv6(**v6) / UDP(sport=40101, dport=9005) / Raw(b"ping"))
    add(Ether() / IP(src=LO, dst=LO) / ICMP(type=3, code=3) / IP(src=LO, dst=LO)
        / UDP(sport=40102, dport=9005) / Raw(b"x"))
    add(Ether() / ARP(psrc=LO, pdst="127.0.0.2"))
    wrpcap(path, pk)


def window_keepalive_wrap_reuse(path: str) -> None:
    """Sequence numbers wrapping past 2**32, a zero window with a probe and a window update,
    a keep-alive, a spurious retransmission, then the same 4-tuple reused by a new SYN."""
    pk: list = []
    c = Conv(pk, 40200, 9001, isn_c=0xFFFFFF00, isn_s=0xFFFFFFF0)
    c.handshake()
    for _ in range(3):
        c.send("c", frame(b"a" * 100))
    c.ack("s", window=0)                                     # zero window
    nxt = frame(b"b" * 50)
    c._add("c", "A", nxt[:1], seq=c.seq["c"], dt=0.2)        # zero window probe (next byte)
    c.ack("s", window=0)
    c.ack("s", window=65535)                                 # window update
    c.send("c", nxt)
    c.ack("s")
    c._add("c", "A", b"", seq=c.seq["c"] - 1, dt=1.0)        # keep-alive
    c.ack("s")
    s = c.send("c", frame(b"c" * 10))
    c.ack("s")
    c.send("c", frame(b"c" * 10), seq=s, dt=0.3)             # spurious retransmission
    c.ack("s")
    c.close()
    c2 = Conv(pk, 40200, 9001, t0=c.t + 1)                   # same ports, new connection
    c2.handshake()
    c2.send("c", frame(b"again"))
    c2.ack("s")
    c2.close()
    wrpcap(path, pk)


def malformed(path: str) -> None:
    """Bad frames on default ports: lenmsg length 0xFFFFFFFF, filexfer header length 0 and a
    header without filesize, a bigreply reply line that is no REPORT."""
    pk: list = []
    c = Conv(pk, 40300, 9001)
    c.handshake()
    c.send("c", b"\xff\xff\xff\xffjunk")
    c.close()
    c = Conv(pk, 40301, 9002)
    c.handshake()
    c.send("c", struct.pack("!I", 0) + b"{}")
    c.close()
    c = Conv(pk, 40302, 9002)
    c.handshake()
    head = b'{"filename": "x"}'
    c.send("c", struct.pack("!I", len(head)) + head)
    c.close()
    c = Conv(pk, 40303, 9004)
    c.handshake()
    c.send("c", b"GET a\n")
    c.send("s", b"WHAT is this\n")
    c.close()
    wrpcap(path, pk)
