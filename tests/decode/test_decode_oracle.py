"""decode_frame against tshark: every link type x IPv4/IPv6 x TCP/UDP, one pcapng, one tshark run."""
from __future__ import annotations

import struct
import subprocess

import pytest
from scapy.all import (IP, TCP, UDP, CookedLinux, Dot1AD, Dot1Q, Ether, IPv6,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, raw)

from analyzer.decode import decode_frame
from analyzer.sources.open import open_capture
from tests.sources import craft

LINKS = {  # linktype -> wrap(l3 bytes, is_v6) -> frame
    1: lambda b, v6: raw(Ether(dst="00:00:00:00:00:01", type=0x86DD if v6 else 0x0800) / b),
    -1: lambda b, v6: raw(Ether(dst="00:00:00:00:00:01") / Dot1Q(vlan=42, type=0x86DD if v6 else 0x0800) / b),
    -2: lambda b, v6: raw(Ether(dst="00:00:00:00:00:01") / Dot1AD(vlan=7) / Dot1Q(vlan=42, type=0x86DD if v6 else 0x0800) / b),
    113: lambda b, v6: raw(CookedLinux(pkttype=0, lladdrtype=772, lladdrlen=6,
                                       proto=0x86DD if v6 else 0x0800) / b),
    276: lambda b, v6: struct.pack("!HHIHBB8s", 0x86DD if v6 else 0x0800, 0, 1, 772, 0, 6,
                                   bytes(8)) + b,
    0: lambda b, v6: struct.pack("<I", 30 if v6 else 2) + b,
    108: lambda b, v6: struct.pack("!I", 24 if v6 else 2) + b,
    101: lambda b, v6: b,
    228: lambda b, v6: b,
    229: lambda b, v6: b,
}


def _l3_packets():
    tcp_opts = [("MSS", 65495), ("SAckOK", b""), ("Timestamp", (123456, 654321)),
                ("NOP", None), ("WScale", 7)]
    v4 = [
        IP(src="127.0.0.1", dst="127.0.0.5") / TCP(sport=40001, dport=9001, seq=4000000000,
                                                   flags="S", window=65495, options=tcp_opts),
        IP(src="127.0.0.5", dst="127.0.0.1") / TCP(sport=9001, dport=40001, seq=7, ack=4000000001,
                                                   flags="PA", options=[("NOP", None), ("NOP", None), ("Timestamp", (1, 2))]) / b"\x00\x00\x00\x05hello",
        IP(src="10.1.2.3", dst="10.3.2.1") / TCP(sport=1, dport=2, flags="FA",
                                                 options=[("SAck", (100, 200, 300, 400))]),
        IP(src="127.0.0.1", dst="127.0.0.1") / UDP(sport=5000, dport=9005) / (b"u" * 33),
    ]
    v6 = [
        IPv6(src="::1", dst="::1") / TCP(sport=40002, dport=9000, seq=1, flags="SA",
                                         options=tcp_opts),
        IPv6(src="fe80::1", dst="2001:db8::42") / UDP(sport=53, dport=5353) / b"dns?",
        IPv6(src="::1", dst="::2") / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() /
        TCP(sport=3, dport=4, flags="R"),
    ]
    return [(raw(p), False) for p in v4] + [(raw(p), True) for p in v6]


FIELDS = ["ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.srcport", "tcp.dstport", "tcp.seq_raw",
          "tcp.ack_raw", "tcp.flags", "tcp.window_size_value", "tcp.len", "tcp.hdr_len",
          "udp.srcport", "udp.dstport", "udp.length", "vlan.id", "tcp.options.mss_val",
          "tcp.options.wscale.shift", "tcp.options.timestamp.tsval",
          "tcp.options.timestamp.tsecr", "tcp.options.sack_le", "tcp.options.sack_re"]


def _tshark(path: str) -> list[dict]:
    args = ["tshark", "-n", "-r", path, "-o", "tcp.relative_sequence_numbers:FALSE",
            "-T", "fields", "-E", "occurrence=f"]
    for f in FIELDS:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60).stdout
    return [dict(zip(FIELDS, line.split("\t"))) for line in out.splitlines()]


def _ours(d) -> dict:
    o = d.tcp_options or {}
    sack = o.get("sack") or []
    return {
        "ip.src": d.src if d.ip_version == 4 else "", "ipv6.src": d.src if d.ip_version == 6 else "",
        "ip.dst": d.dst if d.ip_version == 4 else "", "ipv6.dst": d.dst if d.ip_version == 6 else "",
        "tcp.srcport": str(d.sport) if d.transport == "tcp" else "",
        "tcp.dstport": str(d.dport) if d.transport == "tcp" else "",
        "tcp.seq_raw": str(d.seq) if d.transport == "tcp" else "",
        "tcp.ack_raw": str(d.ack) if d.transport == "tcp" else "",
        "tcp.flags": f"0x{d.flags:04x}" if d.transport == "tcp" else "",
        "tcp.window_size_value": str(d.window) if d.transport == "tcp" else "",
        "tcp.len": str(d.payload_len) if d.transport == "tcp" else "",
        "tcp.hdr_len": str(d.tcp_header_len) if d.transport == "tcp" else "",
        "udp.srcport": str(d.sport) if d.transport == "udp" else "",
        "udp.dstport": str(d.dport) if d.transport == "udp" else "",
        "udp.length": str(d.payload_len + 8) if d.transport == "udp" else "",
        "vlan.id": "" if d.vlan is None else str(d.vlan),
        "tcp.options.mss_val": str(o["mss"]) if "mss" in o else "",
        "tcp.options.wscale.shift": str(o["wscale"]) if "wscale" in o else "",
        "tcp.options.timestamp.tsval": str(o["ts"][0]) if "ts" in o else "",
        "tcp.options.timestamp.tsecr": str(o["ts"][1]) if "ts" in o else "",
        "tcp.options.sack_le": str(sack[0][0]) if sack else "",
        "tcp.options.sack_re": str(sack[0][1]) if sack else "",
    }


def test_every_link_type_matches_tshark(tmp_path):
    e = "<"
    links = list(LINKS)
    blocks = [craft.shb(e)] + [craft.idb(e, lt if lt >= 0 else 1) for lt in links]
    expected_kind = []
    t = 1
    for i, lt in enumerate(links):
        for l3, v6 in _l3_packets():
            if (lt == 228 and v6) or (lt == 229 and not v6):
                continue
            blocks.append(craft.epb(e, i, t, LINKS[lt](l3, v6)))
            expected_kind.append((lt, v6))
            t += 1
    path = craft.write(tmp_path, "all.pcapng", b"".join(blocks))
    src = open_capture(path)
    recs = list(src)
    assert len(recs) == len(expected_kind) and src.warnings == []
    oracle = _tshark(path)
    assert len(oracle) == len(recs)
    for n, (rec, want) in enumerate(zip(recs, oracle), 1):
        d = decode_frame(rec.linktype, rec.data, rec.origlen)
        assert d.malformed is None, (n, d.malformed)
        assert d.transport in ("tcp", "udp")
        got = _ours(d)
        assert got == want, f"frame {n} ({expected_kind[n - 1]})"
        # payload bytes sit where the decoder says
        assert d.captured_payload_len == d.payload_len
        assert d.payload_offset + d.payload_len <= len(rec.data)
    assert sum(1 for _ in recs) >= 60
