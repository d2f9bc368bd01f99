"""Layer 3: IPv4 (fragments are labelled, not reassembled), IPv6 with its extension headers,
and labels for what is not IP (ARP, LLDP, ...).

`ipv4` and `ipv6` return (IP protocol, offset of layer 4, its length from the IP header),
or None when the frame ends at layer 3 (d.protocol, d.transport and d.malformed say why);
`not_ip` labels any other ethertype.
"""
from __future__ import annotations

import struct

from analyzer.decode.addresses import ip4_text, ip6_text
from analyzer.decode.decoded import Decoded
from analyzer.decode.ethertypes import ETH_ARP, NAMES, ethertype_text
from analyzer.decode.malformed import header_cut

_IP4 = struct.Struct("!BxHxxHBB2x4s4s").unpack_from     # vihl, total, frag, ttl, proto, src, dst
_IP6 = struct.Struct("!IHBB16s16s").unpack_from          # vtc, plen, next header, hlim, src, dst
_u16 = struct.Struct("!H").unpack_from
_IP6_FRAGMENT, _IP6_AH, _IP6_NO_NEXT = 44, 51, 59
# hop-by-hop, routing, dest opts, mobility, HIP, shim6; fragment and AH have their own layout
_IP6_CHAINED = frozenset((0, 43, 60, 135, 139, 140, _IP6_FRAGMENT, _IP6_AH))
_MAX_IP6_EXT = 8                                   # extension headers followed, at most

Layer4 = tuple[int, int, int] | None               # (IP protocol, l4 offset, l4 length)


def ipv4(d: Decoded, data: bytes, off: int, limited: bool) -> Layer4:
    n = len(data)
    if n < off + 20:
        d.protocol = "IPv4"
        header_cut(d, "IPv4", limited)
        return None
    vihl, total, frag, ttl, proto, src, dst = _IP4(data, off)
    d.ip_version = 4
    d.protocol = "IPv4"
    if vihl >> 4 != 4:
        d.malformed = f"IPv4 header with version {vihl >> 4}"
        return None
    ihl = (vihl & 15) * 4
    if ihl < 20:
        d.malformed = f"bad IPv4 header length {ihl}"
        return None
    if n < off + ihl:
        header_cut(d, "IPv4", limited)
        return None
    d.src, d.dst = ip4_text(src), ip4_text(dst)
    d.ip_proto, d.ttl = proto, ttl
    if total == 0:                      # TSO on the sending host: length not filled in
        total = n - off
    if total < ihl:                     # tshark's words; it gives no conversation either
        d.malformed = f"Bogus IP length ({total}, less than header length {ihl})"
        return None
    if off + total > n and not limited:  # kept: the bytes captured are used, as tshark does
        d.malformed = f"IPv4 total length exceeds packet length ({n - off} bytes)"
        total = n - off
    if frag & 0x3FFF:                   # MF set or a non-zero fragment offset
        d.transport = "ip-fragment"
        d.l4_offset = off + ihl
        return None
    return proto, off + ihl, total - ihl


def ipv6(d: Decoded, data: bytes, off: int, limited: bool) -> Layer4:
    n = len(data)
    if n < off + 40:
        d.protocol = "IPv6"
        header_cut(d, "IPv6", limited)
        return None
    vtc, plen, nh, hlim, src, dst = _IP6(data, off)
    d.ip_version = 6
    d.protocol = "IPv6"
    if vtc >> 28 != 6:
        d.malformed = f"IPv6 header with version {vtc >> 28}"
        return None
    d.src, d.dst = ip6_text(src), ip6_text(dst)
    d.ttl = hlim
    if plen == 0 and nh != _IP6_NO_NEXT:   # jumbogram / TSO: take what was captured
        plen = n - off - 40
    if off + 40 + plen > n and not limited:
        plen = n - off - 40
        d.malformed = f"IPv6 payload length exceeds framing length ({plen} bytes)"
    l4 = off + 40
    ip_end = l4 + plen
    if nh in _IP6_CHAINED:
        found = ipv6_extensions(d, data, nh, l4, ip_end, limited)
        if found is None:
            return None
        nh, l4 = found
    if l4 > ip_end:
        d.malformed = "IPv6 extension headers exceed the payload length"
        return None
    d.ip_proto = nh
    return nh, l4, ip_end - l4


def ipv6_extensions(d: Decoded, data: bytes, nh: int, l4: int, ip_end: int,
                    limited: bool) -> tuple[int, int] | None:
    """Follow the extension header chain from next header `nh` at `l4`: (upper-layer
    protocol, its offset), or None when a header is cut or the packet is a fragment."""
    for _ in range(_MAX_IP6_EXT):
        if nh not in _IP6_CHAINED:
            break
        if l4 + 8 > min(len(data), ip_end):
            d.ip_proto = nh
            header_cut(d, "IPv6 extension", limited and l4 + 8 <= ip_end)
            return None
        if nh == _IP6_FRAGMENT:
            if _u16(data, l4 + 2)[0] & 0xFFF9:   # offset != 0 or M flag
                d.ip_proto = data[l4]
                d.transport = "ip-fragment"
                d.l4_offset = l4 + 8
                return None
            hl = 8
        elif nh == _IP6_AH:
            hl = (data[l4 + 1] + 2) * 4
        else:
            hl = (data[l4 + 1] + 1) * 8
        nh = data[l4]
        l4 += hl
    return nh, l4


def not_ip(d: Decoded, etype: int) -> None:
    """ARP (labelled), LLDP, ... (labelled and counted as not decoded)."""
    if etype == ETH_ARP:
        d.protocol = "ARP"
        d.transport = "arp"
    else:
        d.protocol = NAMES.get(etype, f"0x{etype:04x}")
        d.undecoded = ethertype_text(etype)
