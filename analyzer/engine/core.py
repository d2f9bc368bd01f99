"""The feeding core of the engine: one packet at a time in (`feed`; the per-packet loop is
analyzer.engine.feeding), per-packet columns and per-conversation state out.  The queries
views make are added by analyzer.engine.messages and analyzer.engine.queries; a file is
opened into an engine by analyzer.engine.loader.

Storage: per-packet facts live in compact arrays (analyzer.engine.packet_index, ~41 bytes a
packet, no per-packet objects); a packet's details are decoded again from its frame bytes
when a view asks.  Frame bytes come from the capture file (Record.offset, re-read on demand)
or, for live sources (offset < 0, or keep_frames=True), from an in-memory list.

Thread-safety: one writer (the thread calling feed/finish) and any number of readers (the UI
thread): every public method takes `self.lock` (an RLock), so a reader sees a packet either
wholly fed or not at all.  Messages appear when complete.
"""
from __future__ import annotations

import threading
from array import array

from analyzer.decode import decode_frame
from analyzer.engine.constants import COOKED_HEADER, DIRS, MALFORMED, PROBE_LIMIT
from analyzer.engine.conv_state import ConvState
from analyzer.engine.conv_table import ConvTable
from analyzer.engine.feeding import feed_records, into_conversation
from analyzer.engine.loopback import loopback_copy
from analyzer.engine.message_cutting import MessageMapper, describe
from analyzer.engine.packet_index import PacketIndex
from analyzer.engine.protocol_choice import (FRAMED, ProtocolChooser, codec_factory, framing_of,
                                             stated_report, verify)
from analyzer.engine.retired import PackedConv
from analyzer.transport.flows import FlowTable
from analyzer.transport.reassembly import DEFAULT_MAX_HELD, Reassembler


