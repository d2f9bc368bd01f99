"""The frame, IP, TCP and UDP fields of the display filter language, named as in Wireshark.

FIELDS maps a name to (type, getter); getter(ctx) returns a value, a list of values, or None
when the packet does not have the field.  Types:
    int, float      numbers            str    text (== ignores case; contains does not)
    ip              an address         text   text as Wireshark compares it (case matters)
    bool            a flag             bytes  a byte string (contains, matches, slices)
    proto           a protocol: present when its bytes are (contains, matches, slices)
The application protocols' fields (the Lua plugin's names) and wirelab's own msg.* / conv.*
fields are in analyzer.filters.protocol_fields.
"""
from __future__ import annotations

from typing import Any, Callable

from analyzer.decode.decoded import ACK, CWR, ECE, FIN, PSH, RST, SYN, URG
from analyzer.filters.context import PacketContext
from analyzer.transport.analysis_flags import ANALYSIS_BIT, ANALYSIS_NAMES

Getter = Callable[[PacketContext], Any]


def _tcp(ctx: PacketContext):
    d = ctx.d
    return d if d.transport == "tcp" else None


def _udp(ctx: PacketContext):
    d = ctx.d
    return d if d.transport == "udp" else None


def _ip(ctx):
    d = ctx.d
    return d if d.ip_version in (4, 6) else None


def _flag(bit: int) -> Getter:
    def get(ctx):
        d = _tcp(ctx)
        return None if d is None else bool(d.flags & bit)
    return get


def _analysis(name: str) -> Getter:
    bit = ANALYSIS_BIT[name]
    return lambda ctx: bool(ctx.bits & bit)


def _layer(kind: str) -> Getter:
    """The bytes of a layer to the end of the frame (`ip contains ...`), None when absent."""
    def get(ctx):
        d = ctx.d
        if kind == "ip":
            ok, off = d.ip_version == 4, d.l3_offset
        else:
            ok, off = d.transport == kind, d.l4_offset
        return ctx.frame[off:] if ok and off >= 0 else None
    return get


def _ip_len(ctx):
    d = ctx.d
    if d.ip_version != 4 or d.l3_offset < 0:
        return None
    f = ctx.frame
    off = d.l3_offset
    return int.from_bytes(f[off + 2: off + 4], "big") if len(f) >= off + 4 else None


def _time_delta(ctx):
    ts = ctx.engine.index.ts
    return 0.0 if ctx.n == 1 else ts[ctx.n - 1] - ts[ctx.n - 2]


def _window_size(ctx):
    """The calculated window (scaled when the handshake agreed on scaling), as tshark's."""
    d = _tcp(ctx)
    if d is None:
        return None
    direction = ctx.engine.direction_of(ctx.n)
    cs = ctx.state
    return ctx.engine.window_size(cs, 0 if direction == "c2s" else 1, d)


def _tcp_payload(ctx):
    d = _tcp(ctx)
    return ctx.payload if d is not None and d.captured_payload_len > 0 else None


def _data(ctx):
    """Payload no dissector claimed (Wireshark's `data`): a conversation without protocol."""
    p = ctx.payload
    if not p:
        return None
    c = ctx.conv
    return p if c is None or not c.protocol else None


