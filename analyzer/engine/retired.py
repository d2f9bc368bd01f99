"""Closed TCP conversations packed small (`PackedConv`, a few hundred bytes) and unpacked
again, read-only, when a view asks about one.

A TCP conversation whose flow is closed (both FINs acknowledged, or a RST) is finished early
by the engine (reassembly holes closed, codecs flushed: what the end of the capture would
do) and packed: every number views read (message arrays, chunk maps, gaps, handshake,
teardown, state, history, analysis counts) goes into one marshal blob; the reassemblers,
codecs, message cutters and TCP analysis state are dropped.  Should a packet of it come after
all, the engine feeds the conversation's packets again from the capture (their numbers are
in the blob), so the result is exactly what it would have been without packing.

`unpack` gives a ConvState whose `flow` is a FlowFacts (the Flow queries views use, answered
from the packed values) and whose reassemblers are ReasmFacts (base, next_off, gaps, chunks).
"""
from __future__ import annotations

import marshal
from array import array

from analyzer.engine.constants import DIRS
from analyzer.engine.conv_blob import CONV, HANDSHAKE, REASM, TCP, TEARDOWN
from analyzer.engine.conv_blob import conv_blob, head_blob  # the twin cimports it (setup.py)
from analyzer.engine.conv_state import ConvState, conv_analysis
from analyzer.transport.flows import TCP_ANALYSIS_NAMES, endpoint_text
from analyzer.transport.reassembly import ChunkMap
from analyzer.transport.tcp_analysis import A_REUSED_PORTS


class PackedConv:
    """A closed TCP conversation in one blob, plus what is shared and cheap to keep as is.
    Also the stand-in the FlowTable keeps for its 4-tuple (endpoints, syn_base)."""

    __slots__ = ("id", "position", "protocol", "spec", "options", "head", "blob")
    transport = "tcp"

    def __init__(self, cid: int, position: int, protocol, spec, options, head: bytes,
                 blob: bytes):
        """`head`: what the flow table asks of a stand-in (see "The head" below), apart from
        the rest so that asking costs little."""
        self.id, self.position = cid, position
        self.protocol, self.spec, self.options = protocol, spec, options
        self.head, self.blob = head, blob

    def ends(self) -> tuple:
        """(client, server, (SYN sequence number of each direction, or -1))."""
        v = marshal.loads(self.head)
        return (v[0], v[1]), (v[2], v[3]), (v[4], v[5])

    def packet_numbers(self) -> array:
        """Every packet of the conversation, in capture order."""
        return array("I", marshal.loads(self.blob)[CONV + 11])

    def first_preset(self) -> int:
        """The analysis bits flows gave the first packet before analysing it (reused ports)."""
        return marshal.loads(self.head)[6]


def finish_and_pack(core, cs: ConvState) -> None:
    """Finish a closed TCP conversation of the engine `core` (an EngineCore) now and keep it
    packed in its place.  Not packed: what another conversation's choice may depend on
    (inferred or probed framings, sidecar sessions), and conversations still undecided."""
    if not cs.decided or cs.protocol == "inferred":
        return
    mappers = cs.mappers
    for m in mappers:
        if m is not None and m.boundaries is not None:
            return
    choice = core.protocols.choices.of("tcp", cs.id)
    if choice is not None and choice.get("by") not in ("port", "decode-as"):
        return
    for r in cs.reasm:
        r.finish()
    for m in mappers:
        if m is not None:
            m.finish()
    flow = cs.flow
    states = core.states
    pos = states.position_of("tcp", cs.id)
    packed = pack(cs, pos, core.index.analysis[flow.first_packet - 1] & A_REUSED_PORTS)
    states.put(pos, packed)
    del core._state_of_flow[flow]
    flows = core.flows
    flows.retire(flow, packed)
    # it refers to itself (codec callbacks): freed here, not by the cyclic GC (off now)
    cs.reasm = cs.mappers = cs.flow = cs.cache = None


