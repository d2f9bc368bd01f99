"""Linux NFLOG (link type 239): a 4-byte header (address family, version, resource id), then
TLVs (length including its own 4 bytes, type; each padded to 4 bytes) whose length and type
are in the byte order of the host that captured; TLV 9 (NFULA_PAYLOAD) holds the IP packet."""
from __future__ import annotations

import struct

from analyzer.decode.decoded import Decoded
from analyzer.decode.ethertypes import ETH_IPV4, ETH_IPV6, Layer3
from analyzer.decode.malformed import header_cut

_TLV_LE = struct.Struct("<HH").unpack_from
_TLV_BE = struct.Struct(">HH").unpack_from
_NFULA_PAYLOAD = 9
_FAMILIES = {2: ETH_IPV4, 10: ETH_IPV6}         # Linux AF_INET, AF_INET6
_MAX_TLVS = 64


def _plausible(data: bytes, tlv) -> bool:
    """tshark's test: the first TLV with a non-zero type has a type below 0x100."""
    off, n = 4, len(data)
    for _ in range(_MAX_TLVS):
        if n - off <= 4:
            return False
        length, kind = tlv(data, off)
        if length < 4:
            return False
        kind &= 0x7FFF
        if kind:
            return kind < 0x100
        off += (length + 3) & ~3
    return False


def nflog(d: Decoded, linktype: int, data: bytes, limited: bool) -> Layer3:
    if len(data) < 4:
        d.protocol = "NFLOG"
        header_cut(d, "NFLOG", limited)
        return None
    tlv = _TLV_LE if _plausible(data, _TLV_LE) or not _plausible(data, _TLV_BE) else _TLV_BE
    off, n, payload = 4, len(data), -1
    for _ in range(_MAX_TLVS):
        if n - off < 4:
            break
        length, kind = tlv(data, off)
        if length < 4:
            break
        if kind & 0x7FFF == _NFULA_PAYLOAD:
            payload = off + 4
        off += (length + 3) & ~3
    d.protocol = "NFLOG"
    if payload < 0:
        d.undecoded = "NFLOG without a packet (no NFULA_PAYLOAD)"
        return None
    etype = _FAMILIES.get(data[0])
    if etype is None:
        d.undecoded = f"NFLOG family {data[0]}"
        return None
    return etype, payload
