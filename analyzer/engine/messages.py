"""Messages as views see them: built on demand from a conversation's compact arrays, their
bytes read again from the frames, their summary and fields decoded again by the codec (with
a small cache), and the slices of messages each packet carries."""
from __future__ import annotations

from bisect import bisect_left, bisect_right

from analyzer.decode.decoded import SYN
from analyzer.engine.constants import DIRS
from analyzer.engine.conv_state import ConvState
from analyzer.engine.core import EngineCore
from analyzer.engine.message_cutting import describe, preview
from analyzer.engine.protocol_choice import codec_factory
from analyzer.engine.types import Conversation, Message, MessageSlice

_DESCRIBE_CACHE = 4096      # described messages kept (a view asks for the same ones again)


class EngineMessages(EngineCore):
    """The engine core plus message access (see the module docstring)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._describe_cache: dict = {}

    def state(self, conv) -> ConvState:
        """The ConvState of a Conversation, a (transport, id) key, or a ConvState."""
        if isinstance(conv, ConvState):
            return conv
        return self.state_by_key[conv.key if isinstance(conv, Conversation) else tuple(conv)]

    def message(self, cs: ConvState, i: int) -> Message:
        """Message `i` of a conversation (summary and fields decoded on first use)."""
        return Message(cs.id, i, DIRS[cs.m_dir[i]], cs.m_off[i], cs.m_len[i],
                       lambda: cs.packets_of(i), cs.protocol or "data",
                       malformed=cs.m_bad.get(i), describe=lambda m: self._describe(cs, m),
                       packet_count=cs.packet_count_of(i))

    def message_bytes(self, conv, m: Message, limit: int = 1 << 20) -> bytes:
        """The bytes of message `m` (at most `limit`), read again from its packets."""
        with self.lock:
            cs = self.state(conv)
            return self.stream_bytes(cs, DIRS.index(m.direction), m.offset,
                                     m.offset + min(m.length, limit), self._udp_packet(cs, m))

    @staticmethod
    def _udp_packet(cs: ConvState, m: Message) -> int:
        """The packet of a UDP message (0 for TCP, whose bytes come from the chunk map)."""
        return m.packets[0] if cs.transport == "udp" and m.packet_count else 0

    def stream_bytes(self, cs: ConvState, direction: int, begin: int, end: int,
                     udp_packet: int = 0) -> bytes:
        """Stream bytes [begin, end) of one direction, read again from the frames (UDP: the
        payload of `udp_packet`)."""
        if cs.transport == "udp":
            return (self.payload_of(udp_packet) or b"")[: end - begin] if udp_packet else b""
        ch = cs.reasm[direction].chunks
        out = bytearray()
        for k in ch.covering(begin, end):
            c_off, pkt, start, ln = ch.offset[k], ch.packet[k], ch.start[k], ch.length[k]
            lo, hi = max(begin, c_off), min(end, c_off + ln)
            if lo >= hi or pkt == 0:
                continue
            payload = self.payload_of(pkt) or b""
            s = start + lo - c_off
            out += payload[s: s + hi - lo]
        return bytes(out)

    def _describe(self, cs: ConvState, m: Message) -> tuple[str, dict]:
        key = (cs.transport, cs.id, m.index)
        got = self._describe_cache.get(key)
        if got is None:
            got = self._describe_uncached(cs, m)
            if len(self._describe_cache) >= _DESCRIBE_CACHE:
                self._describe_cache.pop(next(iter(self._describe_cache)))
            self._describe_cache[key] = got
        return got[0], dict(got[1])

    def _describe_uncached(self, cs: ConvState, m: Message) -> tuple[str, dict]:
        if m.malformed:
            return f"malformed: {m.malformed}", {}
        direction = DIRS.index(m.direction)
        spec = cs.spec
        if spec is None or (cs.transport == "tcp" and cs.mappers[direction] is not None
                            and cs.mappers[direction].boundaries is not None):
            data = self.stream_bytes(cs, direction, m.offset, m.offset + min(m.length, 4096),
                                     self._udp_packet(cs, m))
            return f"len={m.length} " + preview(data), {}
        codec = codec_factory(spec, cs.options, direction)()
        if spec.name == "auth" and cs.transport == "tcp" and m.offset <= (1 << 20):
            # stateful (challenge/answer, then chat): replay the direction from its start
            data = self.stream_bytes(cs, direction, 0, m.offset + m.length)
            summary, fields, _err = describe(codec, data, skip=m.offset)
            return summary, fields
        data = self.stream_bytes(cs, direction, m.offset, m.offset + min(m.length, 1 << 20),
                                 self._udp_packet(cs, m))
        summary, fields, _err = describe(codec, data)
        return summary, fields

    # -- per packet ----------------------------------------------------------------------
    def state_of_packet(self, n: int) -> ConvState | None:
        """The ConvState packet n belongs to (None: not TCP/UDP, or a loopback twin)."""
        i = self.check_number(n)
        s, kind = self.index.stream[i], self.flow_kind[i]
        if s < 0:
            return None
        return self.state_by_key.get(("tcp" if kind <= 2 else "udp", s))

    def message_slices(self, n: int, decoded=None) -> list[MessageSlice]:
        """The (parts of) messages packet n carries, in payload order."""
        with self.lock:
            cs = self.state_of_packet(n)
            if cs is None:
                return []
            direction = (self.flow_kind[n - 1] - 1) % 2
            keys, idxs = cs.dir_offsets(direction), cs.d_idx[direction]
            if cs.transport == "udp":
                j = bisect_left(keys, n)
                if j < len(keys) and keys[j] == n:
                    m = self.message(cs, idxs[j])
                    return [MessageSlice(m, 0, m.length, True, True)]
                return []
            r = cs.reasm[direction]
            ch = r.chunks
            nk = len(keys)
            if ch is None or not len(ch) or r.base is None or not nk:
                return []
            d = decoded if decoded is not None else self.decoded(n)
            seq = d.seq + 1 if d.flags & SYN else d.seq
            plen = d.captured_payload_len
            if plen <= 0:
                return []
            off = stream_offset_of_seq(r, seq)
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
                while j < nk and keys[j] < c_end:
                    i = idxs[j]
                    m_off, ln = keys[j], m_len[i]
                    m_end = m_off + ln
                    if m_end > c_off or (ln == 0 and m_off >= c_off):
                        lo, hi = max(m_off, c_off), min(m_end, c_end)
                        out.append(MessageSlice(self.message(cs, i), c_start + lo - c_off,
                                                c_start + hi - c_off, m_off >= c_off,
                                                m_end <= c_end))
                    j += 1
            return out


def stream_offset_of_seq(r, seq: int) -> int:
    """The stream offset of sequence number `seq` in a reassembled direction."""
    delta = (seq - r.base) % (1 << 32)
    # the stream may be longer than 4 GiB: pick the candidate nearest to what was seen
    if r.next_off > (1 << 32):
        k = (r.next_off - delta) // (1 << 32)
        return delta + k * (1 << 32)
    return delta
