"""The candidate framings of one direction's bytes, each with its complexity in bits (the
simpler of two framings that cut alike wins).  Length fields are tried at every offset up to
MAX_OFFSET with every size, byte order and header size; a candidate whose first message
cannot fit the stream is dropped before it is scored."""
from __future__ import annotations

from collections import Counter
from math import gcd, log2

from dissectors.base import ProtocolError
from dissectors.framed import SIZES, Framing

MAX_OFFSET = 8                  # a length field after at most 8 bytes of type/magic
HEADER_EXTRAS = (0, 1, 2, 4)    # fixed header bytes after the length field
COMMON_DELIMS = (b"\n", b"\r\n", b"\0")
MIN_RECORD = 2
MAX_RECORD_GUESS = 512


def complexity(f: Framing) -> float:
    """Bits a framing costs: more parameters, more bits."""
    if f.kind == "delim":
        return {b"\r\n": 0.9, b"\n": 1.0, b"\0": 1.5}.get(f.delim, 4.0)
    if f.kind == "fixed":
        return 2.0
    if f.kind == "lenjson":
        return 3.0
    bits = 2.0 + (0.5 if f.size in (2, 4) else 1.0)
    if f.offset:
        bits += 1.0 + 0.25 * f.offset
    extra = f.header - f.offset - f.size
    if extra:
        bits += 2.0 + 0.25 * extra
    if f.includes_header:
        bits += 1.0
    return bits


def _len_framings():
    for offset in range(MAX_OFFSET + 1):
        for size in SIZES:
            for endian in (("be",) if size == 1 else ("be", "le")):
                for extra in HEADER_EXTRAS:
                    for incl in (False, True):
                        yield Framing("len", size=size, endian=endian, offset=offset,
                                      header=offset + size + extra, includes_header=incl)


LEN_FRAMINGS = tuple(_len_framings())
LENJSON_FRAMINGS = tuple(Framing("lenjson", size=s, endian=e, key=k)
                         for s in (2, 4, 8) for e in ("be", "le")
                         for k in ("filesize", "file_size", "size", "length", "len"))


def _first_fits(f: Framing, data: bytes, total: int) -> bool:
    if f.kind == "len":     # Framing.message_length inlined: ~500 candidates a direction
        if len(data) < f.header:
            return False
        n = int.from_bytes(data[f.offset: f.offset + f.size],
                           "little" if f.endian == "le" else "big")
        return f.header <= (n if f.includes_header else f.header + n) <= total
    try:
        n = f.message_length(data, 0, len(data), max_frame=total)
    except (ProtocolError, ValueError):
        return False
    return n is not None and n >= 1 and n <= total


def length_candidates(data: bytes, total: int) -> list[Framing]:
    """Length-prefixed framings whose first message fits in the `total` stream bytes."""
    out = [f for f in LEN_FRAMINGS if _first_fits(f, data, total)]
    if data[4:5] == b"{" or data[2:3] == b"{" or data[8:9] == b"{":
        out += [f for f in LENJSON_FRAMINGS if _first_fits(f, data, total)]
    return out


def delimiter_candidates(data: bytes, ends: list[int]) -> list[Framing]:
    """The common delimiters present, and the byte most often ending a segment."""
    out = [Framing("delim", delim=d) for d in COMMON_DELIMS if d in data]
    last = Counter(data[e - 1] for e in ends if 0 < e <= len(data))
    for byte, _count in last.most_common(2):
        d = bytes([byte])
        if d not in COMMON_DELIMS and d != b"\r":
            out.append(Framing("delim", delim=d))
    return out


def record_candidates(ends: list[int], total: int, complete: bool = True) -> list[Framing]:
    """Fixed records: the sizes up to MAX_RECORD_GUESS (dividing the stream) on whose
    multiples the most segment ends land, beyond what chance gives a smaller size; and the
    commonest segment sizes with their common divisors."""
    sizes = Counter(b - a for a, b in zip([0] + ends[:-1], ends) if b > a)
    common = [n for n, _c in sizes.most_common(6)]
    found: set[int] = set()
    for n in common:
        found.add(n)
        for m in common:
            found.add(gcd(n, m))
    inner = [e for e in ends if 0 < e < total]
    if inner:
        ranked = sorted(range(MIN_RECORD, min(MAX_RECORD_GUESS, total // 2) + 1),
                        key=lambda n: -sum(1 for e in inner if e % n == 0) * log2(n))
        found.update(ranked[:2])
    return [Framing("fixed", record=n) for n in sorted(found)
            if n >= MIN_RECORD and total // n >= 2 and (total % n == 0 or not complete)]


def candidates(data: bytes, ends: list[int], total: int, complete: bool = True) -> list[Framing]:
    """Every framing worth scoring for this direction (`complete`: the stream ends at
    `total`, else it goes on)."""
    return (delimiter_candidates(data, ends) + record_candidates(ends, total, complete)
            + length_candidates(data, total))
