"""Minimal classic-pcap reader (happy path).  TO BE HARDENED: see issue 3 (faults 1-7)."""
from __future__ import annotations

import struct
from typing import Iterator

from analyzer.errors import CaptureFormatError
from analyzer.sources.record import Record

_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}


def read_pcap(path: str) -> Iterator[Record]:
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            raise CaptureFormatError(f"{path}: not a capture file (only {len(head)} bytes)")
        if head[:4] not in _MAGICS:
            raise CaptureFormatError(f"{path}: unknown file format (magic {head[:4].hex()})")
        endian, scale = _MAGICS[head[:4]]
        linktype = struct.unpack(endian + "I", head[20:24])[0] & 0x0FFFFFFF
        rec = struct.Struct(endian + "IIII")
        offset = 24
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            sec, frac, caplen, origlen = rec.unpack(h)
            data = f.read(caplen)
            if len(data) < caplen:
                return
            yield Record(sec + frac * scale, linktype, data, origlen, offset + 16)
            offset += 16 + caplen
