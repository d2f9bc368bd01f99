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
import json
import mmap
import os
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from functools import partial

import analyzer.messages as _messages
from dissectors.base import CLIENT, SERVER
from analyzer.decode import decode_frame
from analyzer.flows import FlowTable
from analyzer.index import PacketIndex
from analyzer.model import (ACK, ANALYSIS_BIT, FIN, PSH, RST, SYN, analysis_list, flags_text)
from analyzer.reassembly import Reassembler, _noop_data, _noop_gap

_LOOPBACK_DUP = ANALYSIS_BIT["loopback_duplicate"]
_SIZE_LIMITED = ANALYSIS_BIT["size_limited"]
_MALFORMED = ANALYSIS_BIT["malformed"]
_OWN_MASK = ANALYSIS_BIT["overlap_conflict"] | ANALYSIS_BIT["buffer_cap"] | _SIZE_LIMITED
_DIRS = ("c2s", "s2c")
_TCP_FLAG_NAMES = ((FIN, "FIN"), (SYN, "SYN"), (RST, "RST"), (PSH, "PSH"), (ACK, "ACK"),
                   (0x20, "URG"), (0x40, "ECE"), (0x80, "CWR"))
_TAG_OF = {"retransmission": "retransmission", "fast_retransmission": "retransmission",
           "spurious_retransmission": "retransmission", "out_of_order": "out_of_order",
           "lost_segment": "lost_segment", "duplicate_ack": "dup_ack", "malformed": "malformed",
           "loopback_duplicate": "loopback_duplicate"}
# Linux cooked captures mark the outgoing/incoming copy of a lo packet in the link header:
# compare what follows it (linktype -> header length)
_COOKED = {113: 16, 276: 20}
PROBE_LIMIT = 1024          # bytes per direction a heuristic probe may wait for


