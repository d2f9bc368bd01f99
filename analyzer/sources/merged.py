"""Several capture files read as one, packets in timestamp order across files (as `mergecap`
merges them): a directory of ring-buffer files, or files named one by one.

Files are ordered by their first packet's time (then by name), then merged k-way by
timestamp, taking from the earlier file on a tie.  When no file overlaps the next in time (a
ring buffer) that is their concatenation (`disjoint` says so; a planner may use it).  Packets are numbered on across files.
A Record's `offset` is a position in the files laid end to end (file i starts at the sum of
the sizes before it), so `read_frame` finds any packet again.  Each file's warnings come out
prefixed with its name.
"""
from __future__ import annotations

import heapq
import os
from bisect import bisect_right
from typing import Iterator

from analyzer.errors import CaptureFormatError
from analyzer.sources.capture import CaptureSource
from analyzer.sources.open import open_capture
from analyzer.sources.record import PacketLocation, Record, batches_of

_new = tuple.__new__      # a Record without NamedTuple.__new__'s argument parsing


def capture_files(paths: list[str]) -> list[str]:
    """The capture files named by `paths`: files as given, a directory's regular files
    (hidden ones and sidecars left out) sorted by name; CaptureFormatError naming what is
    missing or empty."""
    out: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            names = sorted(n for n in os.listdir(path) if not n.startswith(".")
                           and not n.endswith((".jsonl", ".json", ".txt", ".md")))
            files = [os.path.join(path, n) for n in names if os.path.isfile(os.path.join(path, n))]
            if not files:
                raise CaptureFormatError(f"{path}: directory holds no capture files")
            out += files
        else:
            out.append(path)
    return out


def disjoint(first_ts: list[float], last_ts: list[float]) -> bool:
    """True when the files (already in order) do not overlap in time: each one's first
    packet is not before the previous one's last, so concatenating them is the merge."""
    return all(first_ts[i + 1] >= last_ts[i] for i in range(len(first_ts) - 1))


class MergedSource:
    """The files of `paths` as one source (the CaptureSource API the engine and views use)."""

    format = "merged"
    scan_reads_only = False
    compression = None

    def __init__(self, paths: list[str], ordered: bool = False) -> None:
        """ordered: the paths are already in merged order (skip sorting by first packet)."""
        self.paths = list(paths)
        self.sources: list[CaptureSource] = []
        try:
            for p in self.paths:
                self.sources.append(open_capture(p))
        except Exception:
            self.close()
            raise
        if not ordered:
            self._order_by_first_packet()
        self.bases: list[int] = []
        base = 0
        for src in self.sources:
            self.bases.append(base)
            base += src.size
        self.size = base
        self.path = ", ".join(self.paths)
        self.packets = 0

    def _order_by_first_packet(self) -> None:
        firsts = []
        for k, src in enumerate(self.sources):
            first = next(iter(src.scan_headers()), None)
            firsts.append((first[3] if first is not None else float("inf"), k))
        order = [k for _ts, k in sorted(firsts)]
        self.sources = [self.sources[k] for k in order]
        self.paths = [self.paths[k] for k in order]

    # -- the CaptureSource API ------------------------------------------------------------
    @property
    def warnings(self) -> list[str]:
        return [f"{os.path.basename(p)}: {w}" for p, s in zip(self.paths, self.sources)
                for w in s.warnings]

    @property
    def progress(self) -> int:
        return sum(base + src.progress for base, src in zip(self.bases, self.sources)
                   if src.progress) if self.sources else 0

    @property
    def buffer(self):
        return None            # no one map: the loader releases each file's pages itself

    @property
    def fraction(self) -> float:
        return self.progress / self.size if self.size else 1.0

    def read_frame(self, offset: int, length: int) -> bytes:
        k = bisect_right(self.bases, offset) - 1
        if k < 0:
            raise ValueError(f"bad frame position {offset}+{length}")
        return self.sources[k].read_frame(offset - self.bases[k], length)

    def _shifted(self, k: int) -> Iterator[Record]:
        base = self.bases[k]
        for rec in self.sources[k]:
            yield _new(Record, (rec[0], rec[1], rec[2], rec[3], rec[4] + base))

    def __iter__(self) -> Iterator[Record]:
        self.packets = 0
        iters = [self._shifted(k) for k in range(len(self.sources))]
        for rec in heapq.merge(*iters, key=_ts):
            self.packets += 1
            yield rec

    def batches(self, size: int) -> Iterator[list]:
        """The Records of one whole pass, in lists of up to `size` (for bulk feeding)."""
        return batches_of(iter(self), size)

    def scan_headers(self) -> Iterator[PacketLocation]:
        iters = [self._shifted_headers(k) for k in range(len(self.sources))]
        yield from heapq.merge(*iters, key=_header_ts)

    def _shifted_headers(self, k: int) -> Iterator[PacketLocation]:
        base = self.bases[k]
        for h in self.sources[k].scan_headers():
            yield (h[0] + base, h[1], h[2], h[3], h[4])

    def record(self, header: PacketLocation) -> Record:
        k = bisect_right(self.bases, header[0]) - 1
        local = (header[0] - self.bases[k],) + tuple(header[1:])
        rec = self.sources[k].record(local)
        return _new(Record, (rec[0], rec[1], rec[2], rec[3], header[0]))

    def release_pages(self, upto: int) -> None:
        """Let go of the mapped pages of everything before position `upto` (files laid end
        to end): a pass that moves forward keeps only what it is reading resident."""
        for base, src in zip(self.bases, self.sources):
            if upto <= base:
                break
            src.release_pages(min(upto - base, src.size))

    def close(self) -> None:
        for src in self.sources:
            src.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _ts(rec: Record) -> float:
    return rec[0]


def _header_ts(h: PacketLocation) -> float:
    return h[3]


def open_captures(paths: list[str]) -> CaptureSource | MergedSource:
    """One source for the capture(s) named: a file as itself; several files or a directory
    merged (MergedSource)."""
    files = capture_files(paths)
    if len(files) == 1:
        return open_capture(files[0])
    return MergedSource(files)
