"""Conversations: tshark-compatible stream numbering, client/server roles, per-packet TCP
analysis flags, Zeek conn_state/history, handshake and teardown of each conversation.

    table = FlowTable()
    for number, (ts, decoded) in enumerate(packets, 1):
        verdict = table.add(number, ts, decoded)     # None: neither TCP nor UDP
    table.finish()
    for flow in table.conversations: flow.state(), flow.history(), flow.teardown() ...

Numbering follows tshark's tcp.stream / udp.stream: 0-based per transport, in order of first
packet.  A pure SYN whose sequence number differs from the conversation's first one opens a
new TCP conversation (Wireshark's "TCP port numbers reused"), so a 4-tuple reused by loopback
gets a new stream.  The client is the SYN sender (the destination of a SYN-ACK seen first),
else the first sender.
"""
from __future__ import annotations

from typing import NamedTuple

from analyzer.transport.conn_state import ZeekTcpState, ZeekUdpState
from analyzer.decode.decoded import ACK, FIN, RST, SYN, Decoded
from analyzer.transport.analysis_flags import ANALYSIS_BIT, ANALYSIS_NAMES
from analyzer.transport.tcp_analysis import A_REUSED_PORTS, M32, TcpConversationAnalysis
from analyzer.transport.tcp_analysis import gt_seq  # the twin cimports it (setup.py)

# analysis names counted per conversation (always present in analysis_counts, even at 0)
TCP_ANALYSIS_NAMES = (ANALYSIS_NAMES[:ANALYSIS_NAMES.index("reused_ports") + 1]
                      + ("zero_window_probe_ack",))
_COUNTED = [(name, ANALYSIS_BIT[name]) for name in TCP_ANALYSIS_NAMES]
_NO_TCP_COUNTS = dict.fromkeys(TCP_ANALYSIS_NAMES, 0)     # a new TCP flow's counts (copied)

Endpoint = tuple  # (ip text, port)


def endpoint_text(ep: Endpoint) -> str:
    """'127.0.0.1:40000' / '[::1]:40000'."""
    ip, port = ep
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


class FlowVerdict(NamedTuple):
    flow: "Flow"
    direction: int        # 0 = client->server, 1 = server->client
    analysis: int         # bits of analyzer.transport.analysis_flags.ANALYSIS_BIT for this packet
    new: bool             # this packet opened the conversation


_new_verdict = tuple.__new__     # FlowVerdict without the Python-level __new__ (hot path)