class EngineCore:
    """Push-based analysis: `feed(record)` per packet, `finish()` at the end of input."""

    def __init__(self, decode_as: dict[int, str] | None = None, sidecar=None,
                 source_path: str | None = None, reader=None, keep_frames: bool | None = None,
                 max_held: int | None = None, summary_only: bool = False,
                 pack_closed: bool = True):
        """decode_as: {port: "proto[:variant]"}; sidecar: list of AppIO records (or None);
        reader: object with read_frame(offset, length) -> bytes for file sources;
        keep_frames: keep every frame's bytes in memory (default: when there is neither a
        reader nor a source_path, i.e. live capture); max_held: out-of-order bytes held per
        direction (reassembly cap, default 4 MiB); summary_only: do not fill the per-packet
        columns only the packet views read (TCP flags, payload length, stream, direction):
        conversations and messages stay complete, rows and packet JSON do not;
        pack_closed: keep closed TCP conversations packed (analyzer.engine.retired; False
        keeps every conversation's full state, the same results with more memory)."""
        self.lock = threading.RLock()
        self.protocols = ProtocolChooser(decode_as, sidecar)
        self.source_path = source_path
        self.reader = reader
        self.keep_frames = (reader is None and source_path is None) if keep_frames is None else keep_frames
        self.frame_store: list[bytes | None] = []
        self.max_held = max_held
        self.warnings: list[str] = []
        self.undecoded: dict[str, int] = {}     # what was not decoded -> packets (a warning each)
        self.flows = FlowTable(keep_list=False)
        self.index = PacketIndex()
        # 0 none, 1 tcp c2s, 2 tcp s2c, 3 udp c2s, 4 udp s2c (which table the stream id is in)
        self.flow_kind = array("b")
        self.first_ts: float | None = None
        self.states = ConvTable()                               # in order of first packet
        self.state_by_key = self.states.by_key                  # by (transport, id)
        self.pack_closed = pack_closed
        self._reviving: PackedConv | None = None                # being fed again
        self.reopened = 0                 # packed conversations a later packet brought back
        self.finished = False
        self._state_of_flow: dict = {}                          # Flow (by identity) -> state
        # the previous frame when it was the outgoing copy of a packet on lo (Linux cooked):
        # [link key, bytes after the link header, flags, payload length, stream, kind, direction]
        self._outgoing: list | None = None
        self._file = None
        self.summary_only = summary_only
        self._factories: dict[tuple, object] = {}  # (id(spec), direction, port) -> codec maker
        # out-of-order bytes a new conversation's reassemblers hold (fetch=self.payload_of)
        self._max_held = DEFAULT_MAX_HELD if max_held is None else max_held

    # -- feeding -------------------------------------------------------------------------
    def feed(self, rec) -> int:
        """Add one Record; returns its packet number."""
        with self.lock:
            feed_records(self, (rec,))
            return len(self.index.ts)

    def feed_many(self, records) -> int:
        """Add Records (an iterable, or a source's batch: a list or RecordColumns) while
        holding the lock once; returns how many."""
        with self.lock:
            return feed_records(self, records)

    def keep_frame(self, n: int, data) -> None:
        """Keep packet n's frame bytes in memory (live sources, or keep_frames=True)."""
        self.frame_store.append(data)
        if not self.keep_frames:
            self.keep_frames = True
            # earlier packets came from a file; keep their slots aligned
            self.frame_store[:0] = [None] * (n - len(self.frame_store))

    # -- closed conversations packed small (analyzer.engine.retired) ------------------------
    def _unpack_for_feeding(self, packed: PackedConv) -> None:
        """Bring a packed conversation back: its packets fed again from the capture."""
        self.flows.replay_as(packed, packed.id, packed.first_preset())
        self.reopened += 1
        self._reviving = packed
        idx = self.index
        try:
            for p in packed.packet_numbers():
                i = p - 1
                data = self.frame_bytes(p)
                d = decode_frame(idx.linktype[i], data, idx.origlen[i])
                flow, direction, fbits, _new = self.flows.add(p, idx.ts[i], d)
                into_conversation(self, self._state_of_flow, p, data, d, flow, direction,
                                  (MALFORMED if d.malformed else 0) | fbits)
        finally:
            self._reviving = None

    def _cooked_copy(self, linktype: int, data) -> tuple[list | None, list | None]:
        """(the record of the outgoing copy this frame is the incoming twin of, or None;
        this frame's own record when it is an outgoing copy on lo, to be filled, or None)."""
        prev, self._outgoing = self._outgoing, None
        lo = loopback_copy(linktype, data)
        if not lo:
            return None, None
        hdr = COOKED_HEADER[linktype]
        key = data[14:16] if linktype == 113 else data[0:8]     # protocol (SLL2: + ifindex)
        if lo == 2:
            if prev is not None and prev[0] == key and prev[1] == data[hdr:]:
                return prev, None
            return None, None
        self._outgoing = [key, data[hdr:], 0, 0, -1, 0, -1]
        return None, self._outgoing

    def forget_previous_frame(self) -> None:
        """The next frame fed does not directly follow the last one in the capture (a
        partition of the capture skipped packets): it cannot be the last one's loopback twin."""
        self._outgoing = None

    def finish(self) -> None:
        """End of input: close reassembly holes, flush codecs (EOF)."""
        with self.lock:
            if self.finished:
                return
            self.finished = True
            for why, count in self.undecoded.items():
                self.warnings.append(f"{count} packet{'s' if count != 1 else ''} not decoded: {why}")
            self.flows.finish()
            for cs in list(self.states.live()):
                if cs.transport != "tcp":
                    continue
                for r in cs.reasm:
                    r.finish()
                if not cs.decided:
                    self._decide_by_probe(cs, final=True)
                for m in cs.mappers:
                    if m is not None:
                        m.finish()

    # -- frames --------------------------------------------------------------------------
    @property
    def packet_count(self) -> int:
        return len(self.index.ts)

    def check_number(self, n: int) -> int:
        """The 0-based row of packet `n`; IndexError when there is no such packet."""
        if not 1 <= n <= len(self.index.ts):
            raise IndexError(f"no packet {n} (have {len(self.index.ts)})")
        return n - 1

    def frame_bytes(self, n: int) -> bytes:
        with self.lock:
            i = self.check_number(n)
            if self.keep_frames and i < len(self.frame_store) and self.frame_store[i] is not None:
                return self.frame_store[i]
            off, ln = self.index.offset[i], self.index.caplen[i]
            if self.reader is not None:
                return bytes(self.reader.read_frame(off, ln))
            if self._file is None:
                if not self.source_path:
                    raise IndexError(f"frame bytes of packet {n} were not kept")
                self._file = open(self.source_path, "rb")
            self._file.seek(off)
            return self._file.read(ln)

    def decoded(self, n: int):
        """analyzer.decode.decoded.Decoded of packet n (decoded again from its bytes)."""
        with self.lock:
            i = self.check_number(n)
            return decode_frame(self.index.linktype[i], self.frame_bytes(n), self.index.origlen[i])

    def payload_of(self, n: int) -> bytes | None:
        """The captured TCP/UDP payload of packet n (None: not kept, or not TCP/UDP)."""
        try:
            data = self.frame_bytes(n)
        except (IndexError, OSError):
            return None
        i = n - 1
        d = decode_frame(self.index.linktype[i], data, self.index.origlen[i])
        if d.payload_offset < 0:
            return None
        return data[d.payload_offset: d.payload_offset + d.captured_payload_len]

    def close(self) -> None:
        with self.lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    # -- conversations and their codecs ----------------------------------------------------
    def _new_conv(self, flow) -> ConvState:
        return new_conv(self, flow)

    def _probe_bytes(self, cs: ConvState, direction: int) -> None:
        """Until the conversation's protocol is decided, its reassembler of `direction` hands
        its bytes to probing (then _set_protocol points it at the message cutter)."""
        def on_data(off, packet, start, data):
            if cs.decided:
                m = cs.mappers[direction]
                if m is not None:
                    m.data(off, packet, start, data)
            else:
                cs.probe_pending.append((direction, off, packet, start, data))
                buf = cs.probe_buf[direction]
                limit = self.protocols.infer_limit if cs.options else PROBE_LIMIT
                if len(buf) < limit:
                    buf += data[: limit - len(buf)]
                self._decide_by_probe(cs)

        def on_gap(off, length):
            if cs.decided:
                m = cs.mappers[direction]
                if m is not None:
                    m.gap(off, length)
            else:
                cs.probe_pending.append((direction, off, 0, -1, length))

        r = cs.reasm[direction]
        r.on_data, r.on_gap = on_data, on_gap

    def _decide_by_probe(self, cs: ConvState, final: bool = False) -> None:
        """Probe (a match the bytes contradict is rejected), else infer the framing; wait
        for more bytes while neither is sure and the buffers are below their limits."""
        chooser = self.protocols
        key = (cs.transport, cs.id)
        if not cs.options:
            c2s, s2c = cs.probe_buf
            full = final or len(c2s) >= PROBE_LIMIT or len(s2c) >= PROBE_LIMIT
            rejected = []
            for spec, options in (chooser.probe_all(cs.transport, bytes(c2s), bytes(s2c))
                                  if c2s or s2c else ()):
                if not spec.framed and cs.transport == "tcp" and (rejected or not s2c):
                    if not full and not rejected:
                        return      # unframed text by its looks only: wait for the reply
                    chooser.fallback[key] = (spec, options)    # unless a framing is found
                    break
                error, fewest = (verify(spec, options, [c2s, s2c],
                                        cs.probe_pending[0][0] if cs.probe_pending else 0)
                                 if cs.transport == "tcp" and spec.framed else (None, 2))
                if error is None and fewest == 0 and full:
                    error = f"{spec.name}: nothing decoded in the first {PROBE_LIMIT} bytes"
                if error is not None:
                    rejected.append(error)
                    continue
                if (fewest < 2 or not (c2s and s2c)) and not full:
                    return          # not checked yet: both ways, a length then the next
                chooser.note(key, by="probe", rejected=rejected)
                self._set_protocol(cs, spec, options)
                return
            if not full and not rejected:
                return
            if cs.transport == "tcp":
                chooser.note(key, by="inference", rejected=rejected)
                chooser.start_inference(cs)
        decision = chooser.decide_framing(cs, final) if cs.options else (None, None)
        if decision is None:
            return                                  # inference waits for more bytes
        options, report = decision
        if report is not None:
            chooser.note(key, framing=report)
        if options is not None and (options["c2s"] or options["s2c"]):
            self._set_protocol(cs, FRAMED, options, protocol="inferred")
            return
        if key in chooser.fallback:
            chooser.note(key, by="probe")
            self._set_protocol(cs, *chooser.fallback.pop(key))
            return
        cs.decided = True
        cs.probe_pending = []
        cs.probe_buf = [bytearray(), bytearray()]
        for r in cs.reasm:                  # unknown protocol: nothing to cut
            if r is not None:
                r.deliver_nothing()

    def _set_protocol(self, cs: ConvState, spec, options: dict, protocol: str | None = None) -> None:
        set_protocol(self, cs, spec, options, protocol)

    def _codec_factory(self, spec, options: dict, direction: int, port: int):
        """protocol_choice.codec_factory; the same function again for the same codec without
        options (a protocol chosen by its port: most conversations)."""
        if options:
            return codec_factory(spec, options, direction, port)
        key = (id(spec), direction, port)       # (the factory kept keeps `spec` alive)
        factory = self._factories.get(key)
        if factory is None:
            factory = codec_factory(spec, options, direction, port)
            if len(self._factories) < 4096:
                self._factories[key] = factory
        return factory

    def _udp_datagram(self, cs: ConvState, direction: int, n: int, payload: bytes) -> None:
        if not cs.decided:
            found = None
            if payload:
                found = self.protocols.probe("udp", payload if direction == 0 else b"",
                                             payload if direction == 1 else b"")
            if found is not None:
                cs.spec, cs.options, cs.protocol = found[0], found[1], found[0].name
            cs.decided = True
        malformed = None
        if cs.spec is not None:
            _s, _f, malformed = describe(codec_factory(cs.spec, cs.options, direction)(), payload)
        start = cs.udp_bytes[direction]
        cs.udp_bytes[direction] = start + len(payload)
        cs.add_message(direction, start, start + len(payload), (n,), malformed)
        cs.d_key[direction].append(n)                  # UDP: look messages up by packet number


