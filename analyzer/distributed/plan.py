"""The packets of several files in merged order (as analyzer.sources.merged reads them),
numbered from 1, and the share of one partition: its packets' global numbers and positions
in capture order.  Each partition task works out its own share from the pass-1 results."""
from __future__ import annotations

import heapq

import numpy as np

_ROWS = ("offset", "caplen", "origlen", "ts", "linktype")


def file_order(results: list[dict]) -> list[int]:
    """Indexes of the pass-1 results in merged-source order: by first packet's time, then by
    the order the files were named (analyzer.sources.merged.MergedSource does the same)."""
    return sorted(range(len(results)), key=lambda k: (results[k]["first_ts"], k))


def concatenated(files: list[dict]) -> bool:
    """True when the files (in merged order) follow one another in time, each one's packets
    no earlier than every packet of the one before: the k-way merge is then their
    concatenation (a ring buffer), and numbering needs no sort."""
    return all(a["max_ts"] <= b["min_ts"] for a, b in zip(files, files[1:]) if b["packets"])


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


def partition_table(results: list[dict], part: int) -> tuple[list[int], dict]:
    """(file order, the partition's table).  The table holds, in capture order, for each
    packet of partition `part`: its global number (1-based), its file (index in file
    order), its offset in that file, caplen, origlen, time and linktype."""
    order = file_order(results)
    files = [results[k] for k in order]
    starts = np.cumsum([0] + [f["packets"] for f in files])
    mine = [np.nonzero(f["part"] == part)[0] for f in files]
    in_turn = concatenated(files)
    if in_turn:
        number = [starts[i] + idx + 1 for i, idx in enumerate(mine)]
    else:
        place = merged_positions([f["ts"] for f in files])
        number = [place[starts[i] + idx] + 1 for i, idx in enumerate(mine)]
    table = {"number": _joined(number, np.int64),
             "file": _joined([np.full(len(idx), i, dtype=np.uint16)
                              for i, idx in enumerate(mine)], np.uint16)}
    for name in _ROWS:
        table[name] = _joined([f[name][idx] for f, idx in zip(files, mine)], np.float64)
    if not in_turn:
        by_number = np.argsort(table["number"], kind="stable")
        table = {name: col[by_number] for name, col in table.items()}
    return order, table


def _joined(arrays: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.empty(0, dtype=dtype)
