"""Link layer: the link types wirelab decodes and where each frame's layer-3 packet starts.

Ethernet (1, with 802.1Q/802.1ad VLAN tags), BSD/OpenBSD loopback (0, 108), Linux cooked
SLL (113) and SLL2 (276), raw IP (12, 101, 228, 229).  LINK_DECODERS maps each to a
function(d, linktype, data, limited) -> (ethertype, offset of layer 3), or None when the frame
ends at the link layer (d.protocol and d.malformed say why); `unsupported` labels the rest.
"""
from __future__ import annotations

import struct
from typing import Callable

from analyzer.decode.addresses import mac_text
from analyzer.decode.decoded import Decoded
from analyzer.decode.malformed import header_cut
from analyzer.sources import linktypes as LT

ETH_IPV4, ETH_IPV6, ETH_ARP = 0x0800, 0x86DD, 0x0806

_u16 = struct.Struct("!H").unpack_from
_u32le = struct.Struct("<I").unpack_from
_u32be = struct.Struct("!I").unpack_from
_VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)
_MAX_VLAN_TAGS = 4                                 # QinQ: at most a few stacked tags
_BSD_AF_INET6 = frozenset((10, 24, 28, 30))        # AF_INET6 on Linux, BSDs, macOS

Layer3 = tuple[int, int] | None                    # (ethertype, offset of layer 3) or None


def ethernet(d: Decoded, linktype: int, data: bytes, limited: bool) -> Layer3:
    n = len(data)
    if n < 14:
        d.protocol = "Ethernet"
        header_cut(d, "Ethernet", limited)
        return None
    etype = _u16(data, 12)[0]
    off = 14
    if etype in _VLAN_TPIDS:
        q_seen = False                  # vlan = the first 802.1Q tag (as tshark's vlan.id)
        for _ in range(_MAX_VLAN_TAGS):
            if n < off + 4:
                d.protocol = "802.1Q"
                header_cut(d, "802.1Q VLAN", limited)
                return None
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
        return None
    if etype != ETH_IPV4 and etype != ETH_IPV6:
        d.src, d.dst = mac_text(data[6:12]), mac_text(data[0:6])
    return etype, off


def linux_sll(d: Decoded, linktype: int, data: bytes, limited: bool) -> Layer3:
    if len(data) < 16:
        d.protocol = "SLL"
        header_cut(d, "Linux cooked", limited)
        return None
    return _u16(data, 14)[0], 16


def linux_sll2(d: Decoded, linktype: int, data: bytes, limited: bool) -> Layer3:
    if len(data) < 20:
        d.protocol = "SLL2"
        header_cut(d, "Linux cooked v2", limited)
        return None
    return _u16(data, 0)[0], 20


def raw_ip(d: Decoded, linktype: int, data: bytes, limited: bool) -> Layer3:
    if linktype == LT.IPV4:
        return ETH_IPV4, 0
    if linktype == LT.IPV6:
        return ETH_IPV6, 0
    if not data:
        d.protocol = "IP"
        header_cut(d, "IP", limited)
        return None
    v = data[0] >> 4                    # raw IP (12, 101): the version nibble decides
    if v == 4:
        return ETH_IPV4, 0
    if v == 6:
        return ETH_IPV6, 0
    d.protocol = "IP"
    d.malformed = f"raw IP packet with IP version {v}"
    return None


def bsd_loopback(d: Decoded, linktype: int, data: bytes, limited: bool) -> Layer3:
    """A 4-byte address family: host byte order (0), network byte order (108)."""
    if len(data) < 4:
        d.protocol = "NULL"
        header_cut(d, "loopback", limited)
        return None
    fam = _u32be(data, 0)[0] if linktype == LT.LOOP else _u32le(data, 0)[0]
    if fam > 0xFFFF:                    # written on a host of the other byte order
        fam = _u32be(data, 0)[0] if linktype == LT.NULL else _u32le(data, 0)[0]
    if fam == 2:
        return ETH_IPV4, 4
    if fam in _BSD_AF_INET6:
        return ETH_IPV6, 4
    d.protocol = "NULL"
    return None


def unsupported(d: Decoded, linktype: int, data: bytes, limited: bool) -> Layer3:
    """Any other link type: listed, not decoded."""
    d.protocol = LT.name(linktype)
    d.malformed = f"unsupported linktype {linktype}"
    return None


LINK_DECODERS: dict[int, Callable[[Decoded, int, bytes, bool], Layer3]] = {
    LT.ETHERNET: ethernet, LT.LINUX_SLL: linux_sll, LT.LINUX_SLL2: linux_sll2,
    LT.RAW: raw_ip, LT.RAW_12: raw_ip, LT.IPV4: raw_ip, LT.IPV6: raw_ip,
    LT.NULL: bsd_loopback, LT.LOOP: bsd_loopback,
}
