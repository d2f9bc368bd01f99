"""The push-based analysis engine: one packet at a time in, conversations and messages out.

THE API BELOW IS THE CONTRACT the views (cli, tui), the lab and `verify` are written against.
Implementation status: implemented (engineer G).  Names may grow; they do not change.

    from analyzer.engine import Engine, analyze_file

    eng = analyze_file("x.pcap", decode_as={9999: "lenmsg"})   # reads, feeds, finishes
    # or, push-based (live capture / TUI worker):
    eng = Engine(decode_as=None, sidecar=None)
    for rec in source: eng.feed(rec)        # rec: analyzer.sources.record.Record
    eng.finish()                            # end of input: flush codecs (EOF), close gaps

Per packet (numbers are 1-based, file order, like tshark's frame.number):
    eng.packet_count -> int                 packets fed so far (loopback twins included:
                                            they keep their number, flagged loopback_duplicate)
    eng.row(n) -> Row                       one packet-list row, cheap (index + one decode)
    eng.packet_json(n) -> dict              the `wirelab packets --json` object of packet n
    eng.frame_bytes(n) -> bytes             the captured bytes of packet n
    eng.decoded(n) -> analyzer.model.Decoded
    eng.analysis_bits(n) -> int             analyzer.model.ANALYSIS_BIT flags of packet n
    eng.stream_of(n) -> int | None          conversation id of packet n (None: not TCP/UDP)
    eng.message_slices(n) -> list[MessageSlice]   the (parts of) messages packet n carries

Per conversation (ids 0-based in order of first packet, tcp and udp numbered separately
like tshark's tcp.stream / udp.stream; `Conversation.key` = (transport, id)):
    eng.conversations -> list[Conversation]         in order of first packet
    eng.conversation(transport, id) -> Conversation
    eng.follow(conv) -> list[FollowChunk]           both directions interleaved in capture order
    eng.naive_reads(conv, direction, bufsize=1024) -> list[tuple[int, int]]
                                                    (offset, length) of what recv(bufsize)
                                                    would have returned, given the segments
    eng.summary_json() -> dict                      the `wirelab summary --json` object
    eng.warnings -> list[str]                       e.g. "truncated record at offset 1234"

Additions (implementation):
    Engine(decode_as, sidecar, source_path, reader=None, keep_frames=None, max_held=None)
        reader: the capture source (CaptureSource.read_frame) frames are re-read from;
        keep_frames: keep every frame's bytes in memory (`eng.frame_store`), the default when
        there is no file (live capture), or automatically once a record has offset -1;
        max_held: out-of-order bytes held per direction (reassembly cap, default 4 MiB).
    eng.index -> analyzer.index.PacketIndex        the per-packet columns (stream, direction,
                                                    tcp_flags, analysis, payload_len, ...)
    eng.lock -> RLock                               every public method takes it: one feeding
                                                    thread and any number of reader threads
    eng.direction_of(n) -> "c2s" | "s2c" | None
    eng.conversation_of(n) -> Conversation | None
    eng.relative_seq(n) -> (seq, ack)               tshark-style relative numbers
    eng.message_bytes(conv, message, limit) -> bytes
    eng.conversation_json(conv, summaries=False) / eng.write_summary_json(fp)
    Conversation.messages is a lazy read-only sequence (MessageList): len() is free, Message
    objects are built on access and their summary/fields decoded from the frames on first use.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class Row(NamedTuple):
    number: int
    time: float          # seconds since the first packet
    src: str             # "127.0.0.1" (or MAC / "?" when no IP)
    dst: str
    protocol: str        # "TCP", "UDP", "LENMSG", "CHAT", ... (highest layer we know)
    length: int          # frame length on the wire
    info: str            # "40000 → 9001 [SYN] Seq=0 Win=65495 Len=0", "lenmsg len=5 ..."
    tags: frozenset      # subset of {"handshake","teardown","rst","coalesced","split",
                         #  "retransmission","out_of_order","lost_segment","dup_ack",
                         #  "malformed","loopback_duplicate"} used for row colours


@dataclass(slots=True)
class Message:
    conv_id: int
    index: int               # 0-based within its conversation (both directions, stream order)
    direction: str           # "c2s" | "s2c"
    offset: int              # stream offset of its first byte in that direction
    length: int              # bytes on the wire (header included)
    packets: list[int]       # packet numbers that carried its bytes, in stream order
    protocol: str            # codec name ("lenmsg", "chat", ...)
    summary: str = ""        # one line for views: "len=5 'hello'"
    malformed: str | None = None
    fields: dict = field(default_factory=dict)   # decoded fields for the detail tree

    @property
    def split(self) -> bool:
        return len(self.packets) > 1


class MessageSlice(NamedTuple):
    message: Message
    start: int       # offset inside the packet's TCP/UDP payload where this part starts
    end: int         # ... and ends (exclusive)
    first: bool      # the message starts in this packet
    last: bool       # the message ends in this packet


class FollowChunk(NamedTuple):
    direction: str           # "c2s" | "s2c"
    packet: int              # packet number that delivered these bytes (0 for a gap)
    offset: int              # stream offset in that direction
    data: bytes              # the bytes (b"" for a gap)
    gap: int                 # >0: this many bytes are missing here ("[N bytes missing]")
    message_starts: tuple    # offsets (relative to `offset`) where a message begins


@dataclass(slots=True)
class Conversation:
    id: int
    transport: str                       # "tcp" | "udp"
    client: str                          # "ip:port" (IPv6 as "[::1]:port")
    server: str
    first_packet: int = 0
    last_packet: int = 0
    start_time: float = 0.0
    end_time: float = 0.0
    packets: int = 0
    bytes_c2s: int = 0                   # payload bytes
    bytes_s2c: int = 0
    state: str = "OTH"                   # Zeek conn_state
    history: str = ""                    # Zeek history letters
    handshake: dict = field(default_factory=lambda: {"complete": False, "frames": [], "rtt_ms": None})
    teardown: dict = field(default_factory=lambda: {"kind": "none", "initiator": None, "frames": []})
    protocol: str | None = None          # codec name, or None
    messages: list[Message] = field(default_factory=list)
    coalesced_packets: list[int] = field(default_factory=list)
    analysis: dict = field(default_factory=dict)     # analysis name -> count of packets
    malformed: list[str] = field(default_factory=list)
    gaps: list[tuple[str, int, int]] = field(default_factory=list)  # (direction, offset, length)

    @property
    def key(self) -> tuple[str, int]:
        return (self.transport, self.id)

    @property
    def split_messages(self) -> int:
        return sum(1 for m in self.messages if len(m.packets) > 1)


# ==========================================================================================
# Implementation (engineer G).  Everything below may grow; the names above do not change.
#
# Storage: per-packet facts live in compact arrays (41 bytes a packet, no per-packet
# objects: analyzer.index.PacketIndex + one column); a packet's details are re-decoded from
# its frame bytes when a view asks.  Messages: ~35 bytes each in per-conversation arrays.  Frame
# bytes come from the capture file (Record.offset, re-read on demand) or, for live sources
# (offset < 0, or keep_frames=True), from an in-memory list (`frame_store`).
#
# Thread-safety: one writer (the thread calling feed/finish) and any number of readers (the
# UI thread): every public method takes `self.lock` (an RLock), so a reader sees a packet
# either wholly fed or not at all.  Messages appear when complete.
# ==========================================================================================
import gc
import importlib
import mmap
import os
import threading
from array import array
from functools import partial

import analyzer.messages as _messages
from dissectors.base import CLIENT, SERVER
from analyzer.decode import decode_frame
from analyzer.flows import FlowTable
from analyzer.index import PacketIndex
from analyzer.model import SYN, analysis_list
from analyzer.reassembly import Reassembler, _noop_data, _noop_gap

# The implementation is split by responsibility; these parts import the contract dataclasses
# above, so they are imported here, after them (import the public names from analyzer.engine):
#   analyzer.engine_common     constants and small text helpers
#   analyzer.conv_state_store  per-conversation state (_ConvState), lazy Conversation.messages
#   analyzer.engine_views      EngineViews mixin: per-packet accessors, rows/Info, packet_json,
#                              message slices, conversations, follow, naive reads
#   analyzer.engine_json       EngineJSON mixin: summary JSON, message_json/conversation_json
#   this module                Engine feeding core (feed/_feed/finish, protocol choice,
#                              messages), open_source, analyze_file
from analyzer.engine_common import (  # noqa: E402,F401  (re-exported: old names keep working)
    PROBE_LIMIT, _COOKED, _DIRS, _LOOPBACK_DUP, _MALFORMED, _OWN_MASK, _SIZE_LIMITED, _TAG_OF,
    _TCP_FLAG_NAMES, _ep, _import_optional, _options_text, tcp_flag_names)
from analyzer.conv_state_store import (  # noqa: E402,F401
    MessageList, _ConvState, _FIELDS, _LazyMessage, _OffsetsView, _SUMMARY)
from analyzer.engine_views import EngineViews  # noqa: E402
from analyzer.engine_json import EngineJSON, conversation_json, message_json  # noqa: E402,F401


class Engine(EngineViews, EngineJSON):
    """Push-based analysis engine (see the module docstring for the API)."""

    def __init__(self, decode_as: dict[int, str] | None = None, sidecar=None,
                 source_path: str | None = None, reader=None, keep_frames: bool | None = None,
                 max_held: int | None = None, summary_only: bool = False):
        """decode_as: {port: "proto[:variant]"}; sidecar: list of analyzer.appio.AppIO (or
        None); reader: object with read_frame(offset, length) -> bytes for file sources;
        keep_frames: keep every frame's bytes in memory (default: when there is neither a
        reader nor a source_path, i.e. live capture); summary_only: do not fill the
        per-packet columns only the packet views read (TCP flags, payload length, stream,
        direction): conversations and messages stay complete, row()/packet_json() do not."""
        self.lock = threading.RLock()
        self.decode_as = self._parse_decode_as(decode_as or {})
        self.source_path = source_path
        self.reader = reader
        self._file = None
        self.keep_frames = (reader is None and source_path is None) if keep_frames is None else keep_frames
        self.frame_store: list[bytes] = []
        self.max_held = max_held
        self.warnings: list[str] = []
        self.flows = FlowTable()
        try:
            self._registry = importlib.import_module("dissectors.registry")
        except ImportError:  # pragma: no cover - the registry is part of the package
            self._registry = None
        # per-packet arrays
        # per-packet columns: analyzer.index.PacketIndex (shared with views) + one of ours
        self.index = idx = PacketIndex()
        self._ts, self._off, self._caplen = idx.ts, idx.offset, idx.caplen
        self._origlen, self._link, self._stream = idx.origlen, idx.linktype, idx.stream
        self._bits = idx.analysis
        self._dir = array("b")        # 0 none, 1 tcp c2s, 2 tcp s2c, 3 udp c2s, 4 udp s2c
        self._appends = (idx.ts.append, idx.offset.append, idx.caplen.append,
                         idx.origlen.append, idx.linktype.append, idx.tcp_flags.append,
                         idx.payload_len.append, idx.stream.append, self._dir.append,
                         idx.analysis.append, idx.direction.append)
        if summary_only:            # the view-only columns' appends become no-ops
            a = self._appends
            self._appends = (a[0], a[1], a[2], a[3], a[4], id, id, id, id, a[9], id)
        self._first_ts: float | None = None
        self._prev_data: bytes | None = None
        self._prev_ts = 0.0
        self._convs: dict[tuple[str, int], _ConvState] = {}
        self._conv_order: list[_ConvState] = []
        self._flow_state: dict = {}                    # Flow (hashed by identity) -> state
        self._flows_add = self.flows.add
        self._sidecar = self._index_sidecar(sidecar)
        self._sidecar_seen: dict = {}
        self.finished = False
        self._describe_cache: dict = {}

    # -- configuration -------------------------------------------------------------------
    def _parse_decode_as(self, decode_as: dict) -> dict[int, tuple[str, dict]]:
        out = {}
        for port, text in decode_as.items():
            if isinstance(text, tuple):
                out[int(port)] = text
                continue
            name, _, variant = str(text).partition(":")
            out[int(port)] = (name.strip().lower(), {"variant": variant.strip().lower()} if variant else {})
        return out

    @staticmethod
    def _index_sidecar(records) -> dict:
        """(transport, client, server) -> list of sessions, each {dir: [(offset, length)]}."""
        if not records:
            return {}
        out: dict = {}
        current: dict = {}
        for r in records:
            if r.op != "send":
                continue
            key = (r.transport, r.client, r.server)
            sess = current.get(key)
            if sess is None or (r.offset == 0 and sess["max"].get(r.dir, -1) >= 0
                                and sess["max"].get(r.dir, 0) > 0):
                sess = {"c2s": [], "s2c": [], "max": {}}
                current[key] = sess
                out.setdefault(key, []).append(sess)
            sess[r.dir].append((r.offset, r.length))
            sess["max"][r.dir] = max(sess["max"].get(r.dir, 0), r.offset + r.length)
        return out

    # -- feeding -------------------------------------------------------------------------
    def feed(self, rec) -> int:
        """Add one Record; returns its packet number."""
        with self.lock:
            return self._feed(rec)

    def _feed(self, rec) -> int:
        ts, linktype, data, origlen, offset = rec
        (a_ts, a_off, a_cap, a_orig, a_link, a_flags, a_plen, a_stream, a_dir, a_bits,
         a_direction) = self._appends
        n = len(self._ts) + 1
        if self._first_ts is None:
            self._first_ts = ts
        a_ts(ts)
        a_off(offset)
        a_cap(len(data))
        a_orig(origlen)
        a_link(linktype)
        if self.keep_frames or offset < 0:
            self.frame_store.append(data)
            if not self.keep_frames:
                self.keep_frames = True
                # earlier packets came from a file; keep their slots aligned
                self.frame_store[:0] = [None] * (n - len(self.frame_store))
        prev = self._prev_data
        prev_ts = self._prev_ts
        self._prev_data = data
        self._prev_ts = ts
        if prev is not None and 0 <= ts - prev_ts <= 0.001 and (
                data == prev or (linktype in _COOKED and len(data) == len(prev)
                                 and data[_COOKED[linktype]:] == prev[_COOKED[linktype]:])):
            a_stream(-1)
            a_dir(0)
            a_bits(_LOOPBACK_DUP)
            a_direction(-1)
            a_flags(0)
            a_plen(0)
            self._prev_data = None          # a third copy is a real retransmission
            return n
        d = decode_frame(linktype, data, origlen)
        flags = d.flags
        a_flags(flags)
        plen_hdr = d.payload_len
        a_plen(plen_hdr if plen_hdr > 0 else 0)
        bits = _MALFORMED if d.malformed else 0
        tr = d.transport
        verdict = None
        if (tr == "tcp" or tr == "udp") and d.payload_offset >= 0:
            verdict = self._flows_add(n, ts, d)
        if verdict is None:
            a_stream(-1)
            a_dir(0)
            a_bits(bits)
            a_direction(-1)
            return n
        flow, direction, fbits, _new = verdict
        if fbits:
            bits |= fbits
        cs = self._flow_state.get(flow)
        if cs is None:
            cs = self._new_conv(flow)
        plen = d.captured_payload_len
        if tr == "tcp":
            r = cs.reasm[direction]
            if plen:
                po = d.payload_offset
                if plen < plen_hdr:
                    bits |= _SIZE_LIMITED
                    bits |= r.segment(n, d.seq, flags, data[po: po + plen])
                    r.truncated(d.seq, flags, plen, plen_hdr)
                else:
                    bits |= r.segment(n, d.seq, flags, data[po: po + plen])
            elif r.base is None or flags & SYN or plen_hdr:   # bare ACK: nothing to do
                r.segment(n, d.seq, flags, b"")
                if plen_hdr > 0:
                    bits |= _SIZE_LIMITED
                    r.truncated(d.seq, flags, 0, plen_hdr)
            a_dir(1 + direction)
        else:
            if plen < plen_hdr:
                bits |= _SIZE_LIMITED
            po = d.payload_offset
            self._udp_datagram(cs, direction, n, data[po: po + plen])
            a_dir(3 + direction)
        a_stream(flow.id)
        a_bits(bits)
        a_direction(direction)
        own = bits & _OWN_MASK
        if own:
            for a in analysis_list(own):
                cs.own[a] = cs.own.get(a, 0) + 1
        cs.version += 1
        return n

    def forget_previous_frame(self) -> None:
        """The next frame fed does not directly follow the last one in the capture (a part
        of analyzer.parallel skipped packets): it cannot be the last one's loopback twin."""
        self._prev_data = None

    def feed_many(self, records) -> int:
        with self.lock:
            k = 0
            for rec in records:
                self._feed(rec)
                k += 1
            return k

    def finish(self) -> None:
        """End of input: close reassembly holes, flush codecs (EOF)."""
        with self.lock:
            if self.finished:
                return
            self.finished = True
            fin = getattr(self.flows, "finish", None)
            if fin is not None:
                fin()
            for cs in self._conv_order:
                if cs.transport != "tcp":
                    continue
                for r in cs.reasm:
                    r.finish()
                if not cs.decided:
                    self._decide_by_probe(cs, final=True)
                for m in cs.mappers:
                    if m is not None:
                        m.finish()

    # -- conversations -------------------------------------------------------------------
    def _new_conv(self, flow) -> _ConvState:
        cs = _ConvState(flow)
        self._flow_state[flow] = cs
        self._convs[(flow.transport, flow.id)] = cs
        self._conv_order.append(cs)
        if flow.transport == "tcp":
            for direction in (0, 1):
                cs.reasm[direction] = self._reassembler(cs, direction)
        spec, options = self._spec_for_ports(flow)
        if spec is not None:
            self._set_protocol(cs, spec, options)
        return cs

    def _reassembler(self, cs: _ConvState, direction: int) -> Reassembler:
        def on_data(off, packet, start, data, cs=cs, direction=direction):
            if cs.decided:
                m = cs.mappers[direction]
                if m is not None:
                    m.data(off, packet, start, data)
            else:
                cs.probe_pending.append((direction, off, packet, start, data))
                buf = cs.probe_buf[direction]
                if len(buf) < PROBE_LIMIT:
                    buf += data[: PROBE_LIMIT - len(buf)]
                self._decide_by_probe(cs)

        def on_gap(off, length, cs=cs, direction=direction):
            if cs.decided:
                m = cs.mappers[direction]
                if m is not None:
                    m.gap(off, length)
            else:
                cs.probe_pending.append((direction, off, 0, -1, length))

        kw = {} if self.max_held is None else {"max_held": self.max_held}
        return Reassembler(on_data, on_gap, fetch=self._payload_of, **kw)

    def _spec_for_ports(self, flow):
        reg = self._registry
        if reg is None:
            return None, {}
        for port in (flow.server[1], flow.client[1]):
            if port in self.decode_as:
                name, options = self.decode_as[port]
                try:
                    return reg.get(name), dict(options)
                except KeyError:
                    return None, {}
        for port in (flow.server[1], flow.client[1]):
            spec = reg.by_port(flow.transport, port)
            if spec is not None:
                return spec, {}
        return None, {}

    def _decide_by_probe(self, cs: _ConvState, final: bool = False) -> None:
        c2s, s2c = cs.probe_buf
        found = None
        if self._registry is not None and (c2s or s2c):
            found = self._registry.detect(cs.transport, bytes(c2s), bytes(s2c))
        if found is None and not final and len(c2s) < PROBE_LIMIT and len(s2c) < PROBE_LIMIT:
            return
        if found is None:
            cs.decided = True
            cs.probe_pending = []
            cs.probe_buf = [bytearray(), bytearray()]
            for r in cs.reasm:                  # unknown protocol: nothing to cut
                if r is not None:
                    r.on_data, r.on_gap = _noop_data, _noop_gap
            return
        self._set_protocol(cs, found[0], found[1])

    def _set_protocol(self, cs: _ConvState, spec, options: dict) -> None:
        cs.spec, cs.options = spec, options
        cs.protocol = spec.name
        cs.decided = True
        cs.version += 1
        if cs.transport == "tcp":
            sessions = self._sidecar.get(("tcp", cs.flow.endpoint_text("client"),
                                          cs.flow.endpoint_text("server")))
            session = None
            if sessions and not spec.framed:
                k = self._sidecar_seen.get(id(sessions), 0)
                if k < len(sessions):
                    session = sessions[k]
                    self._sidecar_seen[id(sessions)] = k + 1
            for direction in (0, 1):
                emit = self._emitter(cs, direction)
                if session is not None:
                    cs.mappers[direction] = _messages.MessageMapper(
                        emit, boundaries=session[_DIRS[direction]])
                else:
                    cs.mappers[direction] = _messages.MessageMapper(
                        emit, self._codec_factory(cs, direction), resync=not spec.framed)
            for direction in (0, 1):            # from now on the reassembler feeds the mapper
                r, m = cs.reasm[direction], cs.mappers[direction]
                r.on_data, r.on_gap = m.data, m.gap
            pending, cs.probe_pending = cs.probe_pending, []
            cs.probe_buf = [bytearray(), bytearray()]
            for direction, off, packet, start, data in pending:
                m = cs.mappers[direction]
                if start < 0:
                    m.gap(off, data)
                else:
                    m.data(off, packet, start, data)

    @staticmethod
    def _codec_factory(cs: _ConvState, direction: int):
        spec, options = cs.spec, cs.options
        role = SERVER if direction == 0 else CLIENT   # c2s bytes are what a server receives

        def factory():
            return spec.connection(role, **options)
        return factory

    @staticmethod
    def _emitter(cs: _ConvState, direction: int):
        return partial(cs.add_message, direction)

    def _udp_datagram(self, cs: _ConvState, direction: int, n: int, payload: bytes) -> None:
        if not cs.decided:
            found = None
            if self._registry is not None and payload:
                found = self._registry.detect("udp", payload if direction == 0 else b"",
                                              payload if direction == 1 else b"")
            if found is not None:
                cs.spec, cs.options, cs.protocol = found[0], found[1], found[0].name
            cs.decided = True
        malformed = None
        if cs.spec is not None:
            _s, _f, malformed = _messages.describe(self._codec_factory(cs, direction)(), payload)
        start = cs.udp_bytes[direction]
        cs.udp_bytes[direction] = start + len(payload)
        cs.add_message(direction, start, start + len(payload), (n,), malformed)
        cs.d_key[direction].append(n)                  # UDP: look messages up by packet number

    # -- messages, materialised on demand --------------------------------------------------
    def _message(self, cs: _ConvState, i: int) -> Message:
        m = _LazyMessage.__new__(_LazyMessage)
        m.conv_id = cs.id
        m.index = i
        m.direction = _DIRS[cs.m_dir[i]]
        m.offset = cs.m_off[i]
        m.length = cs.m_len[i]
        m.packets = cs.packets_of(i)
        m.protocol = cs.protocol or "data"
        m.malformed = cs.m_bad.get(i)
        m._engine, m._cs, m._described = self, cs, False
        return m

    def message_bytes(self, cs_or_conv, m: Message, limit: int = 1 << 20) -> bytes:
        """The bytes of message `m` (at most `limit`), re-read from its packets."""
        with self.lock:
            cs = cs_or_conv if isinstance(cs_or_conv, _ConvState) else self._convs[cs_or_conv.key]
            return self._stream_bytes(cs, _DIRS.index(m.direction), m.offset,
                                      m.offset + min(m.length, limit), m.packets)

    def _stream_bytes(self, cs: _ConvState, direction: int, begin: int, end: int,
                      packets=None) -> bytes:
        if cs.transport == "udp":
            return (self._payload_of(packets[0]) or b"")[: end - begin] if packets else b""
        ch = cs.reasm[direction].chunks
        out = bytearray()
        for k in ch.covering(begin, end):
            c_off, pkt, start, ln = ch.offset[k], ch.packet[k], ch.start[k], ch.length[k]
            lo, hi = max(begin, c_off), min(end, c_off + ln)
            if lo >= hi or pkt == 0:
                continue
            payload = self._payload_of(pkt) or b""
            s = start + lo - c_off
            out += payload[s: s + hi - lo]
        return bytes(out)

    def _describe(self, cs: _ConvState, m: Message) -> tuple[str, dict]:
        """Summary and fields of one message (cached: a view asks again and again)."""
        key = (cs.transport, cs.id, m.index)
        got = self._describe_cache.get(key)
        if got is None:
            got = self._describe_uncached(cs, m)
            if len(self._describe_cache) >= 4096:
                self._describe_cache.pop(next(iter(self._describe_cache)))
            self._describe_cache[key] = got
        return got[0], dict(got[1])

    def _describe_uncached(self, cs: _ConvState, m: Message) -> tuple[str, dict]:
        """Summary and fields of one message, decoded again from its bytes."""
        if m.malformed:
            return f"malformed: {m.malformed}", {}
        direction = _DIRS.index(m.direction)
        spec = cs.spec
        if spec is None or (cs.transport == "tcp" and cs.mappers[direction] is not None
                            and cs.mappers[direction].boundaries is not None):
            data = self._stream_bytes(cs, direction, m.offset, m.offset + min(m.length, 4096),
                                      m.packets)
            return f"len={m.length} " + _messages.preview(data), {}
        codec = self._codec_factory(cs, direction)()
        if spec.name == "auth" and cs.transport == "tcp" and m.offset <= (1 << 20):
            # stateful (challenge/answer, then chat): replay the direction from its start
            data = self._stream_bytes(cs, direction, 0, m.offset + m.length)
            summary, fields, _err = _messages.describe(codec, data, skip=m.offset)
            return summary, fields
        data = self._stream_bytes(cs, direction, m.offset, m.offset + min(m.length, 1 << 20),
                                  m.packets)
        summary, fields, _err = _messages.describe(codec, data)
        return summary, fields

    def close(self) -> None:
        with self.lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def open_source(path: str):
    """The capture reader for `path` (analyzer.sources.open if present, else plain pcap)."""
    opener = _import_optional("analyzer.sources.open")
    if opener is not None:
        return opener.open_capture(path)
    from analyzer.sources.pcapfile import read_pcap
    from analyzer.errors import CaptureFormatError
    if not os.path.exists(path):
        raise CaptureFormatError(f"{path}: no such file")
    if os.path.isdir(path):
        raise CaptureFormatError(f"{path}: is a directory")
    return read_pcap(path)