def _import_optional(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise


def _ep(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _options_text(opts) -> str:
    """tshark's Info suffix for TCP options: ' MSS=65495 SACK_PERM TSval=1 TSecr=0 WS=1024'."""
    if not opts:
        return ""
    out = []
    if "mss" in opts:
        out.append(f"MSS={opts['mss']}")
    if opts.get("sack_perm"):
        out.append("SACK_PERM")
    for left, right in opts.get("sack") or ():
        out.append(f"SLE={left} SRE={right}")
    ts = opts.get("ts")
    if ts:
        out.append(f"TSval={ts[0]} TSecr={ts[1]}")
    if opts.get("wscale") is not None:
        out.append(f"WS={1 << min(int(opts['wscale']), 14)}")
    return (" " + " ".join(out)) if out else ""


def tcp_flag_names(flags: int) -> str:
    return ", ".join(name for bit, name in _TCP_FLAG_NAMES if flags & bit)


# --- per-conversation analysis state ------------------------------------------------------
class _ConvState:
    """Everything the engine keeps per conversation.  Messages live in compact arrays:
    conversation-wide m_dir/m_off/m_len/m_pk (start of its packets in `pk`), and per
    direction d_key (stream offset for TCP, packet number for UDP) + d_idx for lookups."""

    __slots__ = ("flow", "transport", "id", "protocol", "options", "spec", "reasm", "mappers",
                 "m_dir", "m_off", "m_len", "m_pk", "pk", "d_key", "d_idx", "m_bad",
                 "coalesced", "last_pkt", "udp_bytes", "probe_buf",
                 "probe_pending", "decided", "version", "cache", "own")

    def __init__(self, flow):
        self.flow = flow
        self.transport = flow.transport
        self.id = flow.id
        self.protocol: str | None = None
        self.options: dict = {}
        self.spec = None
        self.reasm: list = [None, None]
        self.mappers: list = [None, None]
        self.m_dir = array("b")
        self.m_off = array("q")
        self.m_len = array("q")
        self.m_pk = array("I")
        self.pk = array("I")
        # UDP: packet number of each message, per direction (TCP: see dir_offsets)
        self.d_key = (array("I"), array("I")) if flow.transport == "udp" else None
        self.d_idx = (array("I"), array("I"))
        self.m_bad: dict[int, str] = {}
        self.coalesced = array("I")
        self.last_pkt = [0, 0]                       # last packet of the previous message
        self.udp_bytes = [0, 0]
        self.probe_buf = [bytearray(), bytearray()]
        self.probe_pending: list = []                # (direction, off, packet, start, data)
        self.decided = False
        self.version = 0
        self.cache = None                            # (version, Conversation)
        self.own: dict[str, int] = {}                # counts of the engine's own analysis bits

    def add_message(self, direction: int, start: int, end: int, packets, malformed) -> int:
        i = len(self.m_dir)
        self.m_dir.append(direction)
        self.m_off.append(start)
        self.m_len.append(end - start)
        self.m_pk.append(len(self.pk))
        self.pk.extend(packets)
        self.d_idx[direction].append(i)
        if packets:
            first = packets[0]
            if first == self.last_pkt[direction] and (
                    not self.coalesced or self.coalesced[-1] != first):
                self.coalesced.append(first)
            self.last_pkt[direction] = packets[-1]
        if malformed:
            self.m_bad[i] = malformed
        self.version += 1
        return i

    def dir_offsets(self, direction: int):
        """Stream offsets of one direction's messages, in order (a view; bisect works)."""
        if self.d_key is not None:
            return self.d_key[direction]
        return _OffsetsView(self.m_off, self.d_idx[direction])

    def packets_of(self, i: int) -> list[int]:
        end = self.m_pk[i + 1] if i + 1 < len(self.m_pk) else len(self.pk)
        return self.pk[self.m_pk[i]: end].tolist()

    @property
    def message_count(self) -> int:
        return len(self.m_dir)

    def split_count(self) -> int:
        starts = self.m_pk
        n = len(starts)
        if not n:
            return 0
        total = len(self.pk)
        return sum(1 for i in range(n)
                   if (starts[i + 1] if i + 1 < n else total) - starts[i] > 1)


class _OffsetsView:
    """m_off[idx[j]] as a read-only sequence (bisect-able) without copying."""

    __slots__ = ("_off", "_idx")

    def __init__(self, off, idx):
        self._off, self._idx = off, idx

    def __len__(self) -> int:
        return len(self._idx)

    def __getitem__(self, j: int) -> int:
        return self._off[self._idx[j]]


_SUMMARY = Message.__dict__["summary"]
_FIELDS = Message.__dict__["fields"]


class _LazyMessage(Message):
    """A Message whose summary/fields are decoded from the frames on first access."""

    __slots__ = ("_engine", "_cs", "_described")

    @property
    def summary(self) -> str:
        if not self._described:
            self._describe()
        return _SUMMARY.__get__(self)

    @summary.setter
    def summary(self, value: str) -> None:
        _SUMMARY.__set__(self, value)

    @property
    def fields(self) -> dict:
        if not self._described:
            self._describe()
        return _FIELDS.__get__(self)

    @fields.setter
    def fields(self, value: dict) -> None:
        _FIELDS.__set__(self, value)

    def _describe(self) -> None:
        self._described = True
        try:
            summary, fields = self._engine._describe(self._cs, self)
        except Exception as exc:  # never break a view over one message
            summary, fields = f"[cannot decode: {exc}]", {}
        _SUMMARY.__set__(self, summary)
        _FIELDS.__set__(self, fields)


class MessageList(Sequence):
    """The messages of one conversation as a lazy, read-only sequence of Message objects
    (materialised on access, with a small cache).  len() is free."""

    __slots__ = ("_engine", "_cs", "_n", "_cache")

    def __init__(self, engine, cs, n: int):
        self._engine, self._cs, self._n = engine, cs, n
        self._cache: dict[int, Message] = {}

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError("message index out of range")
        m = self._cache.get(i)
        if m is None:
            m = self._engine._message(self._cs, i)
            if len(self._cache) < 4096:
                self._cache[i] = m
        return m

    def __iter__(self):
        for i in range(self._n):
            yield self[i]

    def __eq__(self, other):
        return list(self) == list(other)

    def __repr__(self) -> str:
        return f"<{self._n} messages>"


class Engine:
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

    # -- whole capture -------------------------------------------------------------------
    def summary_json(self) -> dict:
        """The `wirelab summary --json` object (messages without summaries: see
        conversation_json(summaries=True) for those)."""
        with self.lock:
            return {
                "file": self.source_path,
                "packets": self.packet_count,
                "loopback_duplicates": self.loopback_duplicates,
                "warnings": list(self.warnings),
                "conversations": [self.conversation_json(cs) for cs in self._conv_order],
            }

    def write_summary_json(self, fp, summaries: bool = False) -> None:
        """Write summary_json() to `fp` one conversation at a time (flat memory)."""
        with self.lock:
            head = {"file": self.source_path, "packets": self.packet_count,
                    "loopback_duplicates": self.loopback_duplicates,
                    "warnings": list(self.warnings)}
            text = json.dumps(head, separators=(",", ":"))
            fp.write(text[:-1] + ',"conversations":[')
            for k, cs in enumerate(self._conv_order):
                if k:
                    fp.write(",")
                if summaries:
                    fp.write(json.dumps(self.conversation_json(cs, True), separators=(",", ":")))
                else:
                    fp.write(self._conversation_json_text(cs))
            fp.write("]}\n")

    def _conversation_json_text(self, cs: _ConvState) -> str:
        """conversation_json(cs) as compact JSON text, messages formatted directly (fast)."""
        out = conversation_json(self._conversation(cs, cache=False), messages=False)
        n = cs.message_count
        m_dir, m_off, m_len, m_pk, pk, bad = cs.m_dir, cs.m_off, cs.m_len, cs.m_pk, cs.pk, cs.m_bad
        total = len(pk)
        split = 0
        parts = []
        dirs = ('"c2s"', '"s2c"')
        for i in range(n):
            a = m_pk[i]
            b = m_pk[i + 1] if i + 1 < n else total
            if b - a > 1:
                split += 1
                pks = ",".join(map(str, pk[a:b]))
            else:
                pks = str(pk[a]) if b > a else ""
            extra = f',"malformed":{json.dumps(bad[i])}' if i in bad else ""
            parts.append(f'{{"index":{i},"direction":{dirs[m_dir[i]]},"offset":{m_off[i]},'
                         f'"length":{m_len[i]},"packets":[{pks}]{extra}}}')
        out["split_messages"] = split
        text = json.dumps(out, separators=(",", ":"))
        return text.replace('"messages":[]', '"messages":[' + ",".join(parts) + "]", 1)

    @property
    def loopback_duplicates(self) -> int:
        return sum(1 for b in self._bits if b & _LOOPBACK_DUP)

    def conversation_json(self, conv, summaries: bool = False) -> dict:
        """One conversation of the summary JSON, built from the compact arrays."""
        with self.lock:
            cs = conv if isinstance(conv, _ConvState) else self._convs[conv.key]
            c = self._conversation(cs, cache=False)
            out = conversation_json(c, messages=False)
            msgs = []
            n = cs.message_count
            m_dir, m_off, m_len, m_pk, pk, bad = cs.m_dir, cs.m_off, cs.m_len, cs.m_pk, cs.pk, cs.m_bad
            total = len(pk)
            split = 0
            for i in range(n):
                a = m_pk[i]
                b = m_pk[i + 1] if i + 1 < n else total
                if b - a > 1:
                    split += 1
                m = {"index": i, "direction": _DIRS[m_dir[i]], "offset": m_off[i],
                     "length": m_len[i], "packets": pk[a:b].tolist()}
                if i in bad:
                    m["malformed"] = bad[i]
                if summaries:
                    m["summary"] = c.messages[i].summary
                msgs.append(m)
            out["messages"] = msgs
            out["split_messages"] = split
            return out

    def close(self) -> None:
        with self.lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def message_json(m: Message, summary: bool = True) -> dict:
    out = {"index": m.index, "direction": m.direction, "offset": m.offset, "length": m.length,
           "packets": list(m.packets), "protocol": m.protocol}
    if summary:
        out["summary"] = m.summary
    if m.malformed:
        out["malformed"] = m.malformed
    return out


def conversation_json(c: Conversation, messages: bool = True) -> dict:
    out = {
        "id": c.id, "transport": c.transport, "client": c.client, "server": c.server,
        "state": c.state, "history": c.history, "handshake": c.handshake,
        "teardown": c.teardown, "protocol": c.protocol,
        "first_packet": c.first_packet, "last_packet": c.last_packet,
        "start_time": c.start_time, "end_time": c.end_time, "packets": c.packets,
        "bytes_c2s": c.bytes_c2s, "bytes_s2c": c.bytes_s2c,
        "messages": [],
        "coalesced_packets": list(c.coalesced_packets),
        "split_messages": 0,
        "analysis": dict(c.analysis),
        "malformed": list(c.malformed),
        "gaps": [{"direction": d, "offset": o, "length": ln, "text": f"[{ln} bytes missing]"}
                 for d, o, ln in c.gaps],
    }
    if messages:
        out["messages"] = [message_json(m, summary=False) for m in c.messages]
        out["split_messages"] = c.split_messages
    return out


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
