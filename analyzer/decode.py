"""Bulk frame decoder: link layer, IPv4/IPv6, TCP/UDP with structs compiled once, no Scapy.

`decode_frame(linktype, data, origlen)` never raises: a header it cannot decode sets
`Decoded.malformed` to the reason ("truncated TCP header", "bad IPv4 total length 12"...).
When the frame was cut by the capture's snaplen (caplen < origlen), a cut header reads
"packet size limited during capture (TCP header cut)"; a cut *payload* is not malformed at
all: `payload_len` (from the headers) > `captured_payload_len` (bytes present).

Link types: Ethernet (1, with 802.1Q/802.1ad VLAN tags), BSD/OpenBSD loopback (0, 108),
Linux SLL (113) and SLL2 (276), raw IP (12, 101, 228, 229).  Layer 3: IPv4 (fragments are
labelled, not reassembled), IPv6 with extension headers, ARP.  Layer 4: TCP (options parsed),
UDP, ICMP, ICMPv6; anything else is still labelled for the packet list.
"""
from __future__ import annotations

import socket
import struct

from analyzer.model import Decoded
from analyzer.sources import linktypes as LT

_u16 = struct.Struct("!H").unpack_from
_u32le = struct.Struct("<I").unpack_from
_u32be = struct.Struct("!I").unpack_from
_IP4 = struct.Struct("!BBHHHBBH4s4s").unpack_from
_IP6 = struct.Struct("!IHBB16s16s").unpack_from
_TCP = struct.Struct("!HHIIBBH").unpack_from       # ports, seq, ack, offset, flags, window
_UDP = struct.Struct("!HHH").unpack_from           # ports, length
_TS = struct.Struct("!II").unpack_from
_MSS = _u16
_TS_PREFIX = b"\x01\x01\x08\x0a"                   # NOP NOP TS: every Linux segment
_NOP_NOP_TS = struct.Struct("!III").unpack_from    # that prefix as an int, then val, ecr

ETH_IPV4, ETH_IPV6, ETH_ARP = 0x0800, 0x86DD, 0x0806
_VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)
_ETHERTYPE_NAMES = {ETH_ARP: "ARP", 0x8035: "RARP", 0x88CC: "LLDP", 0x888E: "EAPOL",
                    0x8863: "PPPoED", 0x8864: "PPPoES", 0x8847: "MPLS", 0x8848: "MPLS",
                    0x88F7: "PTP", 0x0842: "WOL", 0x9000: "LOOP"}
_IP_PROTO_NAMES = {1: "ICMP", 2: "IGMP", 6: "TCP", 17: "UDP", 41: "IPv6", 47: "GRE",
                   50: "ESP", 51: "AH", 58: "ICMPv6", 89: "OSPF", 103: "PIM", 112: "VRRP",
                   132: "SCTP", 136: "UDPLite"}
_IP6_EXT = frozenset((0, 43, 60, 135, 139, 140))   # hop-by-hop, routing, dest opts, mobility...
_BSD_AF_INET6 = frozenset((10, 24, 28, 30))        # AF_INET6 on Linux, BSDs, macOS

# address text caches (bounded): the same few addresses repeat in every capture
_ADDR_CACHE: dict[bytes, str] = {}
_ADDR_CACHE_MAX = 65536


def ip4_text(b: bytes) -> str:
    s = _ADDR_CACHE.get(b)
    if s is None:
        if len(_ADDR_CACHE) >= _ADDR_CACHE_MAX:
            _ADDR_CACHE.clear()
        s = _ADDR_CACHE[b] = socket.inet_ntoa(b)
    return s


def ip6_text(b: bytes) -> str:
    s = _ADDR_CACHE.get(b)
    if s is None:
        if len(_ADDR_CACHE) >= _ADDR_CACHE_MAX:
            _ADDR_CACHE.clear()
        s = _ADDR_CACHE[b] = socket.inet_ntop(socket.AF_INET6, b)
    return s


def mac_text(b: bytes) -> str:
    return bytes(b).hex(":")


_FAST_ETH_IP4_TCP = struct.Struct("!12xHBBHHHBBH4s4sHHIIBBH").unpack_from
_alloc = object.__new__


