"""Byte-by-byte builders for pcap/pcapng files (broken ones included) used by the tests."""
from __future__ import annotations

import struct

from scapy.all import IP, TCP, UDP, Ether, raw


def frames(n: int = 3) -> list[bytes]:
    """n distinct small Ethernet/IPv4/TCP frames."""
    return [raw(Ether(dst="00:00:00:00:00:01") / IP(src="127.0.0.1", dst="127.0.0.1") /
                TCP(sport=40000 + i, dport=9001, seq=1000 * i, flags="PA") / (b"x" * (i + 1)))
            for i in range(n)]


def udp_frame(payload: bytes = b"hello") -> bytes:
    return raw(Ether(dst="00:00:00:00:00:01") / IP(src="127.0.0.1", dst="127.0.0.2") / UDP(sport=5555, dport=9005) /
               payload)


def pcap_bytes(records, linktype: int = 1, endian: str = "<", nano: bool = False,
               snaplen: int = 262144) -> bytes:
    """records: [(ts_sec, frac, data)] or [(ts_sec, frac, data, origlen)]."""
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for r in records:
        sec, frac, data = r[:3]
        orig = r[3] if len(r) > 3 else len(data)
        out.append(struct.pack(endian + "IIII", sec, frac, len(data), orig) + data)
    return b"".join(out)


def _opt(e: str, code: int, value: bytes) -> bytes:
    pad = (-len(value)) % 4
    return struct.pack(e + "HH", code, len(value)) + value + b"\0" * pad


def block(e: str, btype: int, body: bytes) -> bytes:
    body += b"\0" * ((-len(body)) % 4)
    n = 12 + len(body)
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def shb(e: str = "<") -> bytes:
    return block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1))


def idb(e: str, linktype: int, snaplen: int = 0, tsresol: int | None = None,
        tsoffset: int | None = None) -> bytes:
    body = struct.pack(e + "HHI", linktype, 0, snaplen)
    opts = b""
    if tsresol is not None:
        opts += _opt(e, 9, bytes([tsresol]))
    if tsoffset is not None:
        opts += _opt(e, 14, struct.pack(e + "q", tsoffset))
    if opts:
        body += opts + _opt(e, 0, b"")
    return block(e, 1, body)


def epb(e: str, ifid: int, ticks: int, data: bytes, origlen: int | None = None) -> bytes:
    body = struct.pack(e + "IIIII", ifid, ticks >> 32, ticks & 0xFFFFFFFF, len(data),
                       len(data) if origlen is None else origlen) + data
    return block(e, 6, body)


def spb(e: str, data: bytes) -> bytes:
    return block(e, 3, struct.pack(e + "I", len(data)) + data)


def opb(e: str, ifid: int, ticks: int, data: bytes) -> bytes:
    body = struct.pack(e + "HHIIII", ifid, 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data),
                       len(data)) + data
    return block(e, 2, body)


def write(tmp_path, name: str, content: bytes) -> str:
    p = tmp_path / name
    p.write_bytes(content)
    return str(p)
