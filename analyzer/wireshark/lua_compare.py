"""Compare the messages the Lua plugin makes tshark find with the messages wirelab finds.

A message is compared as (frame where it is complete, protocol, direction, length on the
wire): tshark shows a reassembled PDU in the frame that completes it, which is the last packet
of wirelab's `Message.packets` -- or, when segments came out of order, the later packet that
filled the hole before it (tshark runs with tcp.reassemble_out_of_order:TRUE, as wirelab
reorders segments too).

chat has no boundaries on the wire.  The plugin uses lines; wirelab uses lines too when there
is no sidecar, so wirelab analyzes a sidecar-free copy of the capture here.  A last chat line
without "\\n" at the end of a stream is a message for wirelab (flushed at EOF) but never for
tshark: such messages are counted in `unterminated` and not compared.  Conversations wirelab
recognised by its heuristics on a port the plugin does not dissect (no default port, no
Decode As) are listed in `heuristic_only` and not compared either.

Ports `decode_as` states a framing for (`len:4:le`, `c2s:delim:lf,s2c:len:4:be`) or asks to
infer (`infer`) are cut in tshark by a dissector generated for their framing
(analyzer.wireshark.lua_framing; for `infer`, the framing wirelab inferred on that port, see
analyzer.wireshark.lua_framed_ports); both sides name those messages "framed".  A
conversation on such a port that wirelab cut otherwise (another framing, or none found) is
listed in `other_framing` and its tshark messages are not compared.

    from analyzer.wireshark.lua_compare import compare_capture
    report = compare_capture("x.pcap", decode_as={9999: "lenmsg:native"})
    report.disagreements, report.compared
"""
from __future__ import annotations

import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

from analyzer.errors import WirelabError
from analyzer.wireshark.lua_export import LUA_PROTOCOLS, default_ports, write_lua
from analyzer.wireshark.lua_framed_ports import (FRAMED_PROTOCOLS, PROTOCOL as FRAMED,
                                                 conversation_framings, framed_decode_as,
                                                 framed_ports, pair_text, server_port)
from analyzer.wireshark.lua_framing import framings_lua
from analyzer.wireshark.tshark import iter_fields as iter_tshark_fields

LINE_PROTOCOLS = ("chat", "auth")   # protocols carrying chat lines (auth: after its first message)
UDP_PROTOCOLS = ("udpecho",)
# Lua range preference listing the ports of a (protocol, variant); absent: the default
VARIANT_PORT_PREFS = {
    ("lenmsg", "native"): "lenmsg.native_ports",
    ("filexfer", "native"): "filexfer.native_ports",
    ("auth", "hmac-md5"): "auth.hmac_md5_ports",
}
DEFAULT_VARIANTS = {("lenmsg", "network"), ("filexfer", "network"), ("auth", "hmac-sha256"),
                    ("auth", "md5-hex")}   # md5-hex: same 32-byte size, told apart by content


class SeenMessage(NamedTuple):
    frame: int
    protocol: str
    direction: str
    length: int

    def text(self) -> str:
        return f"{self.protocol} {self.direction} {self.length} bytes"


@dataclass
class MessageReport:
    tshark: list[SeenMessage]
    wirelab: list[SeenMessage]
    unterminated: int = 0
    heuristic_only: list[str] = field(default_factory=list)   # "tcp 3 auth" not compared
    disagreements: list[str] = field(default_factory=list)
    # "tcp 3 (c2s:len:2:be,s2c:none; port 7005 dissector: ...)" not compared
    other_framing: list[str] = field(default_factory=list)

    @property
    def compared(self) -> int:
        return len(self.wirelab)

    @property
    def agree(self) -> bool:
        return not self.disagreements


def _split_decode_as(decode_as: dict | None) -> list[tuple[int, str, str]]:
    """(port, protocol, variant) of the decode_as entries the plugin dissects (stated and
    inferred framings apart: see lua_framed_ports)."""
    out = []
    framed = framed_decode_as(decode_as)
    for port, spec in (decode_as or {}).items():
        if int(port) in framed:
            continue
        name, _, variant = str(spec).partition(":")
        if name not in LUA_PROTOCOLS:
            raise WirelabError(f"no Lua dissector for {name!r}")
        out.append((int(port), name, variant))
    return out


