"""Per-direction TCP reassembly: sequence numbers mod 2**32, holes, overlaps, buffer caps.

One `Reassembler` per direction of a TCP connection.  Segments go in in capture order; the
in-order byte stream comes out through two callbacks:

    on_data(offset, packet, start, data)   `data` = bytes at stream `offset`, carried by
                                           `packet` at payload offset `start`
    on_gap(offset, length)                 `length` bytes at `offset` never arrived

Rules (the RFC 793 receiver, plus what an analyzer needs):
* Stream offset 0 is the byte after the SYN (ISN + 1), or, when the capture starts mid-stream,
  the first sequence number seen in that direction.  Offsets are 64-bit: each segment's seq
  is read relative to the next expected seq as a signed 32-bit distance, so wrap-around
  (ISN 0xFFFFFF00) and streams longer than 4 GiB just work.
* Out-of-order segments are held until the hole before them fills.  Held bytes are capped
  (`max_held`, and MAX_HELD_SEGMENTS segments): past the cap the hole is declared lost (a
  gap) and the flag "buffer_cap" is set.
* Retransmissions and overlaps: the first copy of a byte wins.  When a later copy differs,
  "overlap_conflict" is flagged on that packet.  Comparing with bytes already delivered needs
  `fetch(packet) -> payload bytes` (re-reading the frame: delivered bytes are not kept here).
* Gaps are reported, never zero-filled.  `finish()` turns holes still open into gaps.
* A FIN ends the stream: bytes at or beyond its sequence number are not delivered (a
  receiver ignores segment text after a FIN, RFC 793; tshark's dissectors do not get it).
* `chunks` records where every delivered byte came from (stream offset, packet, start,
  length; packet 0 = gap) in four compact arrays: that is what follow-stream and the
  overlap check read.  No bytes are kept except held out-of-order segments.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Callable

from analyzer.decode.decoded import FIN, SYN
from analyzer.transport.analysis_flags import ANALYSIS_BIT
from dissectors.arrays import LONGS, UINTS
from dissectors.arrays import append, new_empty  # the twin cimports it (setup.py)

MOD = 1 << 32
HALF = 1 << 31
DEFAULT_MAX_HELD = 4 * 1024 * 1024     # out-of-order bytes held per direction
MAX_HELD_SEGMENTS = 16384              # ... and out-of-order segments (bounds list work)

OVERLAP_CONFLICT = ANALYSIS_BIT["overlap_conflict"]
BUFFER_CAP = ANALYSIS_BIT["buffer_cap"]


def _noop_data(offset: int, packet: int, start: int, data: bytes) -> None:
    pass


def _noop_gap(offset: int, length: int) -> None:
    pass


class ChunkMap:
    """Where each in-order stream byte came from: parallel arrays, in stream order."""

    __slots__ = ("offset", "packet", "start", "length")

    def __init__(self) -> None:
        self.offset = new_empty(LONGS)
        self.packet = new_empty(UINTS)     # 0 for a gap
        self.start = new_empty(UINTS)      # offset inside the packet's transport payload
        self.length = new_empty(UINTS)

    def add(self, offset: int, packet: int, start: int, length: int) -> None:
        append(self.offset, offset)
        append(self.packet, packet)
        append(self.start, start)
        append(self.length, length)

    def __len__(self) -> int:
        return len(self.offset)

    def covering(self, begin: int, end: int) -> range:
        """Indexes of chunks overlapping stream bytes [begin, end)."""
        i = bisect_right(self.offset, begin) - 1
        if i < 0:
            i = 0
        j = bisect_left(self.offset, end)
        return range(i, j)


class Reassembler:
    """One direction of one TCP connection (see the module docstring)."""

    __slots__ = ("base", "next_off", "held_starts", "held", "held_bytes", "max_held",
                 "on_data", "on_gap", "fetch", "chunks", "gaps", "cap_hit", "delivered",
                 "fin_off")

    def __init__(self, on_data: Callable = _noop_data, on_gap: Callable = _noop_gap,
                 fetch: Callable[[int], bytes] | None = None, max_held: int = DEFAULT_MAX_HELD,
                 keep_chunks: bool = True):
        self.base: int | None = None     # sequence number of stream offset 0
        self.next_off = 0                # first stream offset not yet delivered
        self.held_starts: list[int] = [] # sorted offsets of held segments (non-overlapping)
        self.held: dict[int, tuple[int, int, bytes]] = {}  # offset -> (packet, start, data)
        self.held_bytes = 0
        self.max_held = max_held
        self.on_data = on_data
        self.on_gap = on_gap
        self.fetch = fetch
        self.chunks: ChunkMap | None = ChunkMap() if keep_chunks else None
        self.gaps: list[tuple[int, int]] = []   # (offset, length)
        self.cap_hit = False
        self.delivered = 0                      # payload bytes delivered (gaps excluded)
        self.fin_off = -1                       # stream offset of the FIN (-1: none seen)

    def deliver_nothing(self) -> None:
        """Drop what this reassembler delivers from now on (unknown protocol: nothing to cut)."""
        self.on_data, self.on_gap = _noop_data, _noop_gap

    # -- input ---------------------------------------------------------------------------
    def stream_offset(self, seq: int) -> int:
        """Stream offset of sequence number `seq` (relative to the next expected byte)."""
        expected = (self.base + self.next_off) % MOD
        delta = (seq - expected) % MOD
        if delta >= HALF:
            delta -= MOD
        return self.next_off + delta

    def segment(self, packet: int, seq: int, flags: int, data: bytes, start: int = 0) -> int:
        """Feed one segment; returns analysis bits for this packet (0, overlap_conflict, buffer_cap)."""
        if flags & SYN:
            seq = (seq + 1) % MOD          # SYN occupies one sequence number; data follows it
            if self.base is None:
                self.base = seq
        known = self.base
        if known is None:
            self.base = known = seq
        base = known                        # (a C number in the twin)
        if flags & FIN and self.fin_off < 0:
            self._fin_at(self.stream_offset(seq) + len(data))
        if not data:
            return 0
        nxt = self.next_off
        delta = (seq - base - nxt) % MOD
        if delta == 0 and not self.held_starts and self.fin_off < 0:
            # the common case: the next bytes in order, nothing held -> deliver right away
            self._in_order(nxt, packet, start, len(data))
            self.on_data(nxt, packet, start, data)
            return 0
        if delta >= HALF:
            delta -= MOD
        off = nxt + delta
        end = off + len(data)
        bits = 0
        if off < nxt:                                # retransmission / overlap with delivered
            old_end = min(end, nxt)
            if off >= 0 and self._differs_delivered(off, data[: old_end - off]):
                bits |= OVERLAP_CONFLICT
            elif off < 0 and old_end > 0 and self._differs_delivered(0, data[-off: old_end - off]):
                bits |= OVERLAP_CONFLICT
            if end <= nxt:
                return bits
            cut = nxt - off
            data, start, off = data[cut:], start + cut, nxt
        fin = self.fin_off
        if fin >= 0 and end > fin:                   # text after the FIN: not part of the stream
            if off >= fin:
                return bits
            data, end = data[: fin - off], fin
        if off == nxt:
            self._deliver(off, packet, start, data)
            self._drain()
        else:
            bits |= self._hold(off, packet, start, data)
            if self.held_bytes > self.max_held or len(self.held_starts) > MAX_HELD_SEGMENTS:
                bits |= BUFFER_CAP
                self.cap_hit = True
                while self.held_starts and (self.held_bytes > self.max_held
                                            or len(self.held_starts) > MAX_HELD_SEGMENTS):
                    self._skip_to(self.held_starts[0])
                    self._drain()
        return bits

    def take_next(self, packet: int, seq: int, flags: int, n: int) -> int:
        """segment()'s common case for a caller that hands the bytes to its sink itself (the
        engine's packet loop: on_data's target called directly): `n` > 0 bytes at `seq` that
        are the next in order, no SYN or FIN, none held, no FIN seen: recorded as segment()
        records them and their stream offset returned (what on_data would be given).  -1,
        nothing done, for any other segment: segment() takes it."""
        if flags & (SYN | FIN) or self.fin_off >= 0 or self.held_starts or n <= 0:
            return -1
        known = self.base
        if known is None:
            return -1
        base = known                        # (a C number in the twin)
        nxt = self.next_off
        if (seq - base - nxt) % MOD != 0:
            return -1
        self._in_order(nxt, packet, 0, n)
        return nxt

    def _in_order(self, nxt: int, packet: int, start: int, n: int) -> None:
        """`n` bytes delivered in order at stream offset `nxt` (nothing held)."""
        ch = self.chunks
        if ch is not None:
            append(ch.offset, nxt)
            append(ch.packet, packet)
            append(ch.start, start)
            append(ch.length, n)
        self.next_off = nxt + n
        self.delivered += n

    def truncated(self, seq: int, flags: int, captured: int, total: int) -> None:
        """The segment at `seq` carried `total` bytes but only `captured` were saved (snaplen):
        when it was delivered in order, report its missing tail as a gap right away instead
        of holding everything after it until the end."""
        if self.base is None or total <= captured:
            return
        if flags & SYN:
            seq = (seq + 1) % MOD
        off = self.stream_offset(seq)
        if self.next_off == off + captured:
            self._skip_to(off + total)
            self._drain()

    def _fin_at(self, off: int) -> None:
        """The stream ends at `off`: held bytes beyond it are let go."""
        self.fin_off = off
        starts = self.held_starts
        while starts and starts[-1] >= off:
            self.held_bytes -= len(self.held.pop(starts.pop())[2])
        if starts:
            h_off = starts[-1]
            packet, start, data = self.held[h_off]
            if h_off + len(data) > off:
                self.held[h_off] = (packet, start, data[: off - h_off])
                self.held_bytes -= h_off + len(data) - off

    def finish(self) -> None:
        """End of capture: holes still open become gaps, held data is delivered after them."""
        while self.held_starts:
            self._skip_to(self.held_starts[0])
            self._drain()

    # -- internals -----------------------------------------------------------------------
    def _deliver(self, off: int, packet: int, start: int, data: bytes) -> None:
        self._in_order(off, packet, start, len(data))
        self.on_data(off, packet, start, data)

    def _skip_to(self, off: int) -> None:
        n = off - self.next_off
        if n > 0:
            if self.chunks is not None:
                self.chunks.add(self.next_off, 0, 0, n)
            self.gaps.append((self.next_off, n))
            gap_at = self.next_off
            self.next_off = off
            self.on_gap(gap_at, n)

    def _drain(self) -> None:
        starts = self.held_starts
        while starts and starts[0] <= self.next_off:
            off = starts.pop(0)
            packet, start, data = self.held.pop(off)
            self.held_bytes -= len(data)
            end = off + len(data)
            if end <= self.next_off:
                continue
            cut = self.next_off - off
            if cut > 0:
                data, start, off = data[cut:], start + cut, self.next_off
            self._deliver(off, packet, start, data)

    def _hold(self, off: int, packet: int, start: int, data: bytes) -> int:
        """Hold [off, off+len) minus what is already held (first copy wins)."""
        end = off + len(data)
        starts = self.held_starts
        i = bisect_right(starts, off) - 1
        if i < 0:
            i = 0
        bits = 0
        pieces: list[tuple[int, int]] = []      # uncovered [a, b) ranges of the new segment
        cur = off
        while i < len(starts) and starts[i] < end:
            h_off = starts[i]
            h_data = self.held[h_off][2]
            h_end = h_off + len(h_data)
            if h_end <= cur:
                i += 1
                continue
            lo, hi = max(cur, h_off), min(end, h_end)
            if lo < hi and data[lo - off: hi - off] != h_data[lo - h_off: hi - h_off]:
                bits |= OVERLAP_CONFLICT
            if h_off > cur:
                pieces.append((cur, h_off))
            cur = max(cur, h_end)
            i += 1
        if cur < end:
            pieces.append((cur, end))
        for a, b in pieces:
            piece = data[a - off: b - off] if (a, b) != (off, end) else data
            j = bisect_left(starts, a)
            starts.insert(j, a)
            self.held[a] = (packet, start + (a - off), piece)
            self.held_bytes += b - a
        return bits

    def _differs_delivered(self, off: int, data: bytes) -> bool:
        """Do `data` at stream `off` differ from the bytes delivered there first?"""
        if self.fetch is None or self.chunks is None or not data:
            return False
        ch = self.chunks
        end = off + len(data)
        for k in ch.covering(off, end):
            c_off, c_len, pkt = ch.offset[k], ch.length[k], ch.packet[k]
            lo, hi = max(off, c_off), min(end, c_off + c_len)
            if lo >= hi or pkt == 0:
                continue
            payload = self.fetch(pkt)
            if payload is None:
                continue
            s = ch.start[k] + (lo - c_off)
            first = payload[s: s + (hi - lo)]
            if len(first) == hi - lo and first != data[lo - off: hi - off]:
                return True
        return False

    # -- reading back --------------------------------------------------------------------
    @property
    def held_count(self) -> int:
        return len(self.held_starts)

from dissectors.accelerated import accelerate  # noqa: E402 - the compiled twin, setup.py
accelerate(globals())
