"""Builds the detail tree of one packet as plain nodes (no widgets): link, IP, TCP/UDP with
analysis flags, then the messages (or parts of messages) the packet carries.

Each node may carry `span` = (start, end) byte offsets in the frame, used to highlight the
field in the hex view, `filter` = the display filter that selects packets with this field's
value (Wireshark's "Apply as Filter", e.g. `tcp.srcport == 51454`), and `lazy` = a callable producing children when the node is expanded
(Scapy's full dissection; Wireshark's via analyzer.wireshark.pyshark_detail when present).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Callable

from analyzer.decode.decoded import ACK, CWR, ECE, FIN, PSH, RST, SYN, URG, flags_text
from analyzer.transport.analysis_flags import analysis_list

LINKTYPES = {1: "Ethernet", 101: "Raw IP", 228: "Raw IPv4", 229: "Raw IPv6",
             113: "Linux cooked capture (SLL)", 276: "Linux cooked capture v2 (SLL2)",
             0: "BSD loopback", 108: "OpenBSD loopback"}
ANALYSIS_TEXT = {
    "retransmission": "This frame is a (suspected) retransmission",
    "fast_retransmission": "This frame is a (suspected) fast retransmission",
    "spurious_retransmission": "This frame is a (suspected) spurious retransmission",
    "out_of_order": "This frame is a (suspected) out-of-order segment",
    "lost_segment": "Previous segment(s) not captured (common at capture start)",
    "ack_lost_segment": "ACKed segment that wasn't captured",
    "duplicate_ack": "Duplicate ACK",
    "zero_window": "TCP window is zero: the receiver cannot take more data",
    "zero_window_probe": "TCP zero window probe",
    "keep_alive": "TCP keep-alive",
    "keep_alive_ack": "TCP keep-alive ACK",
    "window_update": "TCP window update",
    "window_full": "TCP window full: the sender filled the receiver's window",
    "reused_ports": "A new SYN on a 4-tuple seen before (port reuse)",
    "overlap_conflict": "Retransmitted bytes differ from the first copy",
    "size_limited": "Packet size limited during capture (caplen < len)",
    "malformed": "Malformed packet: a header could not be decoded",
    "loopback_duplicate": "Second copy of a packet seen twice on loopback",
    "buffer_cap": "Reassembly buffer cap hit in this direction",
}

FLAG_FIELDS = ((CWR, "Congestion Window Reduced", "cwr"), (ECE, "ECN-Echo", "ece"),
               (URG, "Urgent", "urg"), (ACK, "Acknowledgment", "ack"), (PSH, "Push", "push"),
               (RST, "Reset", "reset"), (SYN, "Syn", "syn"), (FIN, "Fin", "fin"))


@dataclass
class Node:
    label: str
    span: tuple[int, int] | None = None
    children: list["Node"] = field(default_factory=list)
    lazy: Callable[[], list["Node"]] | None = None
    expand: bool = False
    key: str = ""          # stable name for tests ("frame", "ip", "tcp", "messages", ...)
    filter: str = ""       # display filter for this field's value ("" when none applies)

    def add(self, label: str, span=None, **kw) -> "Node":
        node = Node(label, span, **kw)
        self.children.append(node)
        return node


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def build_detail(session, n: int) -> list[Node]:
    """The top-level nodes for packet `n`: frame, link, IP, TCP/UDP, messages, and the lazy
    Scapy and tshark dissections."""
    with session.lock:
        eng = session.engine_for(n)
        pending = eng is not session.engine
        data = eng.frame_bytes(n)
        d = eng.decoded(n)
        row = session.row(n)
        bits = eng.analysis_bits(n)
        stream = eng.stream_of(n)
        slices = list(eng.message_slices(n))
        pj = session.packet_json(n)
    nodes = [_frame_node(session, n, row, d, data, pj, pending)]
    nodes += _link_and_ip_nodes(d, data)
    nodes += _transport_nodes(d, data, pj, bits, stream)
    nodes += _message_nodes(n, d, slices)
    nodes.append(Node("Scapy dissection (all fields)", key="scapy", lazy=lambda: scapy_nodes(data, d.linktype)))
    if session.path:
        path = session.path
        nodes.append(Node("Wireshark dissection (tshark)", key="wireshark",
                          lazy=lambda: wireshark_nodes(path, n)))
    return nodes


def _frame_node(session, n: int, row, d, data: bytes, pj: dict, pending: bool) -> Node:
    frame = Node(f"Frame {n}: {row.length} bytes on wire, {len(data)} bytes captured",
                 (0, len(data)), key="frame", filter=f"frame.number == {n}")
    if pending:
        frame.add(f"[Not analyzed yet: the engine has reached packet {session.count:,}; "
                  "analysis flags and messages appear when it gets here]", key="pending")
    frame.add(f"Time since first packet: {row.time:.6f} s")
    ts = pj.get("time") if isinstance(pj, dict) else None
    if isinstance(ts, (int, float)) and ts > 1e8:
        frame.add("Arrival time: " + datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
                  .strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    frame.add(f"Encapsulation: {LINKTYPES.get(d.linktype, f'linktype {d.linktype}')}")
    if row.tags:
        frame.add("Colouring tags: " + ", ".join(sorted(row.tags)))
    if d.malformed:
        frame.add(f"[Malformed: {d.malformed}]", key="malformed")
    return frame


def _link_and_ip_nodes(d, data: bytes) -> list[Node]:
    nodes: list[Node] = []
    l3 = d.l3_offset
    if d.linktype == 1 and len(data) >= 14:
        eth = Node(f"Ethernet II, Src: {_mac(data[6:12])}, Dst: {_mac(data[0:6])}", (0, 14), key="link")
        eth.add(f"Destination: {_mac(data[0:6])}", (0, 6))
        eth.add(f"Source: {_mac(data[6:12])}", (6, 12))
        et = int.from_bytes(data[12:14], "big")
        eth.add(f"Type: 0x{et:04x}", (12, 14))
        if d.vlan is not None:
            eth.add(f"VLAN: {d.vlan}")
        nodes.append(eth)
    elif l3 > 0:
        nodes.append(Node(f"{LINKTYPES.get(d.linktype, 'Link layer')} header ({l3} bytes)", (0, l3), key="link"))

    if d.ip_version == 4 and l3 >= 0:
        ihl = (data[l3] & 15) * 4 if len(data) > l3 else 20
        ip = Node(f"Internet Protocol Version 4, Src: {d.src}, Dst: {d.dst}", (l3, l3 + ihl), key="ip",
                  filter="ip")
        ip.add(f"Header length: {ihl} bytes", (l3, l3 + 1))
        if len(data) >= l3 + 20:
            total = int.from_bytes(data[l3 + 2:l3 + 4], "big")
            ip.add(f"Total length: {total}", (l3 + 2, l3 + 4), filter=f"ip.len == {total}")
            ip.add(f"Identification: 0x{int.from_bytes(data[l3 + 4:l3 + 6], 'big'):04x}", (l3 + 4, l3 + 6))
            frag = int.from_bytes(data[l3 + 6:l3 + 8], "big")
            df = " (Don't Fragment)" if frag & 0x4000 else ""
            ip.add(f"Flags: 0x{frag >> 13:x}{df}, fragment offset: {frag & 0x1fff}", (l3 + 6, l3 + 8))
        ip.add(f"Time to live: {d.ttl}", (l3 + 8, l3 + 9), filter=f"ip.ttl == {d.ttl}")
        ip.add(f"Protocol: {d.ip_proto} ({ {6: 'TCP', 17: 'UDP', 1: 'ICMP'}.get(d.ip_proto, '?') })", (l3 + 9, l3 + 10),
               filter=f"ip.proto == {d.ip_proto}")
        ip.add(f"Source address: {d.src}", (l3 + 12, l3 + 16), filter=f"ip.src == {d.src}")
        ip.add(f"Destination address: {d.dst}", (l3 + 16, l3 + 20), filter=f"ip.dst == {d.dst}")
        nodes.append(ip)
    elif d.ip_version == 6 and l3 >= 0:
        ip = Node(f"Internet Protocol Version 6, Src: {d.src}, Dst: {d.dst}", (l3, l3 + 40), key="ip",
                  filter="ipv6")
        ip.add(f"Payload length: {int.from_bytes(data[l3 + 4:l3 + 6], 'big')}", (l3 + 4, l3 + 6))
        ip.add(f"Next header: {d.ip_proto}", (l3 + 6, l3 + 7))
        ip.add(f"Hop limit: {d.ttl}", (l3 + 7, l3 + 8))
        ip.add(f"Source address: {d.src}", (l3 + 8, l3 + 24))
        ip.add(f"Destination address: {d.dst}", (l3 + 24, l3 + 40))
        nodes.append(ip)

    return nodes


def _transport_nodes(d, data: bytes, pj: dict, bits: int, stream) -> list[Node]:
    nodes: list[Node] = []
    l4 = d.l4_offset
    if d.transport == "tcp":
        hl = d.tcp_header_len or 20
        seq = pj.get("seq", d.seq) if isinstance(pj, dict) else d.seq
        ack = pj.get("ack", d.ack) if isinstance(pj, dict) else d.ack
        tcp = Node(f"Transmission Control Protocol, Src Port: {d.sport}, Dst Port: {d.dport}, "
                   f"Seq: {seq}, Ack: {ack}, Len: {d.payload_len}", (l4, l4 + hl), key="tcp", filter="tcp")
        tcp.add(f"Source port: {d.sport}", (l4, l4 + 2), filter=f"tcp.srcport == {d.sport}")
        tcp.add(f"Destination port: {d.dport}", (l4 + 2, l4 + 4), filter=f"tcp.dstport == {d.dport}")
        if stream is not None:
            tcp.add(f"[Stream index: {stream}]", filter=f"tcp.stream == {stream}")
        tcp.add(f"[TCP segment length: {d.payload_len}]", filter=f"tcp.len == {d.payload_len}")
        tcp.add(f"Sequence number: {seq}" + (f" (relative; raw {d.seq})" if seq != d.seq else ""), (l4 + 4, l4 + 8),
                filter=f"tcp.seq == {seq}")
        tcp.add(f"Acknowledgment number: {ack}" + (f" (relative; raw {d.ack})" if ack != d.ack else ""),
                (l4 + 8, l4 + 12))
        tcp.add(f"Header length: {hl} bytes", (l4 + 12, l4 + 13), filter=f"tcp.hdr_len == {hl}")
        fl = tcp.add(f"Flags: 0x{d.flags:03x} ({flags_text(d.flags) or 'none'})", (l4 + 12, l4 + 14), key="flags",
                     filter=f"tcp.flags == 0x{d.flags:03x}")
        for bit, name, field in FLAG_FIELDS:
            fl.add(f"{name}: {'Set' if d.flags & bit else 'Not set'}", (l4 + 13, l4 + 14),
                   filter=f"tcp.flags.{field} == {1 if d.flags & bit else 0}")
        tcp.add(f"Window: {d.window}", (l4 + 14, l4 + 16), filter=f"tcp.window_size_value == {d.window}")
        tcp.add(f"Checksum: 0x{int.from_bytes(data[l4 + 16:l4 + 18], 'big'):04x} [unverified]", (l4 + 16, l4 + 18))
        if hl > 20:
            opt = tcp.add(f"Options: ({hl - 20} bytes)", (l4 + 20, l4 + hl))
            for k, v in (d.tcp_options or {}).items():
                opt.add(f"{k}: {v}")
        names = analysis_list(bits)
        if names:
            an = tcp.add("[SEQ/ACK analysis]", key="analysis", expand=True)
            for name in names:
                an.add(f"[{ANALYSIS_TEXT.get(name, name)}]  (tcp.analysis.{name})",
                       filter=f"tcp.analysis.{name}")
        nodes.append(tcp)
    elif d.transport == "udp":
        udp = Node(f"User Datagram Protocol, Src Port: {d.sport}, Dst Port: {d.dport}", (l4, l4 + 8),
                   key="udp", expand=True, filter="udp")
        udp.add(f"Source port: {d.sport}", (l4, l4 + 2), filter=f"udp.srcport == {d.sport}")
        udp.add(f"Destination port: {d.dport}", (l4 + 2, l4 + 4), filter=f"udp.dstport == {d.dport}")
        udp.add(f"Length: {d.payload_len + 8}", (l4 + 4, l4 + 6), filter=f"udp.length == {d.payload_len + 8}")
        udp.add(f"Checksum: 0x{int.from_bytes(data[l4 + 6:l4 + 8], 'big'):04x} [unverified]", (l4 + 6, l4 + 8))
        if stream is not None:
            udp.add(f"[Stream index: {stream}]", filter=f"udp.stream == {stream}")
        names = analysis_list(bits)
        for name in names:
            udp.add(f"[{ANALYSIS_TEXT.get(name, name)}]")
        nodes.append(udp)

    return nodes


def _message_nodes(n: int, d, slices) -> list[Node]:
    nodes: list[Node] = []
    if slices:
        po = d.payload_offset
        msgs = Node(f"Messages in this packet: {len(slices)}"
                    + (" (coalesced: several messages share this segment)" if len([s for s in slices if s.first or s.last]) > 1 and len(slices) > 1 else ""),
                    (po, po + d.captured_payload_len), key="messages", expand=True,
                    filter=f"msg.count == {len(slices)}")
        for s in slices:
            m = s.message
            part = "whole message" if s.first and s.last else (
                "first part" if s.first else "last part" if s.last else "middle part")
            mn = msgs.add(f"{m.protocol} message #{m.index} ({m.direction}, {part}): {m.summary}",
                          (po + s.start, po + s.end), key=f"msg{m.index}", expand=True,
                          filter=f'msg.protocol == "{m.protocol}"')
            mn.add(f"Bytes {s.start}-{s.end} of this payload ({s.end - s.start} of the message's {m.length})",
                   (po + s.start, po + s.end), filter=f"msg.len == {m.length}")
            mn.add(f"Stream offset {m.offset} ({m.direction})", filter=f'msg.direction == "{m.direction}"')
            if m.split:
                mn.add("Split over packets " + ", ".join(str(p) for p in m.packets[:50])
                       + (" ..." if len(m.packets) > 50 else ""), filter="msg.split")
            else:
                mn.add(f"Carried entirely by packet {m.packets[0] if m.packets else n}")
            if m.malformed:
                mn.add(f"[Malformed: {m.malformed}]", filter="msg.malformed")
            for k, v in list(m.fields.items())[:40]:
                mn.add(f"{k}: {_short(v)}")
        nodes.append(msgs)
    elif d.transport in ("tcp", "udp") and d.captured_payload_len:
        po = d.payload_offset
        nodes.append(Node(f"Data ({d.captured_payload_len} bytes, no message boundary known yet)",
                          (po, po + d.captured_payload_len), key="data",
                          filter=f"tcp.len == {d.payload_len}" if d.transport == "tcp"
                          else f"udp.length == {d.payload_len + 8}"))

    return nodes


def _short(v) -> str:
    if isinstance(v, (bytes, bytearray)):
        text = repr(bytes(v[:64]))
        return text + (f" ... ({len(v)} bytes)" if len(v) > 64 else "")
    text = str(v)
    return text if len(text) <= 120 else text[:117] + "..."


def scapy_nodes(data: bytes, linktype: int) -> list[Node]:
    """Every layer and field Scapy finds in the frame (only ever for one packet)."""
    try:
        from scapy.layers.inet import IP
        from scapy.layers.inet6 import IPv6
        from scapy.layers.l2 import CookedLinux, Ether
        if linktype == 1:
            pkt = Ether(data)
        elif linktype == 113:
            pkt = CookedLinux(data)
        elif linktype in (101, 228, 229):
            pkt = IPv6(data) if data[:1] and data[0] >> 4 == 6 else IP(data)
        else:
            from scapy.packet import Raw
            pkt = Raw(data)
    except Exception as exc:  # Scapy may fail on odd frames
        return [Node(f"Scapy could not dissect this frame: {exc}")]
    out = []
    layer = pkt
    depth = 0
    while layer is not None and depth < 16:
        node = Node(layer.name)
        for f in layer.fields_desc:
            try:
                node.add(f"{f.name}: {layer.get_field(f.name).i2repr(layer, getattr(layer, f.name))}")
            except Exception:
                node.add(f"{f.name}: {getattr(layer, f.name, '?')!r}")
        out.append(node)
        layer = layer.payload if layer.payload and layer.payload.__class__.__name__ != "NoPayload" else None
        depth += 1
    return out


def wireshark_nodes(path: str, n: int) -> list[Node]:
    """tshark's own dissection of packet n (pyshark, imported on first use: it is slow)."""
    from analyzer.wireshark.pyshark_detail import wireshark_layers
    try:
        layers = wireshark_layers(path, n)
    except Exception as exc:
        return [Node(f"tshark dissection failed: {exc}")]
    return [Node(str(layer), children=[Node(f"{k}: {v}") for k, v in fields])
            for layer, fields in layers]
