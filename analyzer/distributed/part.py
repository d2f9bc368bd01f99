"""Pass 2 of the distributed summary, one task per partition: an ordinary Engine fed the
partition's packets in capture order (numbered locally 1..k), its conversations written as
summary JSON lines with the packet numbers translated back to global ones."""
from __future__ import annotations

import gc
import json
import re
from array import array

import numpy as np

from analyzer.engine import Engine, new_engine_for
from analyzer.render.summary_json import (conversation_json, conversation_json_text,
                                          loopback_duplicates)
from analyzer.sources.merged import MergedSource
from analyzer.sources.record import Record

_new = tuple.__new__      # a Record without NamedTuple.__new__'s argument parsing

_NUMBERS = re.compile(r'"(first_packet|last_packet)":(\d+)|"(frames|coalesced_packets)":\[([\d,]*)\]')


def analyze_partition(paths: list[str], table: dict, decode_as, sidecar, display_path: str,
                      summaries: bool = False) -> dict:
    """{"lines": [(first packet, transport, JSON text)], "fed", "loopback_duplicates",
    "warnings"} for one partition (`table` from analyzer.distributed.plan)."""
    src = MergedSource(paths, ordered=True)
    try:
        eng = new_engine_for(display_path, src, decode_as, sidecar, summary_only=True)
        glob = array("I", (int(g) for g in table["number"]))
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            eng.feed_many(_records(eng, src, table))
        finally:
            if gc_was_enabled:
                gc.enable()
        eng.finish()
        lines = list(conversation_lines(eng, glob, summaries))
        return {"lines": lines, "fed": len(glob), "loopback_duplicates": loopback_duplicates(eng),
                "warnings": list(eng.warnings)}
    finally:
        src.close()


def _records(eng: Engine, src: MergedSource, table: dict):
    """The partition's Records in capture order, sliced straight from each file's map."""
    bases = np.asarray(src.bases, dtype=np.int64)
    which = (np.searchsorted(bases, table["offset"], side="right") - 1).tolist()
    local = (table["offset"] - bases[which] if len(which) else table["offset"]).tolist()
    number, virtual, caplen = table["number"].tolist(), table["offset"].tolist(), table["caplen"].tolist()
    origlen, ts, link = table["origlen"].tolist(), table["ts"].tolist(), table["linktype"].tolist()
    bufs = [s.buffer for s in src.sources]
    last = -1
    for i in range(len(number)):
        g = number[i]
        if g != last + 1:
            # the previous frame fed is not packet g-1: packet g cannot be its twin
            eng.forget_previous_frame()
        last = g
        off = local[i]
        yield _new(Record, (ts[i], link[i], bufs[which[i]][off:off + caplen[i]], origlen[i],
                            virtual[i]))
        if not i & 0xFFFF and virtual[i] > (1 << 20):
            src.release_pages(virtual[i] - (1 << 20))     # pages already read: not resident


def _translate_list(text: str, glob) -> str:
    if not text:
        return text
    return ",".join([str(glob[int(x) - 1]) for x in text.split(",")])


def conversation_lines(eng: Engine, glob, summaries: bool):
    """(first packet, transport, JSON text) per conversation of `eng`, in order of first
    packet, packet numbers translated to global ones (the id is renumbered by the merge)."""
    if not summaries:
        for cs in eng.states:
            cs.pk = array(cs.pk.typecode, [glob[x - 1] for x in cs.pk])
            text = conversation_json_text(eng, cs)

            def sub(m):
                if m.group(1):
                    return f'"{m.group(1)}":{glob[int(m.group(2)) - 1]}'
                return f'"{m.group(3)}":[{_translate_list(m.group(4), glob)}]'
            yield glob[cs.flow.first_packet - 1], cs.transport, _NUMBERS.sub(sub, text)
        return
    for cs in eng.states:
        c = conversation_json(eng, cs, summaries)
        for k in ("first_packet", "last_packet"):
            c[k] = glob[c[k] - 1]
        for k in ("handshake", "teardown"):
            if isinstance(c.get(k), dict) and "frames" in c[k]:
                c[k]["frames"] = [glob[x - 1] for x in c[k]["frames"]]
        c["coalesced_packets"] = [glob[x - 1] for x in c["coalesced_packets"]]
        for m in c["messages"]:
            m["packets"] = [glob[x - 1] for x in m["packets"]]
        yield c["first_packet"], cs.transport, json.dumps(c, separators=(",", ":"))
