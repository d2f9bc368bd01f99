"""`wirelab verify`: compare wirelab's analysis of a capture with tshark's, fact by fact.

Compared (each difference is one line of text):
  * conversations: count per transport, and each conversation's two endpoints;
  * every packet's conversation id (tshark tcp.stream / udp.stream) and TCP flags;
  * per TCP conversation: the handshake packets (SYN, SYN-ACK, ACK) and the teardown packets
    (each side's first FIN and its ACK, or the RST of an abort), derived from tshark's flags,
    raw sequence and acknowledgment numbers (see handshake_frames / teardown_frames);
  * every packet's TCP analysis flags named in COMPARED_FLAGS (tshark tcp.analysis.<name>),
    and each TCP conversation's count of each (what `summary` reports under "analysis").
Packets wirelab sets aside as `loopback_duplicate` (the incoming copy of a packet a Linux
cooked capture of lo shows twice) keep their conversation, which is compared; their analysis
is not: tshark counts them and calls them retransmissions.  tshark's stream ids are read as its
conversation tables count (innermost header; ICMP-quoted headers and dissector-opened
conversations apart: analyzer.wireshark.tshark_streams); `Facts.notes` says where it differs.

    from analyzer.wireshark.verify import verify_file
    result = verify_file("x.pcap")
    result.agree, result.disagreements   # list[str]
"""
from __future__ import annotations

import threading
from array import array
from dataclasses import dataclass, field
from typing import NamedTuple

from analyzer.decode.decoded import ACK, FIN, RST, SYN
from analyzer.transport.analysis_flags import ANALYSIS_NAMES, analysis_list
from analyzer.wireshark.tshark import iter_fields as iter_tshark_fields
from analyzer.wireshark.tshark_streams import StreamNumbering, innermost, last

# wirelab analysis names that are also tshark tcp.analysis.* fields (the rest are ours only)
COMPARED_FLAGS: tuple[str, ...] = tuple(n for n in ANALYSIS_NAMES if n in (
    "retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order",
    "lost_segment", "ack_lost_segment", "duplicate_ack", "zero_window", "zero_window_probe",
    "keep_alive", "keep_alive_ack", "window_update", "window_full", "reused_ports",
    "zero_window_probe_ack"))

_BASE_FIELDS = ["frame.number", "tcp.stream", "udp.stream", "tcp.flags", "ip.src", "ip.dst",
                "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
                "tcp.seq_raw", "tcp.ack_raw", "tcp.len", "frame.protocols"]
_COL = {name: i for i, name in enumerate(_BASE_FIELDS)}


_KINDS = ("", "tcp", "udp")       # per-frame transport code -> name