def new_conv(core, flow) -> ConvState:
    """EngineCore._new_conv: the state of a new conversation of `core` (an EngineCore), in the
    conversation table; for TCP its reassemblers, handing bytes to probing until the protocol
    is decided (at once when the ports or --decode-as name it)."""
    cs = ConvState(flow)
    core._state_of_flow[flow] = cs
    states = core.states
    reviving = core._reviving
    if reviving is not None:
        states.put(reviving.position, cs)
    else:
        states.append(cs)
    tcp = flow.transport == "tcp"
    server_port, client_port = flow.server[1], flow.client[1]
    if tcp:
        fetch, max_held = core.payload_of, core._max_held
        cs.reasm[0] = Reassembler(fetch=fetch, max_held=max_held)
        cs.reasm[1] = Reassembler(fetch=fetch, max_held=max_held)   # what they deliver: below
    chooser = core.protocols
    key = (flow.transport, flow.id)
    if tcp and chooser.forced_infer(server_port, client_port):
        cs.options = {"infer": True}        # undecided until the framing is inferred
        chooser.note(key, by="decode-as")
    else:
        spec, options = chooser.for_ports(flow.transport, server_port, client_port)
        if spec is not None:
            decode_as = chooser.decode_as
            by = "decode-as" if decode_as and (server_port in decode_as
                                               or client_port in decode_as) else "port"
            if spec is FRAMED:
                chooser.note(key, by=by, framing=stated_report(options))
            else:
                chooser.note_by(key, by)
            set_protocol(core, cs, spec, options, None)
    if tcp and not cs.decided:             # the bytes go to probing first
        core._probe_bytes(cs, 0)
        core._probe_bytes(cs, 1)
    return cs