def _drop_read_pages(buf, upto: int, dropped: int) -> int:
    """Tell the kernel the mapped file pages already read are not needed any more, so a
    big capture does not sit in our resident memory (pages re-fault from the page cache
    if a view reads a frame again).  Returns the new high-water mark."""
    if not isinstance(buf, mmap.mmap) or not hasattr(buf, "madvise") or upto <= 0:
        return dropped
    end = (upto - (1 << 20)) & ~(mmap.PAGESIZE - 1)      # keep the last MiB mapped
    if end <= dropped:
        return dropped
    try:
        buf.madvise(mmap.MADV_DONTNEED, dropped, end - dropped)
    except (OSError, ValueError):
        return dropped
    return end


def analyze_file(path: str, decode_as: dict[int, str] | None = None, progress=None,
                 limit: int | None = None, sidecar="auto") -> Engine:
    """Read `path` whole, feed every packet, finish.  progress(done, total) is called now
    and then (done/total in bytes when the source tells, else packets and None)."""
    from analyzer import appio
    src = open_source(path)
    records = appio.load_beside(path) if sidecar == "auto" else sidecar
    reader = src if hasattr(src, "read_frame") else None
    eng = Engine(decode_as=decode_as, sidecar=records, source_path=path, reader=reader)
    total = getattr(src, "size", None)
    feed = eng._feed
    buf = getattr(src, "buffer", None)
    # the bulk loop makes no reference cycles worth collecting: the cyclic GC would only
    # rescan the growing heap again and again (5-10 % of the time on big captures)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        _feed_all(eng, src, feed, progress, total, buf, limit)
    finally:
        if gc_was_enabled:
            gc.enable()
    eng.warnings.extend(getattr(src, "warnings", []) or [])
    eng.finish()
    if progress is not None:
        progress(total if total is not None else eng.packet_count, total)
    return eng


def _feed_all(eng, src, feed, progress, total, buf, limit) -> None:
    k = 0
    dropped = 0
    with eng.lock:
        for rec in src:
            if limit is not None and k >= limit:
                break
            feed(rec)
            k += 1
            if not k & 0x3FFF:
                if progress is not None:
                    progress(getattr(src, "progress", k), total)
                dropped = _drop_read_pages(buf, rec.offset, dropped)
