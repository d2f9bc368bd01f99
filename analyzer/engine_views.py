"""Engine view queries: per-packet accessors, packet-list rows and Info text, packet_json,
message slices, conversations, follow and naive reads (mixin EngineViews of analyzer.engine.Engine).

Part of analyzer.engine: import names from analyzer.engine (this part imports the contract
dataclasses from there, so importing it before analyzer.engine is a circular ImportError)."""
from __future__ import annotations

from bisect import bisect_left, bisect_right

from analyzer.conv_state_store import MessageList, _ConvState
from analyzer.engine import Conversation, FollowChunk, MessageSlice, Row
from analyzer.engine_common import _DIRS, _LOOPBACK_DUP, _TAG_OF, _options_text, tcp_flag_names
from analyzer.decode import decode_frame
from analyzer.model import ACK, FIN, RST, SYN, analysis_list, flags_text
from analyzer.reassembly import Reassembler


class EngineViews:
    """View queries of Engine (per packet, per conversation, follow)."""

    # -- per packet ----------------------------------------------------------------------
    @property
    def packet_count(self) -> int:
        return len(self._ts)

    def _check(self, n: int) -> int:
        if not 1 <= n <= len(self._ts):
            raise IndexError(f"no packet {n} (have {len(self._ts)})")
        return n - 1

    def frame_bytes(self, n: int) -> bytes:
        with self.lock:
            i = self._check(n)
            if self.keep_frames and i < len(self.frame_store) and self.frame_store[i] is not None:
                return self.frame_store[i]
            off, ln = self._off[i], self._caplen[i]
            if self.reader is not None:
                return bytes(self.reader.read_frame(off, ln))
            if self._file is None:
                if not self.source_path:
                    raise IndexError(f"frame bytes of packet {n} were not kept")
                self._file = open(self.source_path, "rb")
            self._file.seek(off)
            return self._file.read(ln)

    def decoded(self, n: int):
        with self.lock:
            i = self._check(n)
            return decode_frame(self._link[i], self.frame_bytes(n), self._origlen[i])

    def _payload_of(self, n: int) -> bytes | None:
        try:
            data = self.frame_bytes(n)
        except (IndexError, OSError):
            return None
        i = n - 1
        d = decode_frame(self._link[i], data, self._origlen[i])
        if d.payload_offset < 0:
            return None
        return data[d.payload_offset: d.payload_offset + d.captured_payload_len]

    def analysis_bits(self, n: int) -> int:
        with self.lock:
            return self._bits[self._check(n)]

    def stream_of(self, n: int) -> int | None:
        with self.lock:
            s = self._stream[self._check(n)]
            return None if s < 0 else s

    def direction_of(self, n: int) -> str | None:
        with self.lock:
            d = self._dir[self._check(n)]
            return None if d == 0 else _DIRS[(d - 1) % 2]

    def conversation_of(self, n: int) -> Conversation | None:
        cs = self._state_of(n)
        return None if cs is None else self._conversation(cs)

    def _state_of(self, n: int) -> _ConvState | None:
        i = self._check(n)
        s, d = self._stream[i], self._dir[i]
        if s < 0:
            return None
        return self._convs.get(("tcp" if d <= 2 else "udp", s))

    def message_slices(self, n: int, _decoded=None) -> list[MessageSlice]:
        with self.lock:
            cs = self._state_of(n)
            if cs is None:
                return []
            direction = (self._dir[n - 1] - 1) % 2
            keys, idxs = cs.dir_offsets(direction), cs.d_idx[direction]
            if cs.transport == "udp":
                j = bisect_left(keys, n)
                if j < len(keys) and keys[j] == n:
                    m = self._message(cs, idxs[j])
                    return [MessageSlice(m, 0, m.length, True, True)]
                return []
            r = cs.reasm[direction]
            ch = r.chunks
            if ch is None or not len(ch) or r.base is None or not len(keys):
                return []
            d = _decoded if _decoded is not None else self.decoded(n)
            seq = d.seq + 1 if d.flags & SYN else d.seq
            plen = d.captured_payload_len
            if plen <= 0:
                return []
            off = self._offset_of_seq(r, seq)
            out: list[MessageSlice] = []
            m_len = cs.m_len
            for k in ch.covering(off - 1, off + plen + 1):
                if ch.packet[k] != n:
                    continue
                c_off, c_len, c_start = ch.offset[k], ch.length[k], ch.start[k]
                c_end = c_off + c_len
                j = bisect_right(keys, c_off) - 1
                if j < 0:
                    j = 0
                while j < len(keys) and keys[j] < c_end:
                    i = idxs[j]
                    m_off, ln = keys[j], m_len[i]
                    m_end = m_off + ln
                    if m_end > c_off or (ln == 0 and m_off >= c_off):
                        lo, hi = max(m_off, c_off), min(m_end, c_end)
                        out.append(MessageSlice(self._message(cs, i), c_start + lo - c_off,
                                                c_start + hi - c_off, m_off >= c_off,
                                                m_end <= c_end))
                    j += 1
            return out

    @staticmethod
    def _offset_of_seq(r: Reassembler, seq: int) -> int:
        delta = (seq - r.base) % (1 << 32)
        # the stream may be longer than 4 GiB: pick the candidate nearest to what was seen
        if r.next_off > (1 << 32):
            k = (r.next_off - delta) // (1 << 32)
            return delta + k * (1 << 32)
        return delta

    def row(self, n: int) -> Row:
        with self.lock:
            i = self._check(n)
            bits = self._bits[i]
            t = self._ts[i] - (self._first_ts or 0.0)
            length = self._origlen[i]
            names = analysis_list(bits) if bits else []
            tags = {_TAG_OF[a] for a in names if a in _TAG_OF}
            if bits & _LOOPBACK_DUP:
                d = self.decoded(n)
                src, dst = d.src or "?", d.dst or "?"
                return Row(n, t, src, dst, d.protocol, length, "loopback duplicate (not counted)",
                           frozenset(tags))
            d = self.decoded(n)
            src, dst = d.src or "?", d.dst or "?"
            protocol = d.protocol
            if d.malformed:
                info = f"[Malformed: {d.malformed}]"
                tags.add("malformed")
                return Row(n, t, src, dst, protocol, length, info, frozenset(tags))
            cs = self._state_of(n)
            if d.transport == "tcp":
                info = f"{d.sport} → {d.dport} [{tcp_flag_names(d.flags)}] " + self._seq_text(cs, n, d)
                if d.flags & SYN:
                    tags.add("handshake")
                if d.flags & FIN:
                    tags.add("teardown")
                if d.flags & RST:
                    tags.add("rst")
            elif d.transport == "udp":
                info = f"{d.sport} → {d.dport} Len={d.payload_len}"
            else:
                info = d.protocol
            slices = self.message_slices(n, d) if cs is not None else []
            if slices:
                protocol = slices[0].message.protocol.upper()
                if len(slices) > 1:
                    tags.add("coalesced")
                parts = []
                for s in slices[:3]:
                    m = s.message
                    where = "" if s.first and s.last else (" [start]" if s.first else
                                                           " [end]" if s.last else " [part]")
                    if m.malformed:
                        tags.add("malformed")
                    parts.append(f"{m.protocol} {m.summary}{where}".strip())
                    if m.split:
                        tags.add("split")
                more = f" (+{len(slices) - 3} more)" if len(slices) > 3 else ""
                info = "; ".join(parts) + more + f"  [{info}]"
            for a in names:
                if a != "loopback_duplicate":
                    info += f" [{a}]"
            return Row(n, t, src, dst, protocol, length, info, frozenset(tags))

    def _seq_text(self, cs, n: int, d) -> str:
        text_win = f"Win={d.window} Len={d.payload_len}"
        if cs is None or cs.transport != "tcp":
            return f"Seq={d.seq} Ack={d.ack} " + text_win
        direction = (self._dir[n - 1] - 1) % 2
        r, o = cs.reasm[direction], cs.reasm[1 - direction]
        seq = (d.seq - r.base + 1) % (1 << 32) if r.base is not None else d.seq
        win = self.window_size(cs, direction, d)
        text_win = f"Win={win} Len={d.payload_len}" + _options_text(d.tcp_options)
        out = f"Seq={seq} "
        if d.flags & ACK:
            ack = (d.ack - o.base + 1) % (1 << 32) if o.base is not None else d.ack
            out += f"Ack={ack} "
        return out + text_win

    @staticmethod
    def window_size(cs, direction: int, d) -> int:
        """The window as tshark's Info shows it: scaled by the SYN's window-scale option
        (when both sides sent one) except on SYN packets.  Raw value if unknown."""
        if d.flags & SYN or cs is None:
            return d.window
        try:
            shift = cs.flow._tcp.dirs[direction].win_scale   # analyzer.tcp_analysis state
        except AttributeError:
            return d.window
        return d.window << shift if isinstance(shift, int) and 0 <= shift <= 14 else d.window

    def relative_seq(self, n: int) -> tuple[int, int]:
        """(seq, ack) relative like tshark's (SYN = 0, first data byte = 1)."""
        with self.lock:
            cs = self._state_of(n)
            d = self.decoded(n)
            if cs is None or cs.transport != "tcp":
                return d.seq, d.ack
            direction = (self._dir[n - 1] - 1) % 2
            r, o = cs.reasm[direction], cs.reasm[1 - direction]
            seq = (d.seq - r.base + 1) % (1 << 32) if r.base is not None else d.seq
            ack = (d.ack - o.base + 1) % (1 << 32) if (o.base is not None and d.flags & ACK) else 0
            return seq, ack

    def packet_json(self, n: int) -> dict:
        with self.lock:
            i = self._check(n)
            d = self.decoded(n)
            bits = self._bits[i]
            s = self._stream[i]
            seq, ack = (d.seq, d.ack)
            if d.transport == "tcp" and s >= 0:
                seq, ack = self.relative_seq(n)
            out = {
                "number": n,
                "time": round(self._ts[i] - (self._first_ts or 0.0), 6),
                "epoch": self._ts[i],
                "src": d.src, "dst": d.dst,
                "sport": d.sport if d.transport in ("tcp", "udp") else None,
                "dport": d.dport if d.transport in ("tcp", "udp") else None,
                "transport": d.transport,
                "protocol": self.row(n).protocol,
                "flags": flags_text(d.flags) if d.transport == "tcp" else "",
                "seq": seq if d.transport == "tcp" else None,
                "ack": ack if d.transport == "tcp" else None,
                "raw_seq": d.seq if d.transport == "tcp" else None,
                "window": d.window if d.transport == "tcp" else None,
                "len": d.payload_len if d.transport in ("tcp", "udp") else 0,
                "frame_len": self._origlen[i],
                "stream": None if s < 0 else s,
                "direction": None if self._dir[i] == 0 else _DIRS[(self._dir[i] - 1) % 2],
                "analysis": analysis_list(bits),
                "messages": [{"conversation": sl.message.conv_id, "index": sl.message.index,
                              "direction": sl.message.direction,
                              "protocol": sl.message.protocol,
                              "start": sl.start, "end": sl.end,
                              "first": sl.first, "last": sl.last,
                              "length": sl.message.length}
                             for sl in (self.message_slices(n) if s >= 0 else [])],
            }
            if d.malformed:
                out["malformed"] = d.malformed
            return out

    # -- per conversation ----------------------------------------------------------------
    @property
    def conversations(self) -> list[Conversation]:
        with self.lock:
            return [self._conversation(cs) for cs in self._conv_order]

    def conversation(self, transport: str, id: int) -> Conversation:
        with self.lock:
            cs = self._convs.get((transport, id))
            if cs is None:
                raise KeyError(f"no {transport} conversation {id}")
            return self._conversation(cs)

    def _conversation(self, cs: _ConvState, cache: bool = True) -> Conversation:
        cached = cs.cache
        if cached is not None and cached[0] == cs.version:
            return cached[1]
        f = cs.flow
        analysis = {}
        counts = getattr(f, "analysis_counts", None)
        if callable(counts):
            counts = counts()
        if counts:
            analysis.update(counts)
        for k, v in cs.own.items():
            analysis[k] = max(analysis.get(k, 0), v)
        gaps = []
        if cs.transport == "tcp":
            for direction, r in enumerate(cs.reasm):
                gaps.extend((_DIRS[direction], o, ln) for o, ln in r.gaps)
        malformed = [f"{_DIRS[cs.m_dir[i]]} message {i} at offset {cs.m_off[i]}: {why}"
                     for i, why in sorted(cs.m_bad.items())]
        conv = Conversation(
            id=f.id, transport=f.transport,
            client=f.endpoint_text("client"), server=f.endpoint_text("server"),
            first_packet=f.first_packet, last_packet=f.last_packet,
            start_time=f.start_time, end_time=f.end_time, packets=f.packets,
            bytes_c2s=f.bytes_c2s, bytes_s2c=f.bytes_s2c,
            state=f.state(), history=f.history(), handshake=f.handshake(), teardown=f.teardown(),
            protocol=cs.protocol, messages=MessageList(self, cs, cs.message_count),
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
            cs = self._convs[conv.key if isinstance(conv, Conversation) else tuple(conv)]
            items = []
            if cs.transport == "udp":
                for direction in (0, 1):
                    for n, i in zip(cs.d_key[direction], cs.d_idx[direction]):
                        payload = self._payload_of(n) or b""
                        items.append((n, 0, FollowChunk(_DIRS[direction], n, cs.m_off[i],
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
                            _DIRS[direction], 0, c_off, b"", ln, starts)))
                        continue
                    arrival = max(arrival, pkt)
                    payload = self._payload_of(pkt) or b""
                    items.append((arrival, direction, k, FollowChunk(
                        _DIRS[direction], pkt, c_off, payload[start: start + ln], 0, starts)))
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
            cs = self._convs[conv.key if isinstance(conv, Conversation) else tuple(conv)]
            d = _DIRS.index(direction)
            if cs.transport == "udp":
                return [(0, min(bufsize, cs.m_len[i])) for i in cs.d_idx[d]]
            ch = cs.reasm[d].chunks
            out: list[tuple[int, int]] = []
            pos = 0            # next offset to read
            avail_end = 0      # readable up to here
            t_avail = None     # arrival time of the current batch
            arrival = -1.0
            for k in range(len(ch)):
                pkt, c_off, ln = ch.packet[k], ch.offset[k], ch.length[k]
                if pkt == 0:
                    break
                arrival = max(arrival, self._ts[pkt - 1])
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