class Flow:
    """One conversation (tcp or udp)."""

    __slots__ = ("transport", "id", "client", "server", "first_packet", "last_packet", "packets",
                 "bytes_c2s", "bytes_s2c", "start_time", "end_time", "isn", "analysis_counts",
                 "finished", "closed", "_tcp", "_zeek", "_isn_syn",
                 "_syn", "_syn_ts", "_syn_seq", "_syn_end", "_synack", "_synack_seq", "_hs_ack",
                 "_hs_ack_ts",
                 "_fin", "_fin_end", "_fin_ack", "_fin_order", "_second_fin_acks_first",
                 "_rst", "_rst_dir", "_rst_before_close", "_data_after_fin")

    def __init__(self, transport: str, fid: int, client: Endpoint, server: Endpoint,
                 number: int, ts: float, flipped: bool = False) -> None:
        self.transport = transport
        self.id = fid
        self.client = client
        self.server = server
        self.first_packet = number
        self.last_packet = number
        self.packets = 0
        self.bytes_c2s = 0
        self.bytes_s2c = 0
        self.start_time = ts
        self.end_time = ts
        self.isn: list[int | None] = [None, None]
        self._isn_syn = [False, False]
        self.analysis_counts: dict[str, int] = (
            _NO_TCP_COUNTS.copy() if transport == "tcp" else {})
        self.finished = False
        self.closed = False      # both FINs acknowledged, or a RST: TCP expects nothing more
        if transport == "tcp":
            self._tcp: TcpConversationAnalysis | None = TcpConversationAnalysis()
            self._zeek = ZeekTcpState(flipped)
        else:
            self._tcp = None
            self._zeek = ZeekUdpState()
        # handshake
        self._syn: int | None = None
        self._syn_ts = 0.0
        self._syn_seq = 0
        self._syn_end = 0
        self._synack: int | None = None
        self._synack_seq = 0
        self._hs_ack: int | None = None
        self._hs_ack_ts = 0.0
        # teardown
        self._fin: list[int | None] = [None, None]        # first FIN frame per direction
        self._fin_end: list[int] = [0, 0]                 # seq just after that FIN
        self._fin_ack: list[int | None] = [None, None]    # frame that first ACKed that FIN
        self._fin_order: list[int] = []                   # directions, in order of FIN
        self._second_fin_acks_first = False
        self._rst: int | None = None
        self._rst_dir = 0
        self._rst_before_close = False
        self._data_after_fin = False      # the other side sent data after the first FIN

    # -- public queries ------------------------------------------------------------------------
    def base_seq(self, direction: int) -> int:
        """Sequence number of stream offset 0 in that direction (ISN+1 after a SYN, else the
        first sequence number seen; the other side's first ACK number before that)."""
        if self._tcp is not None:
            d = self._tcp.dirs[direction]
            if d.base_seq_set:
                return (d.base_seq + 1) & M32
        isn = self.isn[direction]
        return isn if isn is not None else 0

    def syn_base(self, direction: int) -> int:
        """The sequence number a pure SYN that direction sends must carry to stay in this
        conversation (another one opens a new conversation); -1 when any does."""
        d = self._tcp.dirs[direction]
        return d.base_seq if d.base_seq_set else -1

    def window_shift(self, direction: int) -> int | None:
        """The window-scale shift that applies to this direction's windows (None: unknown)."""
        if self._tcp is None:
            return None
        shift = self._tcp.dirs[direction].win_scale
        return shift if isinstance(shift, int) and 0 <= shift <= 14 else None

    def state(self) -> str:
        return self._zeek.conn_state()

    def history(self) -> str:
        return self._zeek.history()

    @property
    def initial_rtt(self) -> float | None:
        """Wireshark's tcp.analysis.initial_rtt in seconds (None if unknown)."""
        return self._tcp.initial_rtt if self._tcp is not None else None

    def handshake(self) -> dict:
        complete, frames, rtt = self.handshake_facts()
        return {"complete": complete, "frames": list(frames), "rtt_ms": rtt}

    def teardown(self) -> dict:
        kind, initiator, frames = self.teardown_facts()
        return {"kind": kind, "initiator": initiator, "frames": list(frames)}

    def handshake_facts(self) -> tuple:
        """handshake() as a tuple: (complete, frames (a tuple), rtt_ms)."""
        frames = tuple([f for f in (self._syn, self._synack, self._hs_ack) if f is not None])
        complete = len(frames) == 3
        rtt = round((self._hs_ack_ts - self._syn_ts) * 1000.0, 3) if complete else None
        return complete, frames, rtt

    def teardown_facts(self) -> tuple:
        """teardown() as a tuple: (kind, initiator, frames (a tuple))."""
        who = ("client", "server")
        if self._rst is not None and self._rst_before_close:
            return "rst", who[self._rst_dir], (self._rst,)
        order = self._fin_order
        if not order:
            return "none", None, ()
        x = order[0]
        if len(order) == 1 or self._data_after_fin:
            frames = [f for f in (self._fin[x], self._fin_ack[x]) if f is not None]
            if len(order) == 2:
                y = order[1]
                frames += [f for f in (self._fin[y], self._fin_ack[y]) if f is not None]
            return "half-close", who[x], tuple(dict.fromkeys(frames))
        y = order[1]
        if not self._second_fin_acks_first:
            frames = sorted({f for f in (self._fin[x], self._fin[y], self._fin_ack[x],
                                         self._fin_ack[y]) if f is not None})
            return "simultaneous", who[x], tuple(frames)
        if self._fin_ack[x] == self._fin[y]:
            frames = [f for f in (self._fin[x], self._fin[y], self._fin_ack[y]) if f is not None]
            return "fin-ack-piggybacked", who[x], tuple(frames)
        frames = [f for f in (self._fin[x], self._fin_ack[x], self._fin[y], self._fin_ack[y])
                  if f is not None]
        return "four-way", who[x], tuple(frames)

    def endpoint_text(self, which) -> str:
        """which: "client"/"server" or 0/1."""
        ep = self.client if which in ("client", 0) else self.server
        return endpoint_text(ep)

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return (f"Flow({self.transport}.{self.id} {endpoint_text(self.client)} -> "
                f"{endpoint_text(self.server)} packets={self.packets})")

    # -- feeding -------------------------------------------------------------------------------
    def _count(self, number: int, ts: float, direction: int, length: int) -> None:
        self.packets += 1
        self.last_packet = number
        if ts > self.end_time:
            self.end_time = ts
        if direction == 0:
            self.bytes_c2s += length
        else:
            self.bytes_s2c += length

    def _track_handshake(self, number: int, ts: float, direction: int, seq: int, ack: int,
                         flags: int, seglen: int) -> None:
        if self._hs_ack is not None:
            return
        syn_ack = flags & (SYN | ACK)
        if direction == 0 and syn_ack == SYN and self._synack is None:
            self._syn, self._syn_ts, self._syn_seq = number, ts, seq
            self._syn_end = (seq + 1 + max(0, seglen)) & M32     # a SYN may carry data (TFO)
        elif (direction == 1 and syn_ack == (SYN | ACK) and self._syn is not None
              and (ack == ((self._syn_seq + 1) & M32) or ack == self._syn_end)
              and not flags & RST):
            self._synack, self._synack_seq = number, seq
        elif (direction == 0 and syn_ack == ACK and self._synack is not None
              and not flags & RST and ack == ((self._synack_seq + 1) & M32)):
            self._hs_ack, self._hs_ack_ts = number, ts

    def _track_teardown(self, number: int, direction: int, seq: int, ack: int, flags: int,
                        seglen: int) -> None:
        other = 1 - direction
        # does this packet ACK the other side's FIN?
        if (flags & ACK and self._fin[other] is not None and self._fin_ack[other] is None
                and not flags & RST and not gt_seq(self._fin_end[other], ack)):
            self._fin_ack[other] = number
            if self._fin_ack[direction] is not None:
                self.closed = True
        if flags & RST:
            if self._rst is None:
                self._rst, self._rst_dir = number, direction
                # an abort unless both FINs were already exchanged
                self._rst_before_close = len(self._fin_order) < 2
            self.closed = True
            return
        if seglen and self._fin_order and direction != self._fin_order[0]:
            self._data_after_fin = True
        if flags & FIN and self._fin[direction] is None:
            self._fin[direction] = number
            self._fin_end[direction] = (seq + seglen + 1 + (1 if flags & SYN else 0)) & M32
            self._fin_order.append(direction)
            if len(self._fin_order) == 2:
                first = self._fin_order[0]
                self._second_fin_acks_first = bool(
                    flags & ACK and not gt_seq(self._fin_end[first], ack))


