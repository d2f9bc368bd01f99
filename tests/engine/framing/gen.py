"""Generating conversations of each framing family: messages of random sizes, then cut into
segments with coalescing (several messages in one segment) and splitting (one message over
several)."""
from __future__ import annotations

import json
import random
import struct

FAMILIES = ("len4be", "len4le", "len2be", "type2_len4le", "magic_len2be_incl", "len1",
            "len8le", "hdr_then_body", "lf", "crlf", "nul", "pipe", "fixed", "lenjson")


def _body(rng: random.Random, n: int, text: bool) -> bytes:
    if text:
        return bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz ,.ABC0123456789") for _ in range(n))
    return bytes(rng.getrandbits(8) for _ in range(n))


def message(family: str, rng: random.Random, i: int) -> bytes:
    """One message of `family` (random size and contents)."""
    text = rng.random() < 0.5
    n = rng.randrange(1, 300)
    if family == "len4be":
        b = _body(rng, n, text)
        return struct.pack(">I", len(b)) + b
    if family == "len4le":
        b = _body(rng, n, text)
        return struct.pack("<i", len(b)) + b
    if family == "len2be":
        b = _body(rng, n, text)
        return struct.pack(">H", len(b)) + b
    if family == "type2_len4le":
        b = _body(rng, n, text)
        return struct.pack("<HI", rng.choice((1, 2, 3, 7)), len(b)) + b
    if family == "magic_len2be_incl":
        b = _body(rng, n, text)
        return b"\xca\xfe" + struct.pack(">H", len(b) + 4) + b
    if family == "len1":
        b = _body(rng, rng.randrange(1, 60), text)
        return bytes([len(b)]) + b
    if family == "len8le":
        b = _body(rng, n, text)
        return struct.pack("<Q", len(b)) + b
    if family == "hdr_then_body":          # type(1) len(2, be) flags(1) then body
        b = _body(rng, n, text)
        return bytes([rng.randrange(1, 5)]) + struct.pack(">H", len(b)) + bytes([i & 0xFF]) + b
    if family == "lf":
        return _body(rng, rng.randrange(0, 80), True) + b"\n"
    if family == "crlf":
        return _body(rng, rng.randrange(0, 80), True) + b"\r\n"
    if family == "nul":
        return _body(rng, rng.randrange(1, 80), True) + b"\0"
    if family == "pipe":
        return _body(rng, rng.randrange(1, 40), True).replace(b"|", b"-") + b"|"
    if family == "fixed":
        return _body(rng, 24, text)
    if family == "lenjson":
        body = _body(rng, rng.randrange(0, 2000), text)
        head = json.dumps({"file_name": f"f{i}.txt", "file_size": len(body)}).encode()
        return struct.pack("<i", len(head)) + head + body
    raise ValueError(family)


EXPECTED = {"len4be": "len:4:be", "len4le": "len:4:le", "len2be": "len:2:be",
            "type2_len4le": "len:4:le:offset=2", "magic_len2be_incl": "len:2:be:offset=2:includes-header",
            "len1": "len:1:be", "len8le": "len:8:le", "hdr_then_body": "len:2:be:offset=1:header=4",
            "lf": "delim:\\n", "crlf": "delim:\\r\\n", "nul": "delim:\\0", "pipe": "delim:0x7c",
            "fixed": "fixed:24", "lenjson": "lenjson:4:le:file_size"}


def segments(msgs: list[bytes], rng: random.Random, mode: str) -> list[bytes]:
    """The segments a sender's writes became: 'each' one message each, 'coalesce' runs of
    messages glued, 'split' messages cut in pieces, 'mixed' all of these."""
    out: list[bytes] = []
    pending = b""
    for m in msgs:
        how = mode if mode != "mixed" else rng.choice(("each", "coalesce", "split"))
        if how == "coalesce" and rng.random() < 0.7:
            pending += m
            continue
        pending += m
        if how == "split" and len(pending) > 2:
            cuts = sorted(rng.sample(range(1, len(pending)), min(2, len(pending) - 1)))
            for a, b in zip([0] + cuts, cuts + [len(pending)]):
                out.append(pending[a:b])
        else:
            out.append(pending)
        pending = b""
    if pending:
        out.append(pending)
    return out


def conversation(family: str, seed: int, count: int | None = None, mode: str = "mixed"):
    """(messages, segments) of one direction."""
    rng = random.Random(seed)
    msgs = [message(family, rng, i) for i in range(count or rng.randrange(5, 30))]
    return msgs, segments(msgs, rng, mode)