@dataclass
class Facts:
    """What one side (wirelab or tshark) says about a capture.

    Per-packet facts live in compact arrays indexed by packet number - 1, so a million-packet
    capture costs tens of MB here, not GB.
    """

    source: str
    packets: int = 0
    kind: bytearray = field(default_factory=bytearray)          # 0 none, 1 tcp, 2 udp
    sid: array = field(default_factory=lambda: array("l"))     # conversation id (-1 none)
    tcp_flags: bytearray = field(default_factory=bytearray)     # TCP flag byte
    analysis: dict[int, frozenset] = field(default_factory=dict)       # frame -> flag names
    endpoints: dict[tuple[str, int], frozenset] = field(default_factory=dict)  # conv -> {"ip:port"x2}
    handshake: dict[int, list[int]] = field(default_factory=dict)      # tcp stream -> frames
    teardown: dict[int, list[int]] = field(default_factory=dict)       # tcp stream -> frames
    skip_analysis: set[int] = field(default_factory=set)               # frames not compared
    notes: list[str] = field(default_factory=list)     # what this side numbers differently
    counts: dict[int, dict[str, int]] = field(default_factory=dict)    # wirelab: tcp conv -> counts
    warnings: list[str] = field(default_factory=list)
    # tshark only: what handshake_frames / teardown_frames need, per packet and per stream
    side: bytearray = field(default_factory=bytearray)          # 1: sent by the stream's 2nd endpoint
    seq: array = field(default_factory=lambda: array("I"))
    ack: array = field(default_factory=lambda: array("I"))
    seglen: array = field(default_factory=lambda: array("I"))
    stream_frames: dict[int, array] = field(default_factory=dict)      # tcp stream -> frames

    def _ensure(self, n: int) -> None:
        grow = n - len(self.kind)
        if grow > 0:
            self.kind.extend(bytes(grow))
            self.sid.extend([-1] * grow)
            self.tcp_flags.extend(bytes(grow))

    def set_packet(self, n: int, transport: str, sid: int, flags: int = 0) -> None:
        self._ensure(n)
        self.kind[n - 1] = 1 if transport == "tcp" else 2
        self.sid[n - 1] = sid
        self.tcp_flags[n - 1] = flags & 0xFF

    def stream(self, n: int) -> tuple[str, int] | None:
        """(transport, conversation id) of packet n, or None."""
        if 1 <= n <= len(self.kind) and self.kind[n - 1]:
            return (_KINDS[self.kind[n - 1]], self.sid[n - 1])
        return None

    def flags(self, n: int) -> int | None:
        """TCP flag byte of packet n (None: not a TCP conversation packet)."""
        if 1 <= n <= len(self.kind) and self.kind[n - 1] == 1:
            return self.tcp_flags[n - 1]
        return None

    def conversation_packets(self) -> int:
        return len(self.kind) - self.kind.count(0)

    def conversations(self, transport: str) -> int:
        return sum(1 for t, _ in self.endpoints if t == transport)

    def tcp_rows(self, sid: int, skip: set[int] | None = None) -> list["_TcpRow"]:
        """tshark's packets of TCP stream `sid` (without the frames in `skip`)."""
        out = []
        for n in self.stream_frames.get(sid, ()):
            if skip and n in skip:
                continue
            i = n - 1
            out.append(_TcpRow(n, self.tcp_flags[i], self.side[i], self.seq[i], self.ack[i],
                               self.seglen[i]))
        return out


@dataclass
class VerifyResult:
    path: str
    disagreements: list[str]
    wirelab: Facts
    tshark: Facts

    @property
    def agree(self) -> bool:
        return not self.disagreements

    def summary_line(self) -> str:
        if self.agree:
            w = self.wirelab
            nflags = sum(len(v) for v in w.analysis.values())
            return (f"agree: {w.packets} packets, {w.conversations('tcp')} tcp + "
                    f"{w.conversations('udp')} udp conversations, {nflags} analysis flags")
        n = len(self.disagreements)
        return f"{n} disagreement{'s' if n != 1 else ''}"


