"""`Engine`: the feeding core and message access plus the queries views make per packet and
per conversation (conversations, follow stream, naive recv() reads).  What people read is
drawn from these by analyzer.render."""
from __future__ import annotations

from bisect import bisect_left

from analyzer.decode.decoded import ACK, SYN
from analyzer.engine.constants import DIRS
from analyzer.engine.conv_state import (ConvState, MessageList, conv_analysis,
                                         malformed_texts)
from analyzer.engine.messages import EngineMessages
from analyzer.engine.types import Conversation, FollowChunk


class Engine(EngineMessages):
    """Push-based analysis engine: `feed` packets, `finish`, then ask (see analyzer.engine)."""

    # -- per packet ----------------------------------------------------------------------
    def analysis_bits(self, n: int) -> int:
        with self.lock:
            return self.index.analysis[self.check_number(n)]

    def stream_of(self, n: int) -> int | None:
        with self.lock:
            s = self.index.stream[self.check_number(n)]
            return None if s < 0 else s

    def direction_of(self, n: int) -> str | None:
        with self.lock:
            kind = self.flow_kind[self.check_number(n)]
            return None if kind == 0 else DIRS[(kind - 1) % 2]

    def conversation_of(self, n: int) -> Conversation | None:
        cs = self.state_of_packet(n)
        return None if cs is None else self.conversation_for(cs)

    def relative_seq(self, n: int, decoded=None) -> tuple[int, int]:
        """(seq, ack) relative like tshark's (SYN = 0, first data byte = 1); `decoded`: the
        packet's Decoded when the caller has it already."""
        with self.lock:
            cs = self.state_of_packet(n)
            d = decoded if decoded is not None else self.decoded(n)
            if cs is None or cs.transport != "tcp":
                return d.seq, d.ack
            direction = (self.flow_kind[n - 1] - 1) % 2
            r, o = cs.reasm[direction], cs.reasm[1 - direction]
            seq = (d.seq - r.base + 1) % (1 << 32) if r.base is not None else d.seq
            ack = (d.ack - o.base + 1) % (1 << 32) if (o.base is not None and d.flags & ACK) else 0
            return seq, ack

    @staticmethod
    def window_size(cs: ConvState | None, direction: int, d) -> int:
        """The window as tshark's Info shows it: scaled by the SYN's window-scale option
        (when both sides sent one) except on SYN packets.  Raw value if unknown."""
        if d.flags & SYN or cs is None:
            return d.window
        shift = cs.flow.window_shift(direction)
        return d.window if shift is None else d.window << shift

    # -- per conversation ----------------------------------------------------------------
    @property
    def conversations(self) -> list[Conversation]:
        with self.lock:
            return [self.conversation_for(cs) for cs in self.states]

    def conversation(self, transport: str, id: int) -> Conversation:
        with self.lock:
            cs = self.state_by_key.get((transport, id))
            if cs is None:
                raise KeyError(f"no {transport} conversation {id}")
            return self.conversation_for(cs)

    def conversation_for(self, cs: ConvState, cache: bool = True) -> Conversation:
        """The Conversation of a ConvState (cached until the state changes)."""
        cached = cs.cache
        if cached is not None and cached[0] == cs.version:
            return cached[1]
        f = cs.flow
        analysis = conv_analysis(f.analysis_counts, cs.own)
        gaps = []
        if cs.transport == "tcp":
            for direction, r in enumerate(cs.reasm):
                gaps.extend((DIRS[direction], o, ln) for o, ln in r.gaps)
        malformed = malformed_texts(cs.m_bad, cs.m_dir, cs.m_off)
        conv = Conversation(
            id=f.id, transport=f.transport,
            client=f.endpoint_text("client"), server=f.endpoint_text("server"),
            first_packet=f.first_packet, last_packet=f.last_packet,
            start_time=f.start_time, end_time=f.end_time, packets=f.packets,
            bytes_c2s=f.bytes_c2s, bytes_s2c=f.bytes_s2c,
            state=f.state(), history=f.history(), handshake=f.handshake(), teardown=f.teardown(),
            protocol=cs.protocol,
            messages=MessageList(lambda i, cs=cs: self.message(cs, i), cs.message_count),
            coalesced_packets=cs.coalesced.tolist(), analysis=analysis,
            malformed=malformed, gaps=gaps)
        if cache:
            cs.cache = (cs.version, conv)
        return conv

    def follow(self, conv) -> list[FollowChunk]:
        """Both directions' bytes, each in stream order, interleaved in capture order (a
        chunk counts as arriving with the latest packet needed to deliver it in order);
        gaps are chunks with `gap` = N and no data ("[N bytes missing]")."""
        with self.lock:
            cs = self.state(conv)
            items = []
            if cs.transport == "udp":
                for direction in (0, 1):
                    for n, i in zip(cs.d_key[direction], cs.d_idx[direction]):
                        payload = self.payload_of(n) or b""
                        items.append((n, 0, FollowChunk(DIRS[direction], n, cs.m_off[i],
                                                        payload, 0, (0,))))
                items.sort(key=lambda x: x[0])
                return [c for *_k, c in items]
            for direction, r in enumerate(cs.reasm):
                ch = r.chunks
                offs = cs.dir_offsets(direction)
                arrival = 0
                for k in range(len(ch)):
                    c_off, pkt, start, ln = ch.offset[k], ch.packet[k], ch.start[k], ch.length[k]
                    lo = bisect_left(offs, c_off)
                    hi = bisect_left(offs, c_off + ln)
                    starts = tuple(offs[j] - c_off for j in range(lo, hi))
                    if pkt == 0:
                        items.append((arrival, direction, k, FollowChunk(
                            DIRS[direction], 0, c_off, b"", ln, starts)))
                        continue
                    arrival = max(arrival, pkt)
                    payload = self.payload_of(pkt) or b""
                    items.append((arrival, direction, k, FollowChunk(
                        DIRS[direction], pkt, c_off, payload[start: start + ln], 0, starts)))
            items.sort(key=lambda x: x[:3])
            return [c for *_k, c in items]

    def naive_reads(self, conv, direction: str, bufsize: int = 1024,
                    read_interval: float = 0.0) -> list[tuple[int, int]]:
        """What a reader calling recv(bufsize) in a loop would have got: [(offset, length)].

        Model: bytes become readable when the packet carrying them arrives (a segment held
        behind a hole becomes readable when the hole fills); the reader reads back to back,
        each read returning min(bufsize, bytes readable).  Packets arriving at the same
        instant (or within `read_interval` seconds of the previous read) merge into one read;
        a packet larger than bufsize takes several reads.  The reader stops at a gap (TCP never
        delivers past missing bytes).
        """
        with self.lock:
            cs = self.state(conv)
            d = DIRS.index(direction)
            if cs.transport == "udp":
                return [(0, min(bufsize, cs.m_len[i])) for i in cs.d_idx[d]]
            ch = cs.reasm[d].chunks
            ts = self.index.ts
            out: list[tuple[int, int]] = []
            pos = 0            # next offset to read
            avail_end = 0      # readable up to here
            t_avail = None     # arrival time of the current batch
            arrival = -1.0
            for k in range(len(ch)):
                pkt, c_off, ln = ch.packet[k], ch.offset[k], ch.length[k]
                if pkt == 0:
                    break
                arrival = max(arrival, ts[pkt - 1])
                if t_avail is not None and arrival > t_avail + read_interval:
                    while pos < avail_end:          # drain what had arrived before
                        take = min(bufsize, avail_end - pos)
                        out.append((pos, take))
                        pos += take
                    t_avail = None
                if t_avail is None:
                    t_avail = arrival
                avail_end = c_off + ln
            while pos < avail_end:
                take = min(bufsize, avail_end - pos)
                out.append((pos, take))
                pos += take
            return out
