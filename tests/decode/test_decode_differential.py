"""Differential test against tshark: 600 randomly damaged frames in one pcap, one tshark run.

Whenever wirelab decodes TCP/UDP without a malformed mark, tshark must read the same ports,
sequence number and length.  Whenever tshark reads TCP without a malformed mark, wirelab must
too, unless it marked the frame malformed (e.g. a bogus header length tshark only flags as an
expert error) or it is an IP fragment (not reassembled, not decoded as TCP).
"""
from __future__ import annotations

import random
import subprocess

from scapy.all import IP, TCP, UDP, Dot1Q, Ether, IPv6, raw

from analyzer.decode import decode_frame
from tests.sources import craft

F = ["tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.len", "udp.srcport", "udp.dstport",
     "udp.length", "_ws.malformed"]
MAC = dict(dst="00:00:00:00:00:01", src="00:00:00:00:00:02")


def _frames(n: int) -> list[bytes]:
    rng = random.Random(5)
    bases = [
        raw(Ether(**MAC) / IP(src="127.0.0.1", dst="127.0.0.2") /
            TCP(sport=1000, dport=9001, seq=5, flags="PA",
                options=[("NOP", None), ("NOP", None), ("Timestamp", (1, 2))]) / (b"x" * 40)),
        raw(Ether(**MAC) / IPv6(src="::1", dst="::2") / TCP(sport=1001, dport=9001, seq=6) / (b"y" * 20)),
        raw(Ether(**MAC) / IP() / UDP(sport=53, dport=9005) / (b"z" * 30)),
        raw(Ether(**MAC) / Dot1Q(vlan=3) / IP() / TCP(sport=7, dport=8, options=[("MSS", 1460)]) / (b"w" * 10)),
    ]
    out = []
    for _ in range(n):
        b = bytearray(rng.choice(bases))
        for _ in range(rng.randint(1, 2)):
            b[rng.randrange(12, len(b))] = rng.randrange(256)
        if rng.random() < 0.3:
            b = b[:rng.randrange(14, len(b))]
        out.append(bytes(b))
    return out


def test_damaged_frames_agree_with_tshark(tmp_path):
    frames = _frames(600)
    path = craft.write(tmp_path, "d.pcap", craft.pcap_bytes([(1, i, f) for i, f in enumerate(frames)]))
    args = ["tshark", "-n", "-r", path, "-o", "tcp.relative_sequence_numbers:FALSE",
            "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE", "-T", "fields",
            "-E", "occurrence=f"]
    for f in F:
        args += ["-e", f]
    lines = subprocess.run(args, capture_output=True, text=True, timeout=120).stdout.splitlines()
    assert len(lines) == len(frames)
    both = 0
    for n, (f, line) in enumerate(zip(frames, lines), 1):
        t = dict(zip(F, line.split("\t")))
        d = decode_frame(1, f)
        if d.transport == "tcp" and not d.malformed:
            both += 1
            assert (t["tcp.srcport"], t["tcp.dstport"], t["tcp.seq_raw"], t["tcp.len"]) == \
                (str(d.sport), str(d.dport), str(d.seq), str(d.payload_len)), n
        elif d.transport == "udp" and not d.malformed:
            both += 1
            assert (t["udp.srcport"], t["udp.dstport"], t["udp.length"]) == \
                (str(d.sport), str(d.dport), str(d.payload_len + 8)), n
        elif t["tcp.srcport"] and not t["_ws.malformed"]:
            assert d.malformed or d.transport == "ip-fragment", (n, d)
            if d.malformed and d.l4_offset > 0:     # ports still shown for a bad header
                assert (str(d.sport), str(d.dport)) == (t["tcp.srcport"], t["tcp.dstport"]), n
    assert both > 200            # the comparison covered real decodes, not only rejects
