"""Encapsulations followed to the packet they carry: MPLS label stacks, GRE (version 0, its
optional checksum/key/sequence/routing fields) and VXLAN's 8-byte header.

Each returns (ethertype, offset of the carried packet) like a link-layer decoder, or None
with d.protocol, d.undecoded or d.malformed saying why.  ETH_BRIDGED means an Ethernet
frame follows.
"""
from __future__ import annotations

import struct

from analyzer.decode.decoded import Decoded
from analyzer.decode.ethertypes import (ETH_BRIDGED, ETH_IPV4, ETH_IPV6, ETH_MPLS, ETH_MPLS_MC,
                                        Layer3, ethertype_text)
from analyzer.decode.malformed import header_cut

_u16 = struct.Struct("!H").unpack_from
_GRE = struct.Struct("!HH").unpack_from           # flags and version, protocol type
_GRE_C, _GRE_R, _GRE_K, _GRE_S = 0x8000, 0x4000, 0x2000, 0x1000
_GRE_VERSION = 0x0007
_GRE_FOLLOWED = frozenset((ETH_IPV4, ETH_IPV6, ETH_BRIDGED, ETH_MPLS, ETH_MPLS_MC))
_MAX_MPLS_LABELS = 32
_MAX_GRE_SRES = 16                                 # routing entries followed, at most
_MPLS_BOTTOM = 0x100                               # bottom-of-stack bit of a label entry
VXLAN_PORT = 4789
_VXLAN_HEADER = 8


def mpls(d: Decoded, data: bytes, off: int, limited: bool) -> Layer3:
    """Labels up to bottom of stack; then, as tshark guesses, IPv4 or IPv6 by the first
    nibble, else an Ethernet pseudowire (after a 4-byte control word when the nibble is 0)."""
    n = len(data)
    for _ in range(_MAX_MPLS_LABELS):
        if n < off + 4:
            d.protocol = "MPLS"
            header_cut(d, "MPLS", limited)
            return None
        bottom = data[off + 2] & 1
        off += 4
        if bottom:
            break
    else:
        d.protocol = "MPLS"
        d.undecoded = f"MPLS label stack deeper than {_MAX_MPLS_LABELS}"
        return None
    if off >= n:
        d.protocol = "MPLS"
        header_cut(d, "MPLS payload", limited)
        return None
    nibble = data[off] >> 4
    if nibble == 4:
        return ETH_IPV4, off
    if nibble == 6:
        return ETH_IPV6, off
    return ETH_BRIDGED, off + 4 if nibble == 0 else off


def gre(d: Decoded, data: bytes, off: int, limited: bool) -> Layer3:
    n = len(data)
    d.protocol = "GRE"
    if n < off + 4:
        header_cut(d, "GRE", limited)
        return None
    flags, proto = _GRE(data, off)
    if flags & _GRE_VERSION:
        version = flags & _GRE_VERSION
        d.undecoded = "GRE version 1 (PPTP)" if version == 1 else f"GRE version {version}"
        return None
    off += 4
    if flags & (_GRE_C | _GRE_R):
        off += 4                        # checksum and offset
    if flags & _GRE_K:
        off += 4
    if flags & _GRE_S:
        off += 4
    if flags & _GRE_R:
        off = _gre_routing(data, off)
    if off < 0 or n < off:
        header_cut(d, "GRE", limited)
        return None
    if proto in _GRE_FOLLOWED:
        return proto, off
    d.undecoded = "GRE carrying " + ethertype_text(proto)
    return None


def _gre_routing(data: bytes, off: int) -> int:
    """Skip the source route entries (family, offset, length, entry) to the empty one."""
    for _ in range(_MAX_GRE_SRES):
        if len(data) < off + 4:
            return -1
        length = data[off + 3]
        off += 4 + length
        if length == 0:
            return off
    return -1


def vxlan(d: Decoded, data: bytes, off: int, limited: bool) -> Layer3:
    """The 8-byte VXLAN header (flags, VNI); an Ethernet frame follows."""
    if len(data) < off + _VXLAN_HEADER:
        d.protocol = "VXLAN"
        header_cut(d, "VXLAN", limited)
        return None
    return ETH_BRIDGED, off + _VXLAN_HEADER
