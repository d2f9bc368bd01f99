"""The packets of several files in merged order (as analyzer.sources.merged reads them),
numbered from 1, and the share of each partition: its packets' global numbers and positions
in capture order."""
from __future__ import annotations

import heapq

import numpy as np


def file_order(results: list[dict]) -> list[int]:
    """Indexes of the pass-1 results in merged-source order: by first packet's time, then by
    the order the files were named (analyzer.sources.merged.MergedSource does the same)."""
    def first(k: int) -> float:
        ts = np.frombuffer(results[k]["ts"], dtype=np.float64)
        return float(ts[0]) if len(ts) else float("inf")
    return sorted(range(len(results)), key=lambda k: (first(k), k))


def merged_positions(ts_per_file: list[np.ndarray]) -> np.ndarray:
    """For the files' packets laid end to end (file order), each one's 0-based place in the
    merged order: a k-way merge by time, the earlier file first on a tie, each file's own
    order kept (heapq.merge, which MergedSource uses)."""
    total = sum(len(t) for t in ts_per_file)
    if all(len(t) < 2 or bool(np.all(np.diff(t) >= 0)) for t in ts_per_file):
        # each file in time order: the merge is a stable sort of the concatenation
        order = np.argsort(np.concatenate(ts_per_file) if total else np.empty(0), kind="stable")
    else:
        starts = np.cumsum([0] + [len(t) for t in ts_per_file])
        streams = [_numbered(ts, int(starts[k])) for k, ts in enumerate(ts_per_file)]
        order = np.fromiter((g for _t, g in heapq.merge(*streams, key=lambda x: x[0])),
                            dtype=np.int64, count=total)
    place = np.empty(total, dtype=np.int64)
    place[order] = np.arange(total, dtype=np.int64)
    return place


def _numbered(ts: np.ndarray, start: int):
    """(time, place in the files laid end to end) of one file's packets, in file order."""
    for i, t in enumerate(ts.tolist()):
        yield t, start + i


def plan(results: list[dict], parts: int) -> tuple[list[int], list[dict]]:
    """(file order, per-partition tables).  A table holds, in capture order, the global
    packet number (1-based), the position in the files laid end to end (offsets shifted by
    the sizes of the files before), caplen, origlen, time and linktype of each packet."""
    order = file_order(results)
    cols = {name: [] for name in ("offset", "caplen", "origlen", "ts", "linktype", "part")}
    types = {"offset": np.int64, "caplen": np.uint32, "origlen": np.uint32, "ts": np.float64,
             "linktype": np.uint16, "part": np.uint16}
    base = 0
    for k in order:
        r = results[k]
        for name in cols:
            a = np.frombuffer(r[name], dtype=types[name])
            cols[name].append(a + base if name == "offset" else a)
        base += r["size"]
    merged = {name: (np.concatenate(v) if v else np.empty(0, dtype=types[name]))
              for name, v in cols.items()}
    number = merged_positions(cols["ts"]) + 1
    tables = []
    for p in range(parts):
        idx = np.nonzero(merged["part"] == p)[0]
        idx = idx[np.argsort(number[idx], kind="stable")]
        tables.append({"number": number[idx], **{name: merged[name][idx] for name in
                                                 ("offset", "caplen", "origlen", "ts", "linktype")}})
    return order, tables