def tshark_args(decode_as: dict | None, framed: dict | None = None) -> list[str]:
    """tshark -d / -o arguments equivalent to wirelab's decode_as {port: "name[:variant]"};
    `framed`: the ports the generated framing dissector (wlframed) cuts."""
    args: list[str] = []
    for port in sorted(framed or {}):
        args += ["-d", f"tcp.port=={port},wlframed"]
    ranges: dict[str, list[int]] = {}
    for port, name, variant in _split_decode_as(decode_as):
        table = "udp.port" if name in UDP_PROTOCOLS else "tcp.port"
        args += ["-d", f"{table}=={port},{name}"]
        if variant and (name, variant) not in DEFAULT_VARIANTS:
            pref = VARIANT_PORT_PREFS.get((name, variant))
            if pref is None:
                raise WirelabError(f"no Lua preference for {name}:{variant}")
            ranges.setdefault(pref, []).append(port)
    for pref, ports in ranges.items():
        args += ["-o", f"{pref}:{','.join(str(p) for p in sorted(ports))}"]
    return args


def tshark_messages(capture: str, lua_path: str, decode_as: dict | None = None,
                    two_pass: bool = False, framed_lua: str | None = None,
                    framed: dict | None = None, framed_streams=None) -> list[SeenMessage]:
    """Messages tshark finds with the Lua plugin: one per <proto>.wire_len occurrence.

    two_pass: run `tshark -2` (the second pass sees every frame as already visited, as
    Wireshark does when a packet is clicked): the plugin must give the same answer.
    framed_lua: the generated framing dissector for the ports of `framed` (its messages are
    named "framed"); framed_streams: the TCP streams whose framed messages are compared
    (None: all).
    """
    protos = [(p, "direction", "wire_len", p) for p in LUA_PROTOCOLS]
    if framed_lua:
        protos.append(("wlframed", "direction", "length", FRAMED))
    names = ["frame.number", "icmp.type", "icmpv6.type", "tcp.stream"]
    for proto, direction, length, _name in protos:
        names += [f"{proto}.{direction}", f"{proto}.{length}"]
    extra = ["-2"] if two_pass else []
    extra += ["-X", f"lua_script:{lua_path}", "-o", "tcp.reassemble_out_of_order:TRUE"]
    if framed_lua:
        extra += ["-X", f"lua_script:{framed_lua}"]
    extra += tshark_args(decode_as, framed if framed_lua else None)
    keep = None if framed_streams is None else {str(s) for s in framed_streams}
    out: list[SeenMessage] = []
    for row in iter_tshark_fields(capture, names, extra=extra):
        frame = int(row[0])
        if row[1] or row[2]:
            continue   # a datagram quoted inside an ICMP error: not a message
        for i, (_proto, _d, _n, name) in enumerate(protos):
            dirs, lens = row[4 + 2 * i], row[5 + 2 * i]
            if not lens or (name == FRAMED and keep is not None and row[3] not in keep):
                continue
            for d, n in zip(dirs.split(","), lens.split(",")):
                out.append(SeenMessage(frame, name, d, int(n)))
    return out


def _ends_with_newline(engine, message) -> bool:
    last = message.packets[-1]
    for sl in engine.message_slices(last):
        if sl.message is message or (sl.message.conv_id == message.conv_id
                                     and sl.message.index == message.index):
            dec = engine.decoded(last)
            data = engine.frame_bytes(last)
            pos = dec.payload_offset + sl.end - 1
            return 0 <= pos < len(data) and data[pos] == 0x0A
    return True


def plugin_ports(decode_as: dict | None = None) -> dict[int, str]:
    """Port -> protocol the plugin dissects: its default ports plus Decode As."""
    ports = {port: name for name, port in default_ports().items()}
    for port, name, _ in _split_decode_as(decode_as):
        ports[port] = name
    return ports