def set_protocol(core, cs: ConvState, spec, options: dict, protocol: str | None) -> None:
    """EngineCore._set_protocol: conversation `cs` decided (`spec` with `options`): its
    message cutters made and fed what probing held."""
    cs.spec, cs.options = spec, options
    cs.protocol = protocol or spec.name
    cs.decided = True
    cs.version += 1
    if cs.transport != "tcp":
        return
    session = None
    if not spec.framed:
        session = core.protocols.sidecar_session(cs.flow.endpoint_text("client"),
                                                 cs.flow.endpoint_text("server"))
    for direction in (0, 1):
        if session is not None:
            cs.mappers[direction] = MessageMapper(cs, direction,
                                                  boundaries=session[DIRS[direction]])
        elif spec is FRAMED and framing_of(options, direction) is None:
            cs.mappers[direction] = None    # no framing found for this direction
        else:
            cs.mappers[direction] = MessageMapper(
                cs, direction, core._codec_factory(spec, options, direction,
                                                   cs.flow.server[1]),
                resync=not spec.framed)
    for direction in (0, 1):            # from now on the reassembler feeds the mapper
        r, m = cs.reasm[direction], cs.mappers[direction]
        if m is None:
            r.deliver_nothing()
        else:
            r.on_data, r.on_gap = m.data, m.gap
    pending = cs.probe_pending
    if pending:
        cs.probe_pending = []
    if cs.probe_buf[0] or cs.probe_buf[1]:
        cs.probe_buf = [bytearray(), bytearray()]
    for direction, off, packet, start, data in pending:
        m = cs.mappers[direction]
        if m is None:
            continue
        if start < 0:
            m.gap(off, data)
        else:
            m.data(off, packet, start, data)


from dissectors.accelerated import accelerate  # noqa: E402 - the compiled twin, setup.py
accelerate(globals())