# The head (a stand-in's small blob) and the blob: analyzer/engine/conv_blob.py.
def pack(cs: ConvState, position: int, first_preset: int) -> PackedConv:
    """Pack a finished TCP conversation (see the module docstring)."""
    p = PackedConv.__new__(PackedConv)      # (the twin: its C fields set, no __init__ call)
    p.id, p.position, p.protocol, p.spec, p.options = (cs.id, position, cs.protocol, cs.spec,
                                                       cs.options or None)
    p.head, p.blob = head_blob(cs.flow, first_preset), conv_blob(cs)
    return p


def _conv_blob(cs: ConvState) -> bytes:
    """conv_blob.conv_blob (C in the compiled twin), for the tests comparing the two."""
    return conv_blob(cs)


def _head_blob(f, first_preset: int) -> bytes:
    """conv_blob.head_blob (C in the compiled twin), for the tests comparing the two."""
    return head_blob(f, first_preset)


def unpack(p: PackedConv) -> ConvState:
    """A read-only ConvState of a packed conversation (see the module docstring)."""
    v = marshal.loads(p.blob)
    cs = ConvState.__new__(ConvState)
    cs.flow = FlowFacts(p.id, marshal.loads(p.head), v)
    cs.transport, cs.id = "tcp", p.id
    cs.protocol, cs.spec, cs.options = p.protocol, p.spec, p.options or {}
    conv = v[CONV:REASM[0]]
    m_dir, m_off, m_len, m_pk, pk, coalesced, bad, last0, last1, own, version, pkts = conv
    cs.m_dir, cs.m_off, cs.m_len = array("b", m_dir), array("q", m_off), array("q", m_len)
    cs.m_pk, cs.pk, cs.coalesced = array("I", m_pk), array("I", pk), array("I", coalesced)
    cs.d_idx = (array("I"), array("I"))     # each direction's messages (not packed: m_dir)
    for i, direction in enumerate(cs.m_dir):
        cs.d_idx[direction].append(i)
    cs.m_bad, cs.last_pkt, cs.own, cs.version = dict(bad), [last0, last1], dict(own), version
    cs.pkts = array("I", pkts)
    cs.reasm = [ReasmFacts(*v[start:start + 7]) for start in REASM]
    cs.mappers = [None, None]
    cs.d_key = None
    cs.udp_bytes = [0, 0]
    cs.probe_buf = [bytearray(), bytearray()]
    cs.probe_pending = []
    cs.decided = True
    cs.cache = None
    return cs


def analysis_counts(nonzero) -> dict:
    """A packed flow's analysis counts (every TCP analysis name, as a Flow has them)."""
    counts = dict.fromkeys(TCP_ANALYSIS_NAMES, 0)
    counts.update(nonzero)
    return counts


def summary_facts(p: PackedConv) -> tuple:
    """What the summary JSON writes of a packed conversation, read straight from the blob
    (no ConvState made): (client, server, state, history, handshake (complete, frames,
    rtt_ms), teardown (kind, initiator, frames), first_packet, last_packet, start_time,
    end_time, packets, bytes_c2s, bytes_s2c, analysis counts, message arrays (m_dir, m_off,
    m_len, m_pk, pk), malformed messages {index: why}, coalesced packets, gaps [("c2s" or
    "s2c", offset, length)]).  The analysis counts come as the key packed_analysis takes:
    (the flow's nonzero counts, the engine's own counts), both tuples of (name, count)."""
    v = marshal.loads(p.blob)
    ci, cp, si, sp = marshal.loads(p.head)[:4]
    gaps = [(DIRS[direction], o, ln) for direction, start in enumerate(REASM)
            for o, ln in v[start + 2]]
    first, last, packets, b1, b2, start, end, nonzero, state, history = v[:HANDSHAKE]
    return (endpoint_text((ci, cp)), endpoint_text((si, sp)), state, history,
            v[HANDSHAKE:TEARDOWN], v[TEARDOWN:TCP], first, last, start, end, packets, b1, b2,
            (nonzero, v[CONV + 9]), message_views(v), dict(v[CONV + 6]), coalesced_view(v),
            gaps)


