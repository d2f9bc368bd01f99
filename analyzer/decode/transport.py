"""Layer 4: TCP (options parsed), UDP, and labels for ICMP, ICMPv6 and other IP protocols.

`tcp`, `udp` and `other_protocol` fill the ports, TCP header fields and the payload's
offset, length (from the headers) and captured length (bytes present: less when the capture
cut the frame) of the IP payload data[l4:l4 + l4_len].
"""
from __future__ import annotations

import struct

from analyzer.decode.decoded import Decoded
from analyzer.decode.malformed import header_cut

_TCP = struct.Struct("!HHIIBBH").unpack_from       # ports, seq, ack, offset, flags, window
_UDP = struct.Struct("!HHH").unpack_from           # ports, length
_u32_pair = struct.Struct("!II").unpack_from       # timestamp (val, ecr), SACK (left, right)
TS_ONLY = b"\x01\x01\x08\x0a"                      # options NOP NOP TS: every Linux segment
COMPILED = False    # True in the compiled twin (setup.py): numbers read from the bytes in C
_IP_PROTO_NAMES = {1: "ICMP", 2: "IGMP", 6: "TCP", 17: "UDP", 41: "IPv6", 47: "GRE",
                   50: "ESP", 51: "AH", 58: "ICMPv6", 89: "OSPF", 103: "PIM", 112: "VRRP",
                   132: "SCTP", 136: "UDPLite"}


def tcp(d: Decoded, data: bytes, l4: int, l4_len: int, limited: bool) -> None:
    n = len(data)
    d.protocol = "TCP"
    if n < l4 + 20 or l4_len < 20:
        if l4_len < 20 and not limited and n >= l4 + l4_len:
            d.malformed = f"TCP segment of {l4_len} bytes is shorter than a TCP header"
        else:
            header_cut(d, "TCP", limited)
        return
    sport, dport, seq, ack, doff, flags, win = _TCP(data, l4)
    # shown even when the header turns out bad (transport stays "other" then)
    d.sport, d.dport, d.seq, d.ack, d.flags, d.window = sport, dport, seq, ack, flags, win
    hl = (doff >> 4) * 4
    if hl < 20:
        d.malformed = f"bad TCP header length {hl}"
        return
    if hl > l4_len:
        d.malformed = f"TCP header length {hl} exceeds the segment ({l4_len} bytes)"
        return
    if n < l4 + hl:
        header_cut(d, "TCP", limited)
        return
    d.transport = "tcp"
    d.tcp_header_len = hl
    if hl == 32 and data[l4 + 20:l4 + 24] == TS_ONLY:   # no loop: 1.7 instead of 2.0 us a packet
        d.tcp_options = {"ts": _u32_pair(data, l4 + 24)}
    elif hl > 20:
        d.tcp_options = tcp_options(data, l4 + 20, l4 + hl)
    po = d.payload_offset = l4 + hl
    pl = d.payload_len = l4_len - hl
    d.captured_payload_len = max(0, min(pl, n - po))


def udp(d: Decoded, data: bytes, l4: int, l4_len: int, limited: bool) -> None:
    n = len(data)
    d.protocol = "UDP"
    if n < l4 + 8 or l4_len < 8:
        if l4_len < 8 and not limited and n >= l4 + l4_len:
            d.malformed = f"UDP datagram of {l4_len} bytes is shorter than a UDP header"
        else:
            header_cut(d, "UDP", limited)
        return
    sport, dport, ulen = _UDP(data, l4)
    d.sport, d.dport = sport, dport
    if ulen == 0 and d.ip_version == 6:   # jumbogram
        ulen = l4_len
    if ulen < 8:                          # tshark's words; it gives no conversation either
        d.malformed = f"Bad length value {ulen} < 8"
        return
    if ulen > l4_len:                     # kept, with the bytes the IP payload has
        d.malformed = f"Bad length value {ulen} > IP payload length {l4_len}"
        ulen = l4_len
    d.transport = "udp"
    po = d.payload_offset = l4 + 8
    pl = d.payload_len = ulen - 8
    d.captured_payload_len = max(0, min(pl, n - po))


def other_protocol(d: Decoded, proto: int, data: bytes, l4: int, l4_len: int) -> None:
    """ICMP, ICMPv6, SCTP...: labelled; the whole IP payload is the payload."""
    if proto == 1:
        d.transport = "icmp"
    elif proto == 58:
        d.transport = "icmpv6"
    d.protocol = _IP_PROTO_NAMES.get(proto, "IPv4" if d.ip_version == 4 else "IPv6")
    d.payload_offset = l4
    d.payload_len = max(0, l4_len)
    d.captured_payload_len = max(0, min(l4_len, len(data) - l4))


def tcp_options(data: bytes, start: int, end: int) -> dict:
    """TCP options between start and end: only the keys present among mss, wscale,
    sack_perm, sack [(left, right)], ts (val, ecr).  A bad option length ends the parse."""
    end = min(end, len(data))
    opts: dict = {}
    i = start
    while i < end:
        kind = data[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= end:
            break
        ln = data[i + 1]
        if ln < 2 or i + ln > end:
            break
        if kind == 2 and ln == 4:
            opts["mss"] = (data[i + 2] << 8) | data[i + 3]
        elif kind == 3 and ln == 3:
            opts["wscale"] = data[i + 2]
        elif kind == 4 and ln == 2:
            opts["sack_perm"] = True
        elif kind == 5 and ln >= 10 and (ln - 2) % 8 == 0:
            opts["sack"] = [_u32_pair(data, j) for j in range(i + 2, i + ln, 8)]
        elif kind == 8 and ln == 10:
            if COMPILED:
                j = i + 2
                a = (data[j] << 24) | (data[j + 1] << 16) | (data[j + 2] << 8) | data[j + 3]
                j += 4
                b = (data[j] << 24) | (data[j + 1] << 16) | (data[j + 2] << 8) | data[j + 3]
                opts["ts"] = (a, b)
            else:
                opts["ts"] = _u32_pair(data, i + 2)
        i += ln
    return opts

from dissectors.accelerated import accelerate  # noqa: E402 - the compiled twin, setup.py
accelerate(globals())
