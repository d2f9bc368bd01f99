"""Serial framings that carry IP: PPP (link types 9, 50, 204), PPPoE sessions (ethertype
0x8864, link type 51) and Cisco HDLC (104, 205).

Link-type functions take (d, linktype, data, limited), `pppoe_session` and `ppp_at` take
(d, data, offset, limited); all return (ethertype, offset of the packet PPP carries) or None
with d.protocol, d.undecoded or d.malformed saying why.
"""
from __future__ import annotations

import struct

from analyzer.decode.decoded import Decoded
from analyzer.decode.ethertypes import ETH_IPV4, ETH_IPV6, ETH_MPLS, ETH_MPLS_MC, Layer3
from analyzer.decode.malformed import header_cut
from analyzer.sources import linktypes as LT

_u16 = struct.Struct("!H").unpack_from
_PPP_CARRIES = {0x0021: ETH_IPV4, 0x0057: ETH_IPV6, 0x0281: ETH_MPLS, 0x0283: ETH_MPLS_MC}
_PPP_NAMES = {0xC021: "LCP", 0x8021: "IPCP", 0x8057: "IPV6CP", 0xC023: "PAP", 0xC223: "CHAP",
              0x80FD: "CCP", 0x00FD: "compressed datagram", 0x002D: "VJ compressed TCP/IP",
              0x002F: "VJ uncompressed TCP/IP", 0x003D: "Multilink", 0xC025: "LQR"}
_CHDLC_ADDRESSES = (0x0F, 0x8F)                   # unicast, multicast
_CHDLC_SLARP = 0x8035


def ppp_at(d: Decoded, data: bytes, off: int, limited: bool) -> Layer3:
    """The PPP protocol field at `off` (1 byte when compressed: its low bit set)."""
    n = len(data)
    if n < off + 1 or (not data[off] & 1 and n < off + 2):
        d.protocol = "PPP"
        header_cut(d, "PPP", limited)
        return None
    if data[off] & 1:
        proto, off = data[off], off + 1
    else:
        proto, off = _u16(data, off)[0], off + 2
    etype = _PPP_CARRIES.get(proto)
    if etype is not None:
        return etype, off
    name = _PPP_NAMES.get(proto)
    d.protocol = f"PPP {name}" if name else "PPP"
    d.undecoded = f"PPP protocol 0x{proto:04x}" + (f" ({name})" if name else "")
    return None


def ppp_link(d: Decoded, linktype: int, data: bytes, limited: bool) -> Layer3:
    """PPP (9, 50; 204 after its direction byte): address 0xFF and control 0x03 may be left
    out; an address of 0x0F or 0x8F is Cisco HDLC instead."""
    off = 1 if linktype == LT.PPP_WITH_DIR else 0
    if len(data) < off + 2:
        d.protocol = "PPP"
        header_cut(d, "PPP", limited)
        return None
    if data[off] in _CHDLC_ADDRESSES:
        return chdlc_at(d, data, off, limited)
    if data[off] == 0xFF and data[off + 1] == 0x03:
        off += 2
    return ppp_at(d, data, off, limited)


def chdlc_link(d: Decoded, linktype: int, data: bytes, limited: bool) -> Layer3:
    """Cisco HDLC (104; 205 after its direction byte)."""
    return chdlc_at(d, data, 1 if linktype == LT.C_HDLC_WITH_DIR else 0, limited)


def chdlc_at(d: Decoded, data: bytes, off: int, limited: bool) -> Layer3:
    """Address, control, then a 2-byte protocol that is an ethertype."""
    if len(data) < off + 4:
        d.protocol = "CHDLC"
        header_cut(d, "Cisco HDLC", limited)
        return None
    proto = _u16(data, off + 2)[0]
    if proto == _CHDLC_SLARP:
        d.protocol = "SLARP"
        d.undecoded = "Cisco HDLC SLARP"
        return None
    return proto, off + 4


def pppoe_session(d: Decoded, data: bytes, off: int, limited: bool) -> Layer3:
    """PPPoE session stage: version/type, code, session id, length, then a PPP protocol."""
    if len(data) < off + 6:
        d.protocol = "PPPoES"
        header_cut(d, "PPPoE", limited)
        return None
    if data[off + 1] != 0:              # not session data (tshark does not check version/type)
        d.protocol = "PPPoES"
        d.undecoded = f"PPPoE session code 0x{data[off + 1]:02x}"
        return None
    return ppp_at(d, data, off + 6, limited)


def pppoe_link(d: Decoded, linktype: int, data: bytes, limited: bool) -> Layer3:
    """Link type 51: a PPPoE session header with no Ethernet header before it."""
    return pppoe_session(d, data, 0, limited)
