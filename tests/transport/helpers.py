"""Shared helpers for the flows tests: craft TCP conversations with Scapy, run our FlowTable
over a capture file, compare per-packet flags with tshark."""
from __future__ import annotations

from scapy.all import IP, IPv6, TCP, UDP, Ether, Raw, wrpcap

from analyzer.decode import decode_frame
from analyzer.transport.flows import FlowTable
from analyzer.transport.analysis_flags import analysis_list
from analyzer.sources.open import open_capture

from tests.transport.tshark_oracle import ANALYSIS_FIELDS

C = ("127.0.0.1", 40000)
S = ("127.0.0.1", 9001)
C6 = ("::1", 40000)
S6 = ("::1", 9001)


class Crafter:
    """Builds a list of Ether/IP/TCP frames with explicit times; .write(path) saves a pcap."""

    def __init__(self, t0: float = 1_700_000_000.0, v6: bool = False) -> None:
        self.t = t0
        self.frames = []
        self.v6 = v6
        self.c, self.s = (C6, S6) if v6 else (C, S)

    def tcp(self, src, dst, flags, seq, ack=0, data=b"", win=65000, dt=0.001, opts=None):
        self.t += dt
        ip = IPv6(src=src[0], dst=dst[0]) if self.v6 else IP(src=src[0], dst=dst[0])
        pkt = Ether() / ip / TCP(sport=src[1], dport=dst[1], flags=flags, seq=seq & 0xFFFFFFFF,
                                 ack=ack & 0xFFFFFFFF, window=win, options=opts or [])
        if data:
            pkt = pkt / Raw(data)
        pkt.time = self.t
        self.frames.append(pkt)
        return len(self.frames)

    def udp(self, src, dst, data=b"x", dt=0.001):
        self.t += dt
        pkt = Ether() / IP(src=src[0], dst=dst[0]) / UDP(sport=src[1], dport=dst[1]) / Raw(data)
        pkt.time = self.t
        self.frames.append(pkt)
        return len(self.frames)

    def handshake(self, cisn=1000, sisn=5000, dt=0.001, wscale=None):
        c, s = self.c, self.s
        copts = [("MSS", 65495)] + ([("WScale", wscale)] if wscale is not None else [])
        self.tcp(c, s, "S", cisn, 0, dt=dt, opts=copts)
        self.tcp(s, c, "SA", sisn, cisn + 1, dt=dt, opts=copts)
        self.tcp(c, s, "A", cisn + 1, sisn + 1, dt=dt)
        return cisn + 1, sisn + 1

    def write(self, path) -> str:
        wrpcap(str(path), self.frames)
        return str(path)


def run_flows(path) -> tuple[FlowTable, list]:
    """Our FlowTable over a capture: (table, verdicts) with verdicts[i] for packet i+1."""
    table = FlowTable()
    verdicts = []
    for number, rec in enumerate(open_capture(str(path)), 1):
        d = decode_frame(rec.linktype, rec.data, rec.origlen)
        verdicts.append(table.add(number, rec.ts, d))
    table.finish()
    return table, verdicts


def our_flags(verdict) -> set[str]:
    if verdict is None:
        return set()
    return set(analysis_list(verdict.analysis)) & set(ANALYSIS_FIELDS)


def flag_mismatches(path, rows) -> list[str]:
    """Every (packet, flag) where tshark and we disagree, as readable lines."""
    _, verdicts = run_flows(path)
    problems = []
    for row, v in zip(rows, verdicts):
        ours, theirs = our_flags(v), row["flags"]
        if ours != theirs:
            problems.append(f"packet {row['number']}: ours {sorted(ours)} tshark {sorted(theirs)}")
    if len(rows) != len(verdicts):
        problems.append(f"packet count: ours {len(verdicts)} tshark {len(rows)}")
    return problems


def stream_mismatches(path, rows) -> list[str]:
    _, verdicts = run_flows(path)
    problems = []
    for row, v in zip(rows, verdicts):
        want = row["tcp_stream"] if row["tcp_stream"] is not None else row["udp_stream"]
        got = v.flow.id if v is not None else None
        if want != got:
            problems.append(f"packet {row['number']}: ours stream {got} tshark {want}")
    return problems
