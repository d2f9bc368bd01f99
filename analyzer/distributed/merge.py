"""The partitions' conversations merged into one `summary --json` object: in order of first
packet, ids renumbered per transport (tshark's tcp.stream / udp.stream numbering).  The
partitions' JSON is spliced as it came, never parsed again."""
from __future__ import annotations

import json

import numpy as np

_BATCH = 4096             # conversations written at a time


def write_merged_summary(fp, head: dict, parts: list[dict]) -> int:
    """Write the summary object: `head` (file, packets, loopback_duplicates, warnings) then
    every partition's conversations (analyzer.distributed.part.conversations_blob, at least
    one partition) merged by first packet.  Returns the number of conversations."""
    text = json.dumps(head, separators=(",", ":"))
    fp.write(text[:-1] + ',"conversations":[')
    names: dict[str, int] = {}
    kind = np.concatenate([np.array([names.setdefault(t, len(names)) for t in p["transports"]],
                                    dtype=np.int64)[p["kind"]] for p in parts])
    first = np.concatenate([p["first"] for p in parts])
    part = np.concatenate([np.full(len(p["first"]), i) for i, p in enumerate(parts)])
    local = np.concatenate([np.arange(len(p["first"])) for p in parts])
    order = np.argsort(first, kind="stable")
    ids = np.empty(len(order), dtype=np.int64)
    for t in range(len(names)):         # each transport numbered on its own, 0, 1, 2...
        mine = order[kind[order] == t]
        ids[mine] = np.arange(len(mine))
    blobs = [memoryview(p["blob"]) for p in parts]
    ends = [p["ends"].tolist() for p in parts]
    part_of, local_of, id_of = part.tolist(), local.tolist(), ids.tolist()
    for a in range(0, len(order), _BATCH):
        out = []
        for i in order[a:a + _BATCH].tolist():
            p, j = part_of[i], local_of[i]
            out.append((b',{"id":%d,' if a or out else b'{"id":%d,') % id_of[i])
            out.append(blobs[p][ends[p][j - 1] if j else 0:ends[p][j]])
        fp.write(b"".join(out).decode())
    fp.write("]}\n")
    return len(order)


def merged_engine_warnings(per_part: list[list[str]]) -> list[str]:
    """The engine's own warnings of all partitions, each once, in order of first appearance."""
    seen: dict[str, None] = {}
    for warnings in per_part:
        for w in warnings:
            seen.setdefault(w, None)
    return list(seen)