def _endpoint(ip: str, port: str | int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


M32 = 0xFFFFFFFF


def _seq_ge(a: int, b: int) -> bool:
    """a >= b in 32-bit sequence space."""
    return ((a - b) & M32) < 0x80000000


class _TcpRow(NamedTuple):
    number: int
    flags: int
    src: int          # which endpoint sent it (0/1)
    seq: int          # raw sequence number
    ack: int          # raw acknowledgment number
    seglen: int


def handshake_frames(rows: list[_TcpRow]) -> list[int]:
    """SYN, SYN-ACK, ACK frames of one stream, derived from tshark's per-packet fields.

    The packets that completed the handshake: the client's last SYN before the SYN-ACK that
    acknowledges it, the last such SYN-ACK, then the client's first ACK of ISN+1 of the server.
    The client is the sender of the first SYN (a pure SYN the other side sends back, as in a
    simultaneous open, does not make it the client).  Shorter when the handshake is
    incomplete (the frames found so far).
    """
    syn = synack = None
    syn_seq = synack_seq = 0
    client = None
    for r in rows:
        sa = r.flags & (SYN | ACK)
        if sa == SYN and synack is None and (client is None or r.src == client):
            syn, syn_seq, client = r.number, r.seq, r.src
        elif (sa == (SYN | ACK) and syn is not None and r.src != client and not r.flags & RST
              and r.ack == (syn_seq + 1) & M32):
            synack, synack_seq = r.number, r.seq
        elif (sa == ACK and synack is not None and r.src == client and not r.flags & RST
              and r.ack == (synack_seq + 1) & M32):
            return [syn, synack, r.number]
    return [f for f in (syn, synack) if f is not None]


def teardown_frames(rows: list[_TcpRow]) -> list[int]:
    """The teardown packets of one stream, derived from tshark's per-packet fields.

    An abort (the first RST, sent before both sides' FINs): that RST alone.  Otherwise each
    side's first FIN and the first packet from the other side that acknowledges it.
    """
    fin: dict[str, int] = {}
    fin_end: dict[str, int] = {}
    fin_ack: dict[str, int] = {}
    sides: list[str] = []
    rst = None
    rst_before_close = False
    for r in rows:
        for side in sides:
            if (side != r.src and side not in fin_ack and r.flags & ACK and not r.flags & RST
                    and _seq_ge(r.ack, fin_end[side])):
                fin_ack[side] = r.number
        if r.flags & RST:
            if rst is None:
                rst, rst_before_close = r.number, len(fin) < 2
            continue
        if r.flags & FIN and r.src not in fin:
            fin[r.src] = r.number
            fin_end[r.src] = (r.seq + r.seglen + 1 + (1 if r.flags & SYN else 0)) & M32
            sides.append(r.src)
    if rst is not None and rst_before_close:
        return [rst]
    return sorted(set(fin.values()) | set(fin_ack.values()))


def tshark_facts(path: str, tshark_options: list[str] | None = None) -> Facts:
    """Run tshark once (-T fields) and collect its facts about `path` (innermost headers,
    numbered as tshark's conversation tables count: see analyzer.wireshark.tshark_streams)."""
    names = _BASE_FIELDS + [f"tcp.analysis.{n}" for n in COMPARED_FLAGS]
    extra: list[str] = []
    for opt in tshark_options or []:
        extra += ["-o", opt]
    warnings: list[str] = []
    facts = Facts("tshark", warnings=warnings)
    numbering = StreamNumbering()
    first_src: dict[int, str] = {}
    flag_cols = range(len(_BASE_FIELDS), len(names))
    for row in iter_tshark_fields(path, names, extra=extra, warnings=warnings):
        number = int(row[0])
        facts.packets = max(facts.packets, number)
        layer = innermost(row[_COL["frame.protocols"]], row[_COL["tcp.stream"]],
                          row[_COL["udp.stream"]])
        if layer is None:
            continue
        if layer.quoted:
            numbering.add_quoted(layer)
            continue
        v6 = layer.ip == "ipv6"
        src_ip = last(row[_COL["ipv6.src" if v6 else "ip.src"]])
        dst_ip = last(row[_COL["ipv6.dst" if v6 else "ip.dst"]])
        t = layer.transport
        src = _endpoint(src_ip, last(row[_COL[f"{t}.srcport"]]))
        dst = _endpoint(dst_ip, last(row[_COL[f"{t}.dstport"]]))
        pair = frozenset((src, dst))
        sid = numbering.add(number, layer, pair)
        facts.endpoints.setdefault((t, sid), pair)
        if t == "udp":
            facts.set_packet(number, "udp", sid)
            continue
        flags_text = last(row[_COL["tcp.flags"]])
        facts.set_packet(number, "tcp", sid, int(flags_text, 16) & 0xFF if flags_text else 0)
        found = frozenset(COMPARED_FLAGS[i - len(_BASE_FIELDS)] for i in flag_cols if row[i])
        if found:
            facts.analysis[number] = found
        _add_tcp_row(facts, number, sid, 0 if first_src.setdefault(sid, src) == src else 1,
                     [last(row[_COL[f]]) for f in ("tcp.seq_raw", "tcp.ack_raw", "tcp.len")])
    facts._ensure(facts.packets)
    facts.notes = numbering.notes()
    facts.skip_analysis = numbering.merged_frames()
    for sid in facts.stream_frames:
        rows = facts.tcp_rows(sid)
        facts.handshake[sid] = handshake_frames(rows)
        facts.teardown[sid] = teardown_frames(rows)
    return facts


def _add_tcp_row(facts: Facts, number: int, sid: int, side: int, raw: list[str]) -> None:
    """What handshake_frames / teardown_frames need of one tshark TCP packet."""
    grow = number - len(facts.side)
    if grow > 0:
        facts.side.extend(bytes(grow))
        facts.seq.extend([0] * grow)
        facts.ack.extend([0] * grow)
        facts.seglen.extend([0] * grow)
    i = number - 1
    facts.side[i] = side
    facts.seq[i] = int(raw[0] or 0) & M32
    facts.ack[i] = int(raw[1] or 0) & M32
    facts.seglen[i] = int(raw[2] or 0) & M32
    frames = facts.stream_frames.get(sid)
    if frames is None:
        frames = facts.stream_frames[sid] = array("l")
    frames.append(number)


def wirelab_facts(engine) -> Facts:
    """Collect the same facts from a finished analyzer.engine.Engine."""
    facts = Facts("wirelab", packets=engine.packet_count, warnings=list(engine.warnings))
    for conv in engine.conversations:
        facts.endpoints[(conv.transport, conv.id)] = frozenset((conv.client, conv.server))
        if conv.transport == "tcp":
            facts.handshake[conv.id] = [int(n) for n in (conv.handshake or {}).get("frames", [])]
            facts.teardown[conv.id] = [int(n) for n in (conv.teardown or {}).get("frames", [])]
            facts.counts[conv.id] = {n: int((conv.analysis or {}).get(n, 0)) for n in COMPARED_FLAGS}
    facts._ensure(engine.packet_count)
    twin = 1 << ANALYSIS_NAMES.index("loopback_duplicate")
    for number in range(1, engine.packet_count + 1):
        bits = engine.analysis_bits(number)
        sid = engine.stream_of(number)
        if bits & twin:             # set aside: its conversation is compared, not its analysis
            facts.skip_analysis.add(number)
        if sid is None:
            continue
        dec = engine.decoded(number)
        transport = dec.transport
        if transport == "udp":
            facts.set_packet(number, "udp", sid)
        elif transport == "tcp":
            facts.set_packet(number, "tcp", sid, dec.flags)
            if bits & twin:
                continue
            found = frozenset(n for n in analysis_list(bits) if n in COMPARED_FLAGS)
            if found:
                facts.analysis[number] = found
    return facts


def _names(values) -> str:
    return "[" + ", ".join(sorted(values)) + "]"


def compare(wl: Facts, ts: Facts) -> list[str]:
    """Every difference between wirelab's facts and tshark's, one line each, in a stable order.

    Conversations and flags are compared on every packet; analysis flags not on the copies
    wirelab sets aside (loopback twins) nor on the packets of conversations a tshark dissector
    opened (tshark analyses several connections there as one)."""
    out: list[str] = []
    if wl.skip_analysis and ts.stream_frames:
        # derive tshark's handshakes/teardowns without the copies wirelab set aside
        handshake, teardown = {}, {}
        for sid in ts.stream_frames:
            kept = ts.tcp_rows(sid, wl.skip_analysis)
            handshake[sid], teardown[sid] = handshake_frames(kept), teardown_frames(kept)
    else:
        handshake, teardown = ts.handshake, ts.teardown
    if wl.packets != ts.packets:
        out.append(f"packets: tshark {ts.packets}, wirelab {wl.packets}")
    for transport in ("tcp", "udp"):
        a, b = ts.conversations(transport), wl.conversations(transport)
        if a != b:
            out.append(f"{transport} conversations: tshark {a}, wirelab {b}")
    for key in sorted(set(ts.endpoints) | set(wl.endpoints)):
        a, b = ts.endpoints.get(key), wl.endpoints.get(key)
        if a != b:
            show = lambda e: " <-> ".join(sorted(e)) if e else "none"  # noqa: E731
            out.append(f"{key[0]} stream {key[1]}: endpoints: tshark {show(a)}, wirelab {show(b)}")
    out += _compare_packets(wl, ts)
    for sid in sorted(set(handshake) | set(wl.handshake)):
        a, b = handshake.get(sid, []), wl.handshake.get(sid, [])
        if a != b:
            out.append(f"tcp stream {sid}: handshake frames: tshark {a}, wirelab {b}")
    for sid in sorted(set(teardown) | set(wl.teardown)):
        a = sorted(set(teardown.get(sid, [])))
        b = sorted(set(wl.teardown.get(sid, [])))
        if a != b:
            out.append(f"tcp stream {sid}: teardown frames: tshark {a}, wirelab {b}")
    return out + _compare_analysis(wl, ts)


def _compare_packets(wl: Facts, ts: Facts) -> list[str]:
    """Each packet's conversation and TCP flags."""
    out = []
    tk, wk, ts_sid, wl_sid = ts.kind, wl.kind, ts.sid, wl.sid
    for i in range(max(len(tk), len(wk))):
        number = i + 1
        a_kind = tk[i] if i < len(tk) else 0
        b_kind = wk[i] if i < len(wk) else 0
        if not a_kind and not b_kind:
            continue
        if a_kind != b_kind or (a_kind and ts_sid[i] != wl_sid[i]):
            a, b = ts.stream(number), wl.stream(number)
            show = lambda k: f"{k[0]} stream {k[1]}" if k else "none"  # noqa: E731
            out.append(f"frame {number}: conversation: tshark {show(a)}, wirelab {show(b)}")
        fa, fb = ts.flags(number), wl.flags(number)
        if fa != fb and fa is not None and fb is not None:
            out.append(f"frame {number}: tcp flags: tshark 0x{fa:02x}, wirelab 0x{fb:02x}")
    return out


def _compare_analysis(wl: Facts, ts: Facts) -> list[str]:
    """Each packet's analysis flags, and each TCP conversation's count of each (what
    `summary` reports under "analysis")."""
    out = []
    skip = wl.skip_analysis | ts.skip_analysis
    for number in sorted(set(ts.analysis) | set(wl.analysis)):
        if number in skip:
            continue
        a, b = ts.analysis.get(number, frozenset()), wl.analysis.get(number, frozenset())
        if a != b:
            out.append(f"frame {number}: analysis: tshark {_names(a)}, wirelab {_names(b)}")
    # a conversation holding packets tshark analysed as part of another one: no count
    mixed = {k[1] for k in map(wl.stream, ts.skip_analysis) if k and k[0] == "tcp"}
    ts_counts: dict[int, dict[str, int]] = {}
    for number, names in ts.analysis.items():
        if number in skip:
            continue
        key = ts.stream(number)
        if key and key[0] == "tcp":
            per = ts_counts.setdefault(key[1], {})
            for name in names:
                per[name] = per.get(name, 0) + 1
    for sid in sorted(wl.counts):
        if sid in mixed:
            continue
        for name in COMPARED_FLAGS:
            a, b = ts_counts.get(sid, {}).get(name, 0), wl.counts[sid].get(name, 0)
            if a != b:
                out.append(f"tcp stream {sid}: {name} count: tshark {a}, wirelab {b}")
    return out


def verify_file(path: str, tshark_options: list[str] | None = None,
                decode_as: dict | None = None, engine=None) -> VerifyResult:
    """Analyze `path` with wirelab and tshark (in parallel) and compare the two."""
    result: dict = {}

    def run_tshark() -> None:
        try:
            result["facts"] = tshark_facts(path, tshark_options)
        except BaseException as exc:  # re-raised in the caller's thread
            result["error"] = exc

    worker = threading.Thread(target=run_tshark, name="verify-tshark", daemon=True)
    worker.start()
    own = engine is None
    try:
        if own:
            from analyzer.engine import analyze_file
            engine = analyze_file(path, decode_as=decode_as)
        try:
            wl = wirelab_facts(engine)
        finally:
            if own:
                engine.close()
    finally:
        worker.join()
    if "error" in result:
        raise result["error"]
    ts = result["facts"]
    return VerifyResult(path, compare(wl, ts), wl, ts)