def pair_key(a: Endpoint, b: Endpoint) -> int:
    """One number for the two endpoints of a conversation, whichever way round."""
    return hash((a[0], a[1], b[0], b[1]) if a <= b else (b[0], b[1], a[0], a[1]))


class FlowTable:
    """All conversations of a capture, fed one packet at a time.

    A closed TCP flow can be retired (`retire`): its table entries go, and a small stand-in
    the caller gives answers for its 4-tuple.  A pure SYN with a new ISN there opens a new
    conversation as it would have (reused ports); any other packet there makes `add` return
    the stand-in with direction -1: the caller brings the conversation back by feeding its
    packets again after `replay_as(stand_in)`, then adds the packet again.  The stand-in
    tells `ends()` -> (client, server, (SYN sequence number of each direction, or -1))."""

    __slots__ = ("conversations", "_tcp", "_udp", "_next_id", "finished", "retired",
                 "replay_id", "replay_preset", "direction", "bits", "new")

    def __init__(self, keep_list: bool = True) -> None:
        """keep_list: list every Flow in `conversations` (else None: a caller that retires
        flows keeps its own list, so retired flows are freed)."""
        self.conversations: list[Flow] | None = [] if keep_list else None
        # (src ip, src port, dst ip, dst port) -> (current flow of that 4-tuple, direction)
        self._tcp: dict[tuple, tuple[Flow, int]] = {}
        self._udp: dict[tuple, tuple[Flow, int]] = {}
        self._next_id = {"tcp": 0, "udp": 0}
        self.finished = False
        self.retired: dict = {}         # pair_key -> stand-in, or a tuple of them (same key)
        self.replay_id = -1             # the id the next new flow gets (a conversation back)
        self.replay_preset = 0          # ... and the analysis bits its first packet had
        # the rest of the last packet's verdict (`place`): its direction (-1: the stand-in of a
        # retired conversation), analysis bits, whether it opened its conversation
        self.direction, self.bits, self.new = -1, 0, False

    def _new_flow(self, transport: str, table: dict, client: Endpoint, server: Endpoint,
                  number: int, ts: float, flipped: bool = False) -> Flow:
        fid = self.replay_id
        if fid >= 0:
            self.replay_id = -1
        else:
            fid = self._next_id[transport]
            self._next_id[transport] = fid + 1
        flow = Flow(transport, fid, client, server, number, ts, flipped)
        if self.conversations is not None:
            self.conversations.append(flow)
        table[(client[0], client[1], server[0], server[1])] = (flow, 0)
        if server != client:
            table[(server[0], server[1], client[0], client[1])] = (flow, 1)
        return flow

    def add(self, number: int, ts: float, d: Decoded) -> FlowVerdict | None:
        """Feed packet `number` (1-based) with timestamp `ts`; None if not TCP/UDP.  A packet
        the decoder marked malformed but still decoded to TCP/UDP (an impossible IP or UDP
        length: the bytes captured are used) keeps its conversation, as in tshark; one whose
        TCP/UDP header could not be read (no payload offset) does not."""
        flow = self.place(number, ts, d)
        if flow is None:
            return None
        return _new_verdict(FlowVerdict, (flow, self.direction, self.bits, self.new))

    def place(self, number: int, ts: float, d: Decoded):
        """`add` without the verdict tuple (the engine's per-packet path): the Flow, or the
        stand-in of a retired conversation, or None; the rest of the verdict is left in
        `direction`, `bits` and `new`."""
        transport = d.transport
        if d.payload_offset < 0:
            return None
        if transport == "tcp":
            table = self._tcp
            key = (d.src, d.sport, d.dst, d.dport)
            hit = table.get(key)
            flags = d.flags
            preset = 0
            new = False
            if hit is not None:
                flow, direction = hit
                if flags & SYN and flow._tcp.syn_starts_new_stream(direction, d.seq, flags):
                    hit = None
                    preset = A_REUSED_PORTS
            if hit is None:
                src, dst = (d.src, d.sport), (d.dst, d.dport)
                if self.retired:
                    stand_in = self._retired_at(src, dst, d.seq, flags)
                    if stand_in is not None:
                        if stand_in is not True:
                            self.direction, self.bits, self.new = -1, 0, False
                            return stand_in
                        preset = A_REUSED_PORTS
                if self.replay_preset:
                    preset |= self.replay_preset
                    self.replay_preset = 0
                if flags & (SYN | ACK) == (SYN | ACK):
                    flow = self._new_flow("tcp", table, dst, src, number, ts, flipped=True)
                    direction = 1
                else:
                    flow = self._new_flow("tcp", table, src, dst, number, ts)
                    direction = 0
                if src == dst:                      # a socket connected to itself
                    direction = 0
                new = True
            seglen = d.payload_len
            if seglen < 0:
                seglen = 0
            flow.packets += 1
            flow.last_packet = number
            if ts > flow.end_time:
                flow.end_time = ts
            if direction:
                flow.bytes_s2c += seglen
            else:
                flow.bytes_c2s += seglen
            # Flow._tcp_packet inlined (one call less per packet): same steps, same order
            seq = d.seq
            ack = d.ack
            tcp = flow._tcp
            wscale = None
            if flags & SYN:
                opts = d.tcp_options
                if opts:
                    wscale = opts.get("wscale")
                preset |= tcp.pre_checks(direction, seq, flags)
                if not flow._isn_syn[direction]:
                    flow.isn[direction] = seq
                    flow._isn_syn[direction] = True
            if flow.isn[direction] is None:
                flow.isn[direction] = seq
            window = d.window
            bits = tcp.packet(number, ts, direction, seq, ack, seglen, flags, window, wscale,
                              preset)
            zeek = flow._zeek
            zeek.packet(direction == 0, seq, flags, seglen, window)
            if bits:
                counts = flow.analysis_counts
                for name, bit in _COUNTED:
                    if bits & bit:
                        counts[name] += 1
            if flow._hs_ack is None:
                flow._track_handshake(number, ts, direction, seq, ack, flags, seglen)
            if flags & (FIN | RST) or flow._fin_order:
                flow._track_teardown(number, direction, seq, ack, flags, seglen)
            self.direction, self.bits, self.new = direction, bits, new
            return flow
        if transport != "udp":
            return None
        table = self._udp
        hit = table.get((d.src, d.sport, d.dst, d.dport))
        new = False
        if hit is None:
            flow = self._new_flow("udp", table, (d.src, d.sport), (d.dst, d.dport), number, ts)
            direction = 0
            new = True
        else:
            flow, direction = hit
        length = d.payload_len if d.payload_len > 0 else 0
        flow._count(number, ts, direction, length)
        flow._zeek.packet(direction == 0, length)
        self.direction, self.bits, self.new = direction, 0, new
        return flow

    def finish(self) -> None:
        """End of capture: conversation states are final from here on."""
        self.finished = True
        for flow in self.conversations or ():
            flow.finished = True

    # -- retired conversations (see the class docstring) -----------------------------------
    def retire(self, flow: Flow, stand_in) -> None:
        c, s = flow.client, flow.server
        for key in ((c[0], c[1], s[0], s[1]), (s[0], s[1], c[0], c[1])):
            hit = self._tcp.get(key)
            if hit is not None and hit[0] is flow:
                del self._tcp[key]
        key = pair_key(c, s)
        old = self.retired.get(key)
        self.retired[key] = stand_in if old is None else (
            (*old, stand_in) if type(old) is tuple else (old, stand_in))

    def replay_as(self, stand_in, fid: int, preset: int) -> None:
        """Forget `stand_in`; the next new flow gets id `fid` and `preset` on its first
        packet (the conversation `stand_in` stood for, fed again)."""
        self._forget_retired(stand_in)
        self.replay_id, self.replay_preset = fid, preset

    def _forget_retired(self, stand_in, key: int | None = None) -> None:
        """Drop `stand_in` from `retired` (`key`: pair_key of its ends, when known)."""
        if key is None:
            client, server = stand_in.ends()[:2]
            key = pair_key(client, server)
        old = self.retired.pop(key)
        if type(old) is tuple:
            rest = tuple([x for x in old if x is not stand_in])
            if rest:
                self.retired[key] = rest[0] if len(rest) == 1 else rest

    def _retired_at(self, src: Endpoint, dst: Endpoint, seq: int, flags: int):
        """The stand-in of the retired conversation on this 4-tuple that this packet belongs
        to; True when a SYN opens a new conversation there instead (the stand-in is
        forgotten); None when no retired conversation is there."""
        key = pair_key(src, dst)
        old = self.retired.get(key)
        if old is None:
            return None
        for stand_in in (old if type(old) is tuple else (old,)):
            client, server, bases = stand_in.ends()
            if src == client and dst == server:
                direction = 0
            elif src == server and dst == client:
                direction = 1
            else:
                continue
            base = bases[direction]
            if (flags & (SYN | ACK)) == SYN and base >= 0 and seq != base:
                self._forget_retired(stand_in, key=key)
                return True
            return stand_in
        return None

from dissectors.accelerated import accelerate  # noqa: E402 - the compiled twin, setup.py
accelerate(globals())
