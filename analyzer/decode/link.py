"""Link layer: the link types wirelab decodes and where each frame's layer-3 packet starts.

Ethernet (1, with 802.1Q/802.1ad VLAN tags), BSD/OpenBSD loopback (0, 108), Linux cooked
SLL (113) and SLL2 (276), raw IP (12, 101, 228, 229); PPP, PPPoE and Cisco HDLC (9, 50, 51,
104, 204, 205: module ppp) and NFLOG (239: module nflog).  LINK_DECODERS maps each to a
function(d, linktype, data, limited) -> (ethertype, offset of layer 3), or None when the frame
ends at the link layer (d.protocol, d.undecoded and d.malformed say why); `unsupported`
labels the rest.
"""
from __future__ import annotations

import struct
from typing import Callable

from analyzer.decode.addresses import mac_text
from analyzer.decode.decoded import Decoded
from analyzer.decode.ethertypes import ETH_IPV4, ETH_IPV6, Layer3
from analyzer.decode.malformed import header_cut
from analyzer.decode.nflog import nflog
from analyzer.decode.ppp import chdlc_link, ppp_at, ppp_link, pppoe_link
from analyzer.sources import linktypes as LT

_u16 = struct.Struct("!H").unpack_from
_u32le = struct.Struct("<I").unpack_from
_u32be = struct.Struct("!I").unpack_from
_VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)
_MAX_VLAN_TAGS = 4                                 # QinQ: at most a few stacked tags
# AF_INET, then AF_INET6 on OpenBSD/NetBSD, FreeBSD, macOS (Linux's 10 is not among them:
# tshark shows such a packet as data)
_BSD_FAMILIES = {2: ETH_IPV4, 24: ETH_IPV6, 28: ETH_IPV6, 30: ETH_IPV6}
_ETHERNET_MAX_LENGTH = 1500                        # above: an ethertype, not a length


def ethernet(d: Decoded, linktype: int, data: bytes, limited: bool) -> Layer3:
    return ethernet_at(d, data, 0, limited)


def ethernet_at(d: Decoded, data: bytes, start: int, limited: bool) -> Layer3:
    """An Ethernet header at `start` (a frame of its own, or bridged inside a tunnel)."""
    n = len(data)
    if n < start + 14:
        d.protocol = "Ethernet"
        header_cut(d, "Ethernet", limited)
        return None
    etype = _u16(data, start + 12)[0]
    off = start + 14
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
    if etype <= _ETHERNET_MAX_LENGTH:   # 802.3 length field: LLC frame
        d.protocol = "LLC"
        d.undecoded = "802.3 LLC frame"
        d.src, d.dst = mac_text(data[start + 6:start + 12]), mac_text(data[start:start + 6])
        return None
    if etype != ETH_IPV4 and etype != ETH_IPV6:
        d.src, d.dst = mac_text(data[start + 6:start + 12]), mac_text(data[start:start + 6])
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
    """A 4-byte address family, read as tshark reads it: network byte order for OpenBSD
    loopback (108); for BSD loopback (0) the capturing host's order, guessed, a value above
    1500 being an ethertype, and 0xFF 0x03 starting a PPP frame instead."""
    if len(data) < 4:
        d.protocol = "NULL"
        header_cut(d, "loopback", limited)
        return None
    if linktype == LT.LOOP:
        fam = _u32be(data, 0)[0]
    elif data[0] == 0xFF and data[1] == 0x03:
        return ppp_at(d, data, 2, limited)
    else:
        fam = _null_family(_u32le(data, 0)[0])
        if fam > _ETHERNET_MAX_LENGTH:
            return fam & 0xFFFF, 4
    etype = _BSD_FAMILIES.get(fam)
    if etype is not None:
        return etype, 4
    d.protocol = "NULL"
    d.undecoded = f"{LT.name(linktype)} family {fam if fam <= 0xFFFF else hex(fam)}"
    return None


def _null_family(v: int) -> int:
    """tshark's byte-order guess for a BSD loopback header read little-endian."""
    if v & 0xFFFF0000:
        if not v & 0xFF000000 and (v & 0x00FF0000) < 0x00060000:
            return v >> 16
        return int.from_bytes(v.to_bytes(4, "little"), "big")
    if not v & 0xFF and (v & 0xFF00) < 0x0600:
        return v >> 8
    return v


def unsupported(d: Decoded, linktype: int, data: bytes, limited: bool) -> Layer3:
    """Any other link type: listed, not decoded."""
    d.protocol = LT.name(linktype)
    d.malformed = f"unsupported linktype {linktype}"
    d.undecoded = f"{LT.name(linktype)} (linktype {linktype})"
    return None


LINK_DECODERS: dict[int, Callable[[Decoded, int, bytes, bool], Layer3]] = {
    LT.ETHERNET: ethernet, LT.LINUX_SLL: linux_sll, LT.LINUX_SLL2: linux_sll2,
    LT.RAW: raw_ip, LT.RAW_12: raw_ip, LT.IPV4: raw_ip, LT.IPV6: raw_ip,
    LT.NULL: bsd_loopback, LT.LOOP: bsd_loopback,
    LT.PPP: ppp_link, LT.PPP_HDLC: ppp_link, LT.PPP_WITH_DIR: ppp_link, LT.PPP_ETHER: pppoe_link,
    LT.C_HDLC: chdlc_link, LT.C_HDLC_WITH_DIR: chdlc_link, LT.NFLOG: nflog,
}
