"""A one-direction flood (the ACKs were never captured): Wireshark stops tracking unacked
segments at 10,000 per direction, which changes how a later FIN counts; we do the same, and
our memory stays bounded."""
from __future__ import annotations

import socket
import struct

import pytest

from analyzer.sources.pcapwriter import PcapWriter
from analyzer.transport.tcp_analysis import TCP_MAX_UNACKED_SEGMENTS
from tests.transport.helpers import flag_mismatches, run_flows
from tests.transport.tshark_oracle import have_tshark, tshark_rows

pytestmark = pytest.mark.skipif(not have_tshark(), reason="tshark not installed")

_IP = struct.Struct("!BBHHHBBH4s4s")
_TCP = struct.Struct("!HHIIBBHHH")
LO = socket.inet_aton("127.0.0.1")


def frame(sport, dport, seq, ack, flags, payload=b""):
    tcp = _TCP.pack(sport, dport, seq, ack, 5 << 4, flags, 65000, 0, 0)
    ip = _IP.pack(0x45, 0, 20 + len(tcp) + len(payload), 0, 0, 64, 6, 0, LO, LO)
    return bytes(12) + b"\x08\x00" + ip + tcp + payload


def test_fin_after_ten_thousand_unacked_segments(tmp_path):
    path = tmp_path / "flood.pcap"
    n = TCP_MAX_UNACKED_SEGMENTS + 5
    seq, t = 1000, 1_700_000_000.0
    with PcapWriter(str(path)) as w:
        w.write(t, frame(40000, 7777, seq, 1, 0x02))                 # SYN
        seq += 1
        for _ in range(n):
            t += 0.0001
            w.write(t, frame(40000, 7777, seq, 1, 0x18, b"x"))
            seq += 1
        w.write(t + 0.001, frame(40000, 7777, seq, 1, 0x11))           # FIN: not counted
        w.write(t + 0.002, frame(40000, 7777, seq + 1, 1, 0x18, b"y"))  # so: "lost" before it
    rows = tshark_rows(path)
    assert "lost_segment" in rows[-1]["flags"]          # tshark shows the cap's effect
    assert flag_mismatches(path, rows) == []
    table, _ = run_flows(path)
    tcp = table.conversations[0]._tcp
    assert len(tcp.dirs[0].segments) == TCP_MAX_UNACKED_SEGMENTS
