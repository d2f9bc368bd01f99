"""The partitions' conversations merged into one `summary --json` object: in order of first
packet, ids renumbered per transport (tshark's tcp.stream / udp.stream numbering)."""
from __future__ import annotations

import heapq
import json
import re

_ID_PREFIX = re.compile(r'\{"id":\d+,')


def write_merged_summary(fp, head: dict, parts: list[list[tuple[int, str, str]]]) -> int:
    """Write the summary object: `head` (file, packets, loopback_duplicates, warnings) then
    every partition's (first packet, transport, conversation JSON) lines merged by first
    packet.  Returns the number of conversations."""
    text = json.dumps(head, separators=(",", ":"))
    fp.write(text[:-1] + ',"conversations":[')
    next_id: dict[str, int] = {}
    k = 0
    for _first, transport, conv in heapq.merge(*parts, key=lambda x: x[0]):
        cid = next_id.get(transport, 0)
        next_id[transport] = cid + 1
        m = _ID_PREFIX.match(conv)
        if m is None:
            raise ValueError("unexpected conversation JSON layout: " + conv[:60])
        if k:
            fp.write(",")
        fp.write('{"id":%d,' % cid)
        fp.write(conv[m.end():])
        k += 1
    fp.write("]}\n")
    return k


def merged_engine_warnings(per_part: list[list[str]]) -> list[str]:
    """The engine's own warnings of all partitions, each once, in order of first appearance."""
    seen: dict[str, None] = {}
    for warnings in per_part:
        for w in warnings:
            seen.setdefault(w, None)
    return list(seen)
