"""Pass 2 of the distributed summary, one task per partition: an ordinary Engine fed the
partition's packets in capture order (numbered locally 1..k), its conversations written as
summary JSON with the packet numbers translated back to global ones, all in one blob."""
from __future__ import annotations

import gc
import json
import re
from array import array
from itertools import chain, repeat

import numpy as np

from analyzer.distributed.plan import partition_table
from analyzer.engine import Engine, new_engine_for
from analyzer.engine.constants import COOKED_HEADER
from analyzer.render.summary_json import (conversation_json, conversation_json_text,
                                          loopback_duplicates)
from analyzer.sources.merged import MergedSource
from analyzer.sources.record import Record

_new = tuple.__new__      # a Record without NamedTuple.__new__'s argument parsing
_CHUNK = 0x10000          # packets sliced from the map at a time
_KEEP = 1 << 20           # mapped bytes kept resident behind the reading position

_ID_PREFIX = re.compile(r'\{"id":\d+,')
_NUMBERS = re.compile(r'"(first_packet|last_packet)":(\d+)|"(frames|coalesced_packets)":\[([\d,]*)\]')
_MESSAGES, _AFTER_MESSAGES = '"messages":[', '],"coalesced_packets":['


def analyze_partition(results: list[dict], part: int, decode_as, sidecar, display_path: str,
                      summaries: bool = False) -> dict:
    """One partition's conversations (`results`: every file's pass 1): {"blob": their JSON
    objects without the leading `{"id":N,` back to back (bytes), "ends": where each ends in
    it, "first": each one's first packet, "kind": index of its transport in "transports",
    "loopback_duplicates", "warnings"}."""
    order, table = partition_table(results, part)
    src = MergedSource([results[k]["path"] for k in order], ordered=True)
    try:
        eng = new_engine_for(display_path, src, decode_as, sidecar, summary_only=True)
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            eng.feed_many(_records(eng, src, table))
        finally:
            if gc_was_enabled:
                gc.enable()
        eng.finish()
        out = conversations_blob(conversation_lines(eng, array("q", table["number"].tobytes()),
                                                    summaries))
        out.update(loopback_duplicates=loopback_duplicates(eng), warnings=list(eng.warnings))
        return out
    finally:
        src.close()


def _records(eng: Engine, src: MergedSource, table: dict):
    """The partition's Records in capture order, sliced straight from each file's map."""
    if np.isin(table["linktype"], list(COOKED_HEADER)).any():
        return _records_one_by_one(eng, src, table)
    # no cooked frame: the engine cannot take one for the loopback twin of the frame fed
    # before it, so whole chunks go through without a Python step per packet
    return chain.from_iterable(_chunks(src, table))


def _chunks(src: MergedSource, table: dict):
    """An iterator of Records per stretch of up to _CHUNK packets from one file."""
    file = table["file"]
    if not len(file):
        return
    bounds = [0, *(np.flatnonzero(np.diff(file)) + 1).tolist(), len(file)]
    released = 0
    for a, b in zip(bounds, bounds[1:]):
        k = int(file[a])
        buf, base = src.sources[k].buffer, src.bases[k]
        for s in range(a, b, _CHUNK):
            e = min(b, s + _CHUNK)
            off = table["offset"][s:e]
            datas = map(buf.__getitem__, map(slice, off.tolist(),
                                             (off + table["caplen"][s:e]).tolist()))
            yield map(_new, repeat(Record), zip(table["ts"][s:e].tolist(),
                                                table["linktype"][s:e].tolist(), datas,
                                                table["origlen"][s:e].tolist(),
                                                (off + base).tolist()))
            upto = base + int(off[-1]) - _KEEP
            if upto > released + 16 * _KEEP:     # pages already read: not resident
                src.release_pages(upto)
                released = upto


def _records_one_by_one(eng: Engine, src: MergedSource, table: dict):
    """The same Records, telling the engine where the partition skipped packets (a cooked
    frame then cannot be the loopback twin of the one fed before it)."""
    number, file, local = table["number"].tolist(), table["file"].tolist(), table["offset"].tolist()
    caplen, origlen = table["caplen"].tolist(), table["origlen"].tolist()
    ts, link = table["ts"].tolist(), table["linktype"].tolist()
    bufs, bases = [s.buffer for s in src.sources], src.bases
    last = -1
    for i in range(len(number)):
        if number[i] != last + 1:
            eng.forget_previous_frame()
        last = number[i]
        k, off = file[i], local[i]
        yield _new(Record, (ts[i], link[i], bufs[k][off:off + caplen[i]], origlen[i],
                            bases[k] + off))


def conversations_blob(lines) -> dict:
    """The (first packet, transport, JSON text) lines as one blob and its index arrays."""
    pieces, ends, first, kind, transports = [], array("q"), array("q"), array("B"), {}
    end = 0
    for first_packet, transport, text in lines:
        m = _ID_PREFIX.match(text)
        if m is None:
            raise ValueError("unexpected conversation JSON layout: " + text[:60])
        piece = text[m.end():].encode()
        pieces.append(piece)
        end += len(piece)
        ends.append(end)
        first.append(first_packet)
        kind.append(transports.setdefault(transport, len(transports)))
    return {"blob": b"".join(pieces), "ends": np.frombuffer(ends, dtype=np.int64),
            "first": np.frombuffer(first, dtype=np.int64),
            "kind": np.frombuffer(kind, dtype=np.uint8), "transports": list(transports)}


def _translate_list(text: str, glob) -> str:
    if not text:
        return text
    return ",".join([str(glob[int(x) - 1]) for x in text.split(",")])


def _global_numbers(text: str, glob) -> str:
    """The packet numbers of one conversation's JSON outside its messages (first and last
    packet, handshake and teardown frames, coalesced packets) made global."""
    def sub(m):
        if m.group(1):
            return f'"{m.group(1)}":{glob[int(m.group(2)) - 1]}'
        return f'"{m.group(3)}":[{_translate_list(m.group(4), glob)}]'
    a = text.find(_MESSAGES)
    b = text.find(_AFTER_MESSAGES, a) if a >= 0 else -1
    if b < 0:
        return _NUMBERS.sub(sub, text)
    return _NUMBERS.sub(sub, text[:a]) + text[a:b] + _NUMBERS.sub(sub, text[b:])


def conversation_lines(eng: Engine, glob, summaries: bool):
    """(first packet, transport, JSON text) per conversation of `eng`, in order of first
    packet, packet numbers translated to global ones (the id is renumbered by the merge)."""
    if not summaries:
        for cs in eng.states:
            # the messages' packet lists come from cs.pk: translated before rendering
            cs.pk = array(cs.pk.typecode, [glob[x - 1] for x in cs.pk])
            text = conversation_json_text(eng, cs)
            yield glob[cs.flow.first_packet - 1], cs.transport, _global_numbers(text, glob)
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