def decode_frame(linktype: int, data: bytes, origlen: int | None = None) -> Decoded:
    """Decode one captured frame.  Never raises; see the module docstring."""
    if linktype == 1 and type(data) is bytes and len(data) >= 54:
        # fast path: complete Ethernet / IPv4 without options / TCP (most of any capture)
        (etype, vihl, _tos, total, _id, frag, ttl, proto, _ck, src, dst,
         sport, dport, seq, ack, doff, flags, win) = _FAST_ETH_IP4_TCP(data, 0)
        hl = (doff >> 4) << 2
        if (etype == 0x0800 and vihl == 0x45 and proto == 6 and not frag & 0x3FFF
                and 20 <= hl <= total - 20 and 14 + total <= len(data)):
            d = _alloc(Decoded)
            d.linktype = 1
            d.l3_offset = 14
            d.l4_offset = 34
            d.payload_offset = po = 34 + hl
            d.ip_version = 4
            cache = _ADDR_CACHE
            a = cache.get(src)
            d.src = a if a is not None else ip4_text(src)
            a = cache.get(dst)
            d.dst = a if a is not None else ip4_text(dst)
            d.ip_proto = 6
            d.ttl = ttl
            d.transport = "tcp"
            d.sport = sport
            d.dport = dport
            d.seq = seq
            d.ack = ack
            d.flags = flags
            d.window = win
            d.tcp_header_len = hl
            if hl == 20:
                d.tcp_options = None
            else:
                opt = _NOP_NOP_TS(data, 54) if hl == 32 else None
                if opt is not None and opt[0] == 0x0101080A:
                    d.tcp_options = {"ts": (opt[1], opt[2])}
                else:
                    d.tcp_options = tcp_options(data, 54, po)
            d.payload_len = d.captured_payload_len = total - 20 - hl
            d.protocol = "TCP"
            d.malformed = None
            d.vlan = None
            return d
    return decode_general(linktype, data, origlen)


def decode_general(linktype: int, data: bytes, origlen: int | None = None) -> Decoded:
    """decode_frame without its fast path (every link type and layer; never raises)."""
    d = Decoded()
    d.linktype = linktype
    try:
        if not isinstance(data, bytes):
            data = bytes(data)
        limited = origlen is not None and origlen > len(data)
        _decode(d, linktype, data, limited)
    except Exception as exc:  # noqa: BLE001 - last resort: the decoder must never raise
        if d.malformed is None:
            d.malformed = f"undecodable frame ({type(exc).__name__}: {exc})"
    return d


def _cut(d: Decoded, what: str, limited: bool) -> None:
    d.malformed = (f"packet size limited during capture ({what} header cut)" if limited
                   else f"truncated {what} header")