def wirelab_messages(engine, decode_as: dict | None = None,
                     framed: dict | None = None) -> tuple[list[SeenMessage], int, list[str]]:
    """Comparable messages of a finished Engine, the count of unterminated last chat lines,
    and the conversations wirelab recognised by heuristics on a port the plugin does not know
    (tshark has no heuristic for them: not compared).  `framed`: port -> (c2s, s2c) framings
    the generated dissector cuts (see lua_framed_ports); conversations on those ports that
    wirelab cut otherwise are left out (see framed_streams)."""
    out: list[SeenMessage] = []
    unterminated = 0
    heuristic_only: list[str] = []
    known = plugin_ports(decode_as)
    framed = framed or {}
    for conv in engine.conversations:
        port = server_port(conv)
        if port in framed and conv.transport == "tcp":
            if conversation_framings(engine, conv) != framed[port]:
                continue            # listed by framed_streams
        elif conv.protocol and known.get(port) != conv.protocol:
            heuristic_only.append(f"{conv.transport} {conv.id} {conv.protocol}")
            continue
        first_index: dict[str, int] = {}
        last_index: dict[str, int] = {}
        for m in conv.messages:
            first_index.setdefault(m.direction, m.index)
            last_index[m.direction] = m.index
        delivered: dict[str, int] = {}
        for m in sorted(conv.messages, key=lambda m: (m.direction, m.offset)):
            if not m.packets:
                continue
            # a message is complete in the frame that brings its last missing byte: with
            # out-of-order segments that can be later than the packets carrying its own bytes
            frame = max(delivered.get(m.direction, 0), max(m.packets))
            delivered[m.direction] = frame
            is_line = m.protocol == "chat" or (m.protocol == "auth"
                                               and m.index != first_index[m.direction])
            if (is_line and m.index == last_index[m.direction]
                    and not _ends_with_newline(engine, m)):
                unterminated += 1
                continue
            name = FRAMED if m.protocol in FRAMED_PROTOCOLS else m.protocol
            out.append(SeenMessage(frame, name, m.direction, m.length))
    return out, unterminated, heuristic_only


def framed_streams(engine, framed: dict) -> tuple[set[int], list[str]]:
    """The TCP conversations on a framed port that wirelab cut with the port's framing (their
    ids), and the others there (no framing found, or another one inferred: why, in words)."""
    same: set[int] = set()
    others: list[str] = []
    for conv in engine.conversations:
        port = server_port(conv)
        if conv.transport != "tcp" or port not in framed:
            continue
        pair = conversation_framings(engine, conv)
        if pair == framed[port]:
            same.add(conv.id)
        else:
            others.append(f"tcp {conv.id} ({pair_text(pair)}; port {port} dissector: "
                          f"{pair_text(framed[port])})")
    return same, others


def diff_messages(tshark: list[SeenMessage], wirelab: list[SeenMessage]) -> list[str]:
    """One line per frame where the two disagree (count, protocol, direction or lengths)."""
    a, b = Counter(tshark), Counter(wirelab)
    frames = sorted({m.frame for m in (a - b)} | {m.frame for m in (b - a)})
    if not frames:
        return []
    wanted = set(frames)
    by_frame: dict[int, tuple[list[str], list[str]]] = {f: ([], []) for f in frames}
    for side, messages in ((0, tshark), (1, wirelab)):
        for m in messages:
            if m.frame in wanted:
                by_frame[m.frame][side].append(m.text())
    out = []
    for frame in frames:
        ta, wa = sorted(by_frame[frame][0]), sorted(by_frame[frame][1])
        out.append(f"frame {frame}: tshark [{'; '.join(ta)}], wirelab [{'; '.join(wa)}]")
    return out


def engine_without_sidecar(capture: str, decode_as: dict | None = None):
    """wirelab's Engine for `capture`, ignoring any sidecar beside it (chat in line mode)."""
    from analyzer.engine import analyze_file

    return analyze_file(capture, decode_as=decode_as, sidecar=None)


def compare_capture(capture: str, decode_as: dict | None = None, lua_path: str | None = None,
                    engine=None) -> MessageReport:
    """Run tshark with the plugin and wirelab on `capture`; report every disagreement.

    `engine`: an Engine already built for `capture` (then its chat boundaries are used as is).
    """
    own = engine is None
    if own:
        engine = engine_without_sidecar(capture, decode_as)
    try:
        framed = framed_ports(engine, decode_as)
        same, others = framed_streams(engine, framed)
        wl, unterminated, heuristic = wirelab_messages(engine, decode_as, framed)
    finally:
        if own:
            engine.close()
    with tempfile.TemporaryDirectory(prefix="wirelab-lua-") as tmp:
        if lua_path is None:
            lua_path = write_lua(os.path.join(tmp, "wirelab.lua"))
        framed_lua = None
        if framed:
            framed_lua = os.path.join(tmp, "framed.lua")
            with open(framed_lua, "w", encoding="utf-8") as f:
                f.write(framings_lua(framed))
        ts = tshark_messages(capture, lua_path, decode_as, framed_lua=framed_lua, framed=framed,
                             framed_streams=same)
    return MessageReport(ts, wl, unterminated, heuristic, diff_messages(ts, wl), others)
