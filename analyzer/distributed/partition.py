"""Pass 1 of the distributed summary, one task per capture file: each packet's position,
time and partition.  The partition is a hash of the unordered pair of TCP/UDP endpoints, so
every packet of a conversation (port reuse included) lands in the same partition; packets
the conversation table does not take go to partition 0."""
from __future__ import annotations

import socket
import zlib

import numpy as np

from analyzer.decode import decode_frame
from analyzer.sources.open import open_capture

_MIX = 0x9E3779B97F4A7C15          # Fibonacci hashing of the endpoint-pair key (mod 2**64)
_M64 = (1 << 64) - 1
_HEADER = np.dtype([("offset", "<i8"), ("caplen", "<u4"), ("origlen", "<u4"), ("ts", "<f8"),
                    ("linktype", "<u2")])


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
    return 0 if key is None else (((key * _MIX) & _M64) >> 40) % parts


def _plain_tcp_parts(buf, head: np.ndarray, parts: int) -> tuple[np.ndarray, np.ndarray]:
    """(partition, decided) of every packet, computed at once for the frames decode_frame
    takes on its fast path (plain Ethernet/IPv4/TCP: the same test, so the same verdict);
    `decided` is False where the per-packet decoder must say."""
    n = len(head)
    owner = np.zeros(n, dtype=np.uint16)
    pos, cap = head["offset"], head["caplen"]
    cand = np.nonzero((head["linktype"] == 1) & (cap >= 54))[0]
    if not len(cand):
        return owner, np.zeros(n, dtype=bool)
    # every byte position of the map read as a big-endian 64-bit word (overlapping, no copy)
    words = np.ndarray((len(buf) - 7,), dtype=">u8", buffer=buf, strides=(1,))
    at = pos[cand]
    w12, w20, w28, w36, w44 = (words[at + k].astype(np.uint64) for k in (12, 20, 28, 36, 44))
    del words

    def field(w: np.ndarray, first: int, width: int) -> np.ndarray:   # bytes first.. of w
        return (w >> np.uint64(8 * (8 - first - width))) & np.uint64((1 << 8 * width) - 1)
    total, hl = field(w12, 4, 2), (field(w44, 2, 1) >> np.uint64(4)) * np.uint64(4)
    plain = ((field(w12, 0, 2) == 0x0800) & (field(w12, 2, 1) == 0x45)
             & (field(w20, 3, 1) == 6) & (field(w20, 0, 2) & np.uint64(0x3FFF) == 0)
             & (hl >= 20) & (hl + np.uint64(20) <= total) & (total + np.uint64(14) <= cap[cand]))
    sip = (field(w20, 6, 2) << np.uint64(16)) | field(w28, 0, 2)
    dip = field(w28, 2, 4)
    key = ((sip << np.uint64(16)) | field(w28, 6, 2)) ^ ((dip << np.uint64(16)) | field(w36, 0, 2))
    part = ((key * np.uint64(_MIX)) >> np.uint64(40)) % np.uint64(parts)
    owner[cand[plain]] = part[plain]
    decided = np.zeros(n, dtype=bool)
    decided[cand[plain]] = True
    return owner, decided


def file_pass(path: str, parts: int) -> dict:
    """Every packet of one capture file: offset, caplen, origlen, time, linktype and
    partition (numpy arrays, in file order); the file's size, warnings, and the time range
    ("first_ts" of the first packet; "min_ts", "max_ts": the plan sees from them whether
    files overlap)."""
    src = open_capture(path)
    try:
        head = np.fromiter(src.scan_headers(), dtype=_HEADER, count=-1)
        buf = src.buffer
        owner, decided = _plain_tcp_parts(buf, head, parts)
        for i in np.nonzero(~decided)[0].tolist():
            dpos, cap = int(head["offset"][i]), int(head["caplen"][i])
            key = endpoint_key(int(head["linktype"][i]), bytes(buf[dpos:dpos + cap]),
                               int(head["origlen"][i]))
            owner[i] = part_of_key(key, parts)
        out = {name: np.ascontiguousarray(head[name]) for name in _HEADER.names}
        out["part"] = owner
        ts = out["ts"]
        out.update(path=path, size=src.size, warnings=list(src.warnings), packets=len(ts),
                   first_ts=float(ts[0]) if len(ts) else float("inf"),
                   min_ts=float(ts.min()) if len(ts) else float("inf"),
                   max_ts=float(ts.max()) if len(ts) else float("-inf"))
        return out
    finally:
        src.close()


def file_facts(result: dict) -> dict:
    """What the client needs of a file's pass 1 (the arrays stay on the workers)."""
    return {k: result[k] for k in ("path", "packets", "warnings", "first_ts")}
