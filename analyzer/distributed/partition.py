"""Pass 1 of the distributed summary, one task per capture file: each packet's position,
time and partition.  The partition is a hash of the unordered pair of TCP/UDP endpoints, so
every packet of a conversation (port reuse included) lands in the same partition; packets
that are not TCP/UDP go to partition 0."""
from __future__ import annotations

import socket
import struct
import zlib
from array import array

from analyzer.decode import decode_frame
from analyzer.sources.open import open_capture

_MIX = 0x9E3779B97F4A7C15          # Fibonacci hashing of the endpoint-pair key
# from byte 12 of an Ethernet frame: ethertype, IPv4 version/IHL, flags/fragment offset,
# protocol, source and destination address, source and destination port
_ETH_IP4 = struct.Struct("!HB5xHxB2xIIHH")


def _ip_int(text: str) -> int:
    fam = socket.AF_INET6 if ":" in text else socket.AF_INET
    return int.from_bytes(socket.inet_pton(fam, text), "big")


def endpoint_key(linktype: int, data: bytes, origlen: int) -> int | None:
    """The same number for both directions of a TCP/UDP conversation (None: not a packet
    the conversation table takes)."""
    d = decode_frame(linktype, data, origlen)
    if d.transport not in ("tcp", "udp") or d.payload_offset < 0:
        return None
    try:
        return ((_ip_int(d.src) << 16) | d.sport) ^ ((_ip_int(d.dst) << 16) | d.dport)
    except (OSError, ValueError, TypeError):
        a, b = f"{d.src}|{d.sport}".encode(), f"{d.dst}|{d.dport}".encode()
        return zlib.crc32(min(a, b) + b"/" + max(a, b))


def part_of_key(key: int | None, parts: int) -> int:
    return 0 if key is None else ((key * _MIX) >> 40) % parts


def file_pass(path: str, parts: int) -> dict:
    """Every packet of one capture file: offset, caplen, origlen, time, linktype and
    partition, as array bytes; the file's warnings; its size."""
    src = open_capture(path)
    try:
        offset, caplen, origlen = array("q"), array("I"), array("I")
        ts, link, part = array("d"), array("H"), array("H")
        buf = src.buffer
        peek = _ETH_IP4.unpack_from
        for dpos, cap, orig, t, lt in src.scan_headers():
            owner = -1
            if lt == 1 and cap >= 38:        # plain Ethernet/IPv4/TCP|UDP: a peek is enough
                et, vi, ff, pr, sip, dip, sp, dp = peek(buf, dpos + 12)
                if et == 0x800 and vi == 0x45 and not ff & 0x3FFF and (pr == 6 or pr == 17):
                    owner = ((((sip << 16) | sp) ^ ((dip << 16) | dp)) * _MIX >> 40) % parts
            if owner < 0:
                owner = part_of_key(endpoint_key(lt, bytes(buf[dpos:dpos + cap]), orig), parts)
            offset.append(dpos)
            caplen.append(cap)
            origlen.append(orig)
            ts.append(t)
            link.append(lt)
            part.append(owner)
        return {"path": path, "size": src.size, "warnings": list(src.warnings),
                "offset": offset.tobytes(), "caplen": caplen.tobytes(),
                "origlen": origlen.tobytes(), "ts": ts.tobytes(), "linktype": link.tobytes(),
                "part": part.tobytes()}
    finally:
        src.close()
