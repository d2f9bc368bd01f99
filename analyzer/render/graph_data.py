"""The data Wireshark's graphs plot, computed from an engine (pure: engine in, lists out).

    io_series(eng, interval, keep=None, stream=None)     I/O graph: packets and bytes per interval
    seq_series(eng, conv)                                 Stevens / tcptrace sequence graph
    rtt_series(eng, conv)                                 round-trip time of each acked segment
    throughput_series(eng, conv, interval)                payload bits per second per direction

Times are seconds since the capture's first packet (Wireshark's relative time); sequence
numbers are relative (first data byte = 1), as tshark shows them.  `keep(n) -> bool` selects
packets (a compiled display filter's test, built by the caller); `stream` = (transport, id).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from analyzer.decode.decoded import ACK, FIN, SYN
from analyzer.transport.analysis_flags import ANALYSIS_BIT

RETRANSMITTED = (ANALYSIS_BIT["retransmission"] | ANALYSIS_BIT["fast_retransmission"]
                 | ANALYSIS_BIT["spurious_retransmission"])
MAX_BINS = 100_000


@dataclass
class IoSeries:
    interval: float
    times: list[float] = field(default_factory=list)      # start of each interval
    packets: list[int] = field(default_factory=list)
    bytes: list[int] = field(default_factory=list)        # frame lengths on the wire


@dataclass
class SeqDirection:
    direction: str                                         # "c2s" | "s2c": who sends the data
    segments: list[tuple[float, int, int]] = field(default_factory=list)   # (t, seq, seq+len)
    retransmissions: list[tuple[float, int, int]] = field(default_factory=list)
    acks: list[tuple[float, int]] = field(default_factory=list)            # receiver's ack
    windows: list[tuple[float, int]] = field(default_factory=list)         # ack + window


def _t0(eng) -> float:
    return eng.index.ts[0] if eng.packet_count else 0.0


def conversation_numbers(eng, conv) -> list[int]:
    """Packet numbers of a conversation, in capture order."""
    last = min(conv.last_packet or eng.packet_count, eng.packet_count)
    return [n for n in range(max(1, conv.first_packet), last + 1)
            if eng.stream_of(n) == conv.id and eng.decoded(n).transport == conv.transport]


def _tcp_packets(eng, conv):
    """(packet number, its Decoded, direction, time since the capture's start, relative seq,
    relative ack) of each packet of a conversation that has a direction."""
    t0 = _t0(eng)
    for n in conversation_numbers(eng, conv):
        direction = eng.direction_of(n)
        if direction is None:
            continue
        d = eng.decoded(n)
        seq, ack = eng.relative_seq(n, d)
        yield n, d, direction, round(eng.index.ts[n - 1] - t0, 6), seq, ack


def io_series(eng, interval: float, keep=None, stream: tuple[str, int] | None = None) -> IoSeries:
    """Packets and bytes per `interval` seconds over the whole capture (empty intervals 0)."""
    if interval <= 0:
        raise ValueError("interval must be > 0")
    out = IoSeries(interval)
    count = eng.packet_count
    if not count:
        return out
    ts, origlen = eng.index.ts, eng.index.origlen
    t0 = ts[0]
    bins = int((max(ts) - t0) / interval) + 1
    if bins > MAX_BINS:
        raise ValueError(f"{bins} intervals of {interval} s: use a longer interval")
    packets, sizes = [0] * bins, [0] * bins
    for n in range(1, count + 1):
        if stream is not None and (eng.stream_of(n) != stream[1]
                                   or eng.decoded(n).transport != stream[0]):
            continue
        if keep is not None and not keep(n):
            continue
        b = min(bins - 1, max(0, int((ts[n - 1] - t0) / interval)))
        packets[b] += 1
        sizes[b] += origlen[n - 1]
    out.times = [round(i * interval, 9) for i in range(bins)]
    out.packets, out.bytes = packets, sizes
    return out


def seq_series(eng, conv) -> dict[str, SeqDirection]:
    """Per sending direction: data segments (seq to seq+len, SYN/FIN count one), the
    retransmitted ones apart, and what the other side announced: its ack and ack + window
    (the tcptrace "window line")."""
    out = {d: SeqDirection(d) for d in ("c2s", "s2c")}
    for n, d, direction, t, seq, ack in _tcp_packets(eng, conv):
        size = d.payload_len + (1 if d.flags & (SYN | FIN) else 0)
        if size:
            seg = (t, seq, seq + size)
            if eng.analysis_bits(n) & RETRANSMITTED:
                out[direction].retransmissions.append(seg)
            else:
                out[direction].segments.append(seg)
        if d.flags & ACK:
            other = out["s2c" if direction == "c2s" else "c2s"]
            cs = eng.state_of_packet(n)
            window = eng.window_size(cs, 0 if direction == "c2s" else 1, d)
            other.acks.append((t, ack))
            other.windows.append((t, ack + window))
    return out


def rtt_series(eng, conv) -> dict[str, list[tuple[float, int, float]]]:
    """Per sending direction: (time sent, seq, RTT in ms) of each data segment, measured to the
    first ACK that covers it (retransmitted segments are not measured: Karn's rule)."""
    out: dict[str, list[tuple[float, int, float]]] = {"c2s": [], "s2c": []}
    waiting: dict[str, list[tuple[int, float, int]]] = {"c2s": [], "s2c": []}
    for n, d, direction, t, seq, ack in _tcp_packets(eng, conv):
        if d.payload_len and not eng.analysis_bits(n) & RETRANSMITTED:
            waiting[direction].append((seq + d.payload_len, t, seq))
        elif d.payload_len:
            end = seq + d.payload_len      # Karn: drop what this retransmission repeats
            waiting[direction] = [w for w in waiting[direction] if w[0] > end]
        if d.flags & ACK:
            sender = "s2c" if direction == "c2s" else "c2s"
            still = []
            for end, sent, s in waiting[sender]:
                if ack >= end:
                    out[sender].append((sent, s, round((t - sent) * 1000.0, 6)))
                else:
                    still.append((end, sent, s))
            waiting[sender] = still
    return out


def throughput_series(eng, conv, interval: float) -> dict[str, IoSeries]:
    """Per direction: payload bits per second in each `interval` (IoSeries.bytes holds bits/s,
    IoSeries.packets the segments)."""
    if interval <= 0:
        raise ValueError("interval must be > 0")
    t0 = _t0(eng)
    samples: dict[str, list[tuple[float, int]]] = {"c2s": [], "s2c": []}
    for n in conversation_numbers(eng, conv):
        direction = eng.direction_of(n)
        size = eng.decoded(n).payload_len
        if direction is not None and size:
            samples[direction].append((eng.index.ts[n - 1] - t0, size))
    out = {}
    for direction, pts in samples.items():
        series = IoSeries(interval)
        if pts:
            first = int(pts[0][0] / interval)
            bins = int(pts[-1][0] / interval) - first + 1
            if bins > MAX_BINS:
                raise ValueError(f"{bins} intervals of {interval} s: use a longer interval")
            packets, bits = [0] * bins, [0] * bins
            for t, size in pts:
                b = int(t / interval) - first
                packets[b] += 1
                bits[b] += size * 8
            series.times = [round((first + i) * interval, 9) for i in range(bins)]
            series.packets = packets
            series.bytes = [round(b / interval, 3) for b in bits]
        out[direction] = series
    return out