def message_views(v: tuple) -> tuple:
    """The message arrays (m_dir, m_off, m_len, m_pk, pk) of a blob's items, as views."""
    if not v[CONV]:
        return _NO_MESSAGES
    return (memoryview(v[CONV]).cast("b"), memoryview(v[CONV + 1]).cast("q"),
            memoryview(v[CONV + 2]).cast("q"), memoryview(v[CONV + 3]).cast("I"),
            memoryview(v[CONV + 4]).cast("I"))


def coalesced_view(v: tuple):
    """The coalesced packets of a blob's items, as a view."""
    return memoryview(v[CONV + 5]).cast("I") if v[CONV + 5] else _NO_MESSAGES[3]


def packed_analysis(key: tuple) -> dict:
    """A packed conversation's analysis counts (as Conversation.analysis has them) from
    summary_facts' key (flow's nonzero counts, engine's own counts)."""
    nonzero, own = key
    return conv_analysis(analysis_counts(nonzero), dict(own))


# summary_facts' message arrays of a conversation without messages (shared: read only)
_NO_MESSAGES = (array("b"), array("q"), array("q"), array("I"), array("I"))


class ReasmFacts:
    """What views read of a finished direction's Reassembler (the chunk map made on first
    use: the summary does not read it)."""

    __slots__ = ("base", "next_off", "gaps", "_packed_chunks", "_chunks")

    def __init__(self, base, next_off, gaps, offset, packet, start, length):
        self.base, self.next_off, self.gaps = base, next_off, list(gaps)
        self._packed_chunks = (offset, packet, start, length)
        self._chunks = None

    @property
    def chunks(self) -> ChunkMap:
        if self._chunks is None:
            offset, packet, start, length = self._packed_chunks
            self._chunks = ch = ChunkMap()
            ch.offset, ch.packet = array("q", offset), array("I", packet)
            ch.start, ch.length = array("I", start), array("I", length)
        return self._chunks


class FlowFacts:
    """The Flow queries views use (analyzer.transport.flows.Flow), from packed values."""

    __slots__ = ("id", "client", "server", "first_packet", "last_packet", "packets",
                 "bytes_c2s", "bytes_s2c", "start_time", "end_time", "analysis_counts",
                 "_state", "_history", "_handshake", "_teardown", "_shift", "_base",
                 "initial_rtt")
    transport = "tcp"
    finished = closed = True

    def __init__(self, cid: int, head: tuple, v: tuple):
        """`v`: the blob's items (FLOW, HANDSHAKE, TEARDOWN and TCP are read)."""
        self.id = cid
        self.client, self.server = head[0:2], head[2:4]
        (self.first_packet, self.last_packet, self.packets, self.bytes_c2s, self.bytes_s2c,
         self.start_time, self.end_time) = v[:7]
        self.analysis_counts = analysis_counts(v[7])
        self._state, self._history = v[8], v[9]
        self._handshake, self._teardown = v[HANDSHAKE:TEARDOWN], v[TEARDOWN:TCP]
        self._shift, self._base = v[TCP:TCP + 2], v[TCP + 2:TCP + 4]
        self.initial_rtt = v[TCP + 4]

    def state(self) -> str:
        return self._state

    def history(self) -> str:
        return self._history

    def handshake(self) -> dict:
        complete, frames, rtt = self._handshake
        return {"complete": complete, "frames": list(frames), "rtt_ms": rtt}

    def teardown(self) -> dict:
        kind, initiator, frames = self._teardown
        return {"kind": kind, "initiator": initiator, "frames": list(frames)}

    def window_shift(self, direction: int) -> int | None:
        return self._shift[direction]

    def base_seq(self, direction: int) -> int:
        return self._base[direction]

    def endpoint_text(self, which) -> str:
        return endpoint_text(self.client if which in ("client", 0) else self.server)

from dissectors.accelerated import accelerate  # noqa: E402 - the compiled twin, setup.py
accelerate(globals())
