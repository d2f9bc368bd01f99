"""Bulk frame decoder: link layer, IPv4/IPv6, TCP/UDP with structs compiled once.

Minimal version (Ethernet, raw IPv4/IPv6, IPv4, TCP, UDP).  TO BE EXTENDED by issue 3:
SLL/SLL2/BSD loopback, VLAN, IPv6 extension headers, TCP options, malformed marks.
"""
from __future__ import annotations

import socket
import struct

from analyzer.model import Decoded

_ETH = struct.Struct("!6s6sH")
_IP4 = struct.Struct("!BBHHHBBH4s4s")
_TCP = struct.Struct("!HHIIBBHHH")
_UDP = struct.Struct("!HHHH")


def decode_frame(linktype: int, data: bytes, origlen: int | None = None) -> Decoded:
    d = Decoded()
    d.linktype = linktype
    if linktype == 1:
        if len(data) < 14:
            d.malformed = "truncated Ethernet header"
            return d
        ethertype = _ETH.unpack_from(data, 0)[2]
        off = 14
    elif linktype in (101, 228, 229):
        ethertype = 0x0800 if data[:1] and data[0] >> 4 == 4 else 0x86DD
        off = 0
    else:
        d.malformed = f"unsupported linktype {linktype}"
        return d
    d.l3_offset = off
    if ethertype == 0x0800:
        ver_ihl, _tos, total, _id, _frag, ttl, proto, _ck, src, dst = _IP4.unpack_from(data, off)
        ihl = (ver_ihl & 15) * 4
        d.ip_version = 4
        d.src, d.dst = socket.inet_ntoa(src), socket.inet_ntoa(dst)
        d.ip_proto, d.ttl = proto, ttl
        l4 = off + ihl
        l4_len = total - ihl
    else:
        d.protocol = "OTHER"
        return d
    d.l4_offset = l4
    if proto == 6:
        sport, dport, seq, ack, doff, flags, win, _ck, _urg = _TCP.unpack_from(data, l4)
        hl = (doff >> 4) * 4
        d.transport, d.protocol = "tcp", "TCP"
        d.sport, d.dport, d.seq, d.ack, d.flags, d.window = sport, dport, seq, ack, flags, win
        d.tcp_header_len = hl
        d.payload_offset = l4 + hl
        d.payload_len = l4_len - hl
    elif proto == 17:
        sport, dport, ulen, _ck = _UDP.unpack_from(data, l4)
        d.transport, d.protocol = "udp", "UDP"
        d.sport, d.dport = sport, dport
        d.payload_offset = l4 + 8
        d.payload_len = ulen - 8
    d.captured_payload_len = max(0, min(d.payload_len, len(data) - d.payload_offset))
    return d