FIELDS: dict[str, tuple[str, Getter]] = {
    "frame": ("proto", lambda c: c.frame),
    "frame.number": ("int", lambda c: c.n),
    "frame.len": ("int", lambda c: c.row.length),
    "frame.cap_len": ("int", lambda c: len(c.frame)),
    "frame.time_relative": ("float", lambda c: c.row.time),
    "frame.time_delta": ("float", _time_delta),
    "frame.time_delta_displayed": ("float", _time_delta),
    "frame.protocols": ("str", lambda c: c.row.protocol.lower()),
    "frame.info": ("str", lambda c: c.row.info),
    "malformed": ("bool", lambda c: bool(c.d.malformed) or "malformed" in c.row.tags
                  or bool(c.bits & ANALYSIS_BIT["malformed"])),
    "ip": ("proto", _layer("ip")),
    "ipv6": ("bool", lambda c: c.d.ip_version == 6),
    "ip.src": ("ip", lambda c: _ip(c) and c.d.src),
    "ip.dst": ("ip", lambda c: _ip(c) and c.d.dst),
    "ip.addr": ("ip", lambda c: _ip(c) and [c.d.src, c.d.dst]),
    "ip.ttl": ("int", lambda c: _ip(c) and c.d.ttl),
    "ip.proto": ("int", lambda c: _ip(c) and c.d.ip_proto),
    "ip.version": ("int", lambda c: _ip(c) and c.d.ip_version),
    "ip.len": ("int", _ip_len),
    "tcp": ("proto", _layer("tcp")),
    "tcp.srcport": ("int", lambda c: _tcp(c) and c.d.sport),
    "tcp.dstport": ("int", lambda c: _tcp(c) and c.d.dport),
    "tcp.port": ("int", lambda c: _tcp(c) and [c.d.sport, c.d.dport]),
    "tcp.seq_raw": ("int", lambda c: _tcp(c) and c.d.seq),
    "tcp.ack_raw": ("int", lambda c: _tcp(c) and c.d.ack),
    "tcp.seq": ("int", lambda c: _tcp(c) and c.engine.relative_seq(c.n)[0]),
    "tcp.len": ("int", lambda c: _tcp(c) and c.d.payload_len),
    "tcp.hdr_len": ("int", lambda c: _tcp(c) and c.d.tcp_header_len),
    "tcp.window_size_value": ("int", lambda c: _tcp(c) and c.d.window),
    "tcp.window_size": ("int", _window_size),
    "tcp.payload": ("bytes", _tcp_payload),
    "tcp.stream": ("int", lambda c: _tcp(c) and c.stream),
    "tcp.flags": ("int", lambda c: _tcp(c) and c.d.flags),
    "tcp.flags.syn": ("bool", _flag(SYN)),
    "tcp.flags.ack": ("bool", _flag(ACK)),
    "tcp.flags.fin": ("bool", _flag(FIN)),
    "tcp.flags.reset": ("bool", _flag(RST)),
    "tcp.flags.push": ("bool", _flag(PSH)),
    "tcp.flags.urg": ("bool", _flag(URG)),
    "tcp.flags.ece": ("bool", _flag(ECE)),
    "tcp.flags.cwr": ("bool", _flag(CWR)),
    "tcp.analysis.flags": ("bool", lambda c: bool(c.bits & ~ANALYSIS_BIT["loopback_duplicate"])),
    "udp": ("proto", _layer("udp")),
    "udp.srcport": ("int", lambda c: _udp(c) and c.d.sport),
    "udp.dstport": ("int", lambda c: _udp(c) and c.d.dport),
    "udp.port": ("int", lambda c: _udp(c) and [c.d.sport, c.d.dport]),
    "udp.length": ("int", lambda c: _udp(c) and c.d.payload_len + 8),
    "udp.stream": ("int", lambda c: _udp(c) and c.stream),
    "data": ("proto", _data),
    "data.data": ("bytes", _data),
    "data.len": ("int", lambda c: (p := _data(c)) is not None and len(p) or None),
}
for _name in ANALYSIS_NAMES:
    FIELDS[f"tcp.analysis.{_name}"] = ("bool", _analysis(_name))
# Wireshark spellings
FIELDS["tcp.analysis.duplicate_ack"] = ("bool", _analysis("duplicate_ack"))
FIELDS["tcp.analysis.ack_lost_segment"] = ("bool", _analysis("ack_lost_segment"))
for _alias, _real in (("ip.src_host", "ip.src"), ("ip.dst_host", "ip.dst"),
                      ("tcp.flags.rst", "tcp.flags.reset"), ("tcp.flags.psh", "tcp.flags.push"),
                      ("tcp.window", "tcp.window_size_value"), ("frame.time", "frame.time_relative"),
                      ("udp.len", "udp.length")):
    FIELDS[_alias] = FIELDS[_real]

# numeric fields with a fixed width: a value outside can never match (Wireshark rejects it)
RANGES: dict[str, tuple[int, int]] = {
    f"{t}.{f}": (0, 65535) for t in ("tcp", "udp") for f in ("port", "srcport", "dstport")}
