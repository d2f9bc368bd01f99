"""Follow stream as `tshark -q -z follow,PROTO,MODE,N` prints it (pure: chunks in, text out).

    follow_text(conv, chunks, mode)  -> str       mode: "ascii" | "hex" | "raw"

One block per chunk of bytes a packet delivered, in the order the engine delivers them;
the server's blocks are indented with a tab, as tshark does.  Missing bytes (gaps) are not
printed, as in tshark.
"""
from __future__ import annotations

RULE = "=" * 67
MODES = ("ascii", "hex", "raw")


def _ascii(data: bytes) -> str:
    return "".join(chr(b) if 32 <= b < 127 or b == 10 else "." for b in data)


def _hex_lines(data: bytes, offset: int, indent: str) -> list[str]:
    lines = []
    for i in range(0, len(data), 16):
        row = data[i: i + 16]
        hexes = "".join(f"{b:02x} " + (" " if j == 7 else "") for j, b in enumerate(row))
        hexes = hexes.ljust(49)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        if len(text) > 8:
            text = text[:8] + " " + text[8:]
        lines.append(f"{indent}{offset + i:08X}  {hexes} {text}".rstrip(" "))
    return lines


def follow_text(conv, chunks, mode: str = "ascii") -> str:
    if mode not in MODES:
        raise ValueError(f"unknown follow mode {mode!r}")
    out = ["", RULE, f"Follow: {conv.transport},{mode}",
           f"Filter: {conv.transport}.stream eq {conv.id}",
           f"Node 0: {conv.client}", f"Node 1: {conv.server}"]
    for ch in chunks:
        if ch.gap or not ch.data:
            continue
        indent = "" if ch.direction == "c2s" else "\t"
        if mode == "ascii":
            out.append(f"{indent}{len(ch.data)}")
            out.append(_ascii(ch.data))
        elif mode == "hex":
            out.extend(_hex_lines(ch.data, ch.offset, indent))
        else:
            out.append(indent + ch.data.hex())
    out.append(RULE)
    return "\n".join(out) + "\n"