def _decode(d: Decoded, linktype: int, data: bytes, limited: bool) -> None:
    n = len(data)
    # ---- link layer -> (ethertype, offset of layer 3) --------------------------------
    if linktype == 1:
        if n < 14:
            d.protocol = "Ethernet"
            _cut(d, "Ethernet", limited)
            return
        etype = _u16(data, 12)[0]
        off = 14
        if etype in _VLAN_TPIDS:
            q_seen = False                  # vlan = the first 802.1Q tag (as tshark's vlan.id)
            for _ in range(4):              # QinQ: at most a few stacked tags
                if n < off + 4:
                    d.protocol = "802.1Q"
                    _cut(d, "802.1Q VLAN", limited)
                    return
                if d.vlan is None or (etype == 0x8100 and not q_seen):
                    d.vlan = _u16(data, off)[0] & 0x0FFF
                    q_seen = etype == 0x8100
                etype = _u16(data, off + 2)[0]
                off += 4
                if etype not in _VLAN_TPIDS:
                    break
        if etype <= 1500:                   # 802.3 length field: LLC frame
            d.protocol = "LLC"
            d.src, d.dst = mac_text(data[6:12]), mac_text(data[0:6])
            return
        if etype != ETH_IPV4 and etype != ETH_IPV6:
            d.src, d.dst = mac_text(data[6:12]), mac_text(data[0:6])
    elif linktype == 113:                   # Linux cooked v1
        if n < 16:
            d.protocol = "SLL"
            _cut(d, "Linux cooked", limited)
            return
        etype = _u16(data, 14)[0]
        off = 16
    elif linktype == 276:                   # Linux cooked v2
        if n < 20:
            d.protocol = "SLL2"
            _cut(d, "Linux cooked v2", limited)
            return
        etype = _u16(data, 0)[0]
        off = 20
    elif linktype in (101, 12, 228, 229):   # raw IP
        off = 0
        if linktype == 228:
            etype = ETH_IPV4
        elif linktype == 229:
            etype = ETH_IPV6
        elif n < 1:
            d.protocol = "IP"
            _cut(d, "IP", limited)
            return
        else:
            v = data[0] >> 4
            etype = ETH_IPV4 if v == 4 else ETH_IPV6 if v == 6 else -1
            if etype < 0:
                d.protocol = "IP"
                d.malformed = f"raw IP packet with IP version {v}"
                return
    elif linktype == 0 or linktype == 108:  # BSD loopback: address family
        if n < 4:
            d.protocol = "NULL"
            _cut(d, "loopback", limited)
            return
        fam = _u32be(data, 0)[0] if linktype == 108 else _u32le(data, 0)[0]
        if fam > 0xFFFF:                    # written on a host of the other byte order
            fam = _u32be(data, 0)[0] if linktype == 0 else _u32le(data, 0)[0]
        off = 4
        etype = ETH_IPV4 if fam == 2 else ETH_IPV6 if fam in _BSD_AF_INET6 else -1
        if etype < 0:
            d.protocol = "NULL"
            d.malformed = None
            return
    else:
        d.protocol = LT.name(linktype)
        d.malformed = f"unsupported linktype {linktype}"
        return

    # ---- layer 3 ----------------------------------------------------------------------
    d.l3_offset = off
    if etype == ETH_IPV4:
        if n < off + 20:
            d.protocol = "IPv4"
            _cut(d, "IPv4", limited)
            return
        vihl, _tos, total, _id, frag, ttl, proto, _ck, src, dst = _IP4(data, off)
        d.ip_version = 4
        d.protocol = "IPv4"
        if vihl >> 4 != 4:
            d.malformed = f"IPv4 header with version {vihl >> 4}"
            return
        ihl = (vihl & 15) * 4
        if ihl < 20:
            d.malformed = f"bad IPv4 header length {ihl}"
            return
        if n < off + ihl:
            _cut(d, "IPv4", limited)
            return
        d.src, d.dst = ip4_text(src), ip4_text(dst)
        d.ip_proto, d.ttl = proto, ttl
        if total == 0:                      # TSO on the sending host: length not filled in
            total = n - off
        if total < ihl:
            d.malformed = f"bad IPv4 total length {total}"
            return
        if off + total > n and not limited:
            d.malformed = f"IPv4 total length {total} exceeds the captured frame"
            total = n - off
        if frag & 0x3FFF:                   # MF set or a non-zero fragment offset
            d.transport = "ip-fragment"
            d.protocol = "IPv4"
            d.l4_offset = off + ihl
            return
        l4 = off + ihl
        l4_len = total - ihl
    elif etype == ETH_IPV6:
        if n < off + 40:
            d.protocol = "IPv6"
            _cut(d, "IPv6", limited)
            return
        vtc, plen, nh, hlim, src, dst = _IP6(data, off)
        d.ip_version = 6
        d.protocol = "IPv6"
        if vtc >> 28 != 6:
            d.malformed = f"IPv6 header with version {vtc >> 28}"
            return
        d.src, d.dst = ip6_text(src), ip6_text(dst)
        d.ttl = hlim
        if plen == 0 and nh != 59:          # jumbogram / TSO: take what was captured
            plen = n - off - 40
        if off + 40 + plen > n and not limited:
            d.malformed = f"IPv6 payload length {plen} exceeds the captured frame"
            plen = n - off - 40
        l4 = off + 40
        ip_end = l4 + plen
        for _ in range(8):                  # extension header chain, bounded
            if nh in _IP6_EXT or nh == 51 or nh == 44:
                if l4 + 8 > min(n, ip_end):
                    d.ip_proto = nh
                    _cut(d, "IPv6 extension", limited and l4 + 8 <= ip_end)
                    return
                if nh == 44:                # fragment header
                    if _u16(data, l4 + 2)[0] & 0xFFF9:   # offset != 0 or M flag
                        d.ip_proto = data[l4]
                        d.transport = "ip-fragment"
                        d.l4_offset = l4 + 8
                        return
                    hl = 8
                elif nh == 51:
                    hl = (data[l4 + 1] + 2) * 4
                else:
                    hl = (data[l4 + 1] + 1) * 8
                nh = data[l4]
                l4 += hl
            else:
                break
        if l4 > ip_end:
            d.malformed = "IPv6 extension headers exceed the payload length"
            return
        d.ip_proto = proto = nh
        l4_len = ip_end - l4
    elif etype == ETH_ARP:
        d.protocol = "ARP"
        d.transport = "arp"
        return
    else:
        d.protocol = _ETHERTYPE_NAMES.get(etype, f"0x{etype:04x}")
        return

    # ---- layer 4 ----------------------------------------------------------------------
    d.l4_offset = l4
    if proto == 6:
        d.protocol = "TCP"
        if n < l4 + 20 or l4_len < 20:
            if l4_len < 20 and not limited and n >= l4 + l4_len:
                d.malformed = f"TCP segment of {l4_len} bytes is shorter than a TCP header"
            else:
                _cut(d, "TCP", limited)
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
            _cut(d, "TCP", limited)
            return
        d.transport = "tcp"
        d.tcp_header_len = hl
        if hl > 20:
            if hl == 32 and data[l4 + 20:l4 + 24] == _TS_PREFIX:
                d.tcp_options = {"ts": _TS(data, l4 + 24)}
            else:
                d.tcp_options = tcp_options(data, l4 + 20, l4 + hl)
        po = d.payload_offset = l4 + hl
        pl = d.payload_len = l4_len - hl
    elif proto == 17:
        d.protocol = "UDP"
        if n < l4 + 8 or l4_len < 8:
            if l4_len < 8 and not limited and n >= l4 + l4_len:
                d.malformed = f"UDP datagram of {l4_len} bytes is shorter than a UDP header"
            else:
                _cut(d, "UDP", limited)
            return
        sport, dport, ulen = _UDP(data, l4)
        d.transport = "udp"
        d.sport, d.dport = sport, dport
        if ulen == 0 and d.ip_version == 6:   # jumbogram
            ulen = l4_len
        if ulen < 8:
            d.malformed = f"bad UDP length {ulen}"
            ulen = l4_len
        elif ulen > l4_len:
            d.malformed = f"UDP length {ulen} exceeds the IP payload ({l4_len} bytes)"
            ulen = l4_len
        po = d.payload_offset = l4 + 8
        pl = d.payload_len = ulen - 8
    else:
        if proto == 1:
            d.transport = "icmp"
        elif proto == 58:
            d.transport = "icmpv6"
        d.protocol = _IP_PROTO_NAMES.get(proto, "IPv4" if d.ip_version == 4 else "IPv6")
        d.payload_offset = l4
        d.payload_len = max(0, l4_len)
        d.captured_payload_len = max(0, min(l4_len, n - l4))
        return
    avail = n - po
    d.captured_payload_len = pl if pl <= avail else (avail if avail > 0 else 0)


def tcp_options(data: bytes, start: int, end: int) -> dict:
    """TCP options between start and end: only the keys present among mss, wscale,
    sack_perm, sack [(left, right)], ts (val, ecr).  A bad option length ends the parse."""
    opts: dict = {}
    i = start
    end = min(end, len(data))
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
            opts["mss"] = _MSS(data, i + 2)[0]
        elif kind == 3 and ln == 3:
            opts["wscale"] = data[i + 2]
        elif kind == 4 and ln == 2:
            opts["sack_perm"] = True
        elif kind == 5 and ln >= 10 and (ln - 2) % 8 == 0:
            opts["sack"] = [_TS(data, j) for j in range(i + 2, i + ln, 8)]
        elif kind == 8 and ln == 10:
            opts["ts"] = _TS(data, i + 2)
        i += ln
    return opts
