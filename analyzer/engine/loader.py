"""Opening a capture file into an engine: the one loader the CLI, the TUI session and the
distributed summary share."""
from __future__ import annotations

import gc
import mmap

from analyzer.engine.queries import Engine
from analyzer.sources import sidecar as sidecar_file
from analyzer.sources.merged import capture_files, open_captures
from analyzer.sources.open import open_capture
from analyzer.sources.record import batches_of

_BATCH = 0x4000
open_source = open_capture      # the capture reader for a path (pcap or pcapng, by magic)


def new_engine_for(path: str, src, decode_as: dict | None = None, sidecar="auto",
                   **engine_options) -> Engine:
    """An empty Engine for capture `path` read through `src`; the sidecar beside the capture
    is loaded when `sidecar` is "auto" (else it is the list of records, or None)."""
    records = sidecar_file.load_beside(path) if sidecar == "auto" else sidecar
    return Engine(decode_as=decode_as, sidecar=records, source_path=path, reader=src,
                  **engine_options)


def analyze_file(path: str | list[str], decode_as: dict[int, str] | None = None, progress=None,
                 limit: int | None = None, sidecar="auto") -> Engine:
    """Read `path` whole (a capture file; or a list of files and directories, merged in time
    order by analyzer.sources.merged), feed every packet, finish.  progress(done, total) is
    called now and then (done and total in bytes of the files)."""
    if isinstance(path, str):
        src = open_capture(path)
        eng = new_engine_for(path, src, decode_as, sidecar)
    else:
        src = open_captures(path)
        if sidecar == "auto":
            sidecar = [r for f in capture_files(path) for r in sidecar_file.load_beside(f) or []]
        eng = new_engine_for(display_name(path), src, decode_as, sidecar or None)
    total = src.size
    # the bulk loop makes no reference cycles worth collecting: the cyclic GC would only
    # rescan the growing heap again and again (10-20 % of the time on big captures); what
    # the engine holds afterwards lives as long as the engine, so it is moved out of the
    # collector's sight (gc.freeze) and the views' collections scan only their own objects
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        _feed_all(eng, src, progress, total, limit)
        eng.warnings.extend(src.warnings)
        eng.finish()
    finally:
        if gc_was_enabled:
            gc.freeze()
            gc.enable()
    if progress is not None:
        progress(total, total)
    return eng


def display_name(paths: list[str]) -> str:
    """How the summary names what was read: the one path given, else the paths joined."""
    return paths[0] if len(paths) == 1 else ", ".join(paths)


def _feed_all(eng: Engine, src, progress, total: int, limit: int | None) -> None:
    """Feed in batches of 16k packets (the lock is taken once a batch); between batches,
    report progress and let go of the file pages already read."""
    batches = src.batches(_BATCH) if limit is None else batches_of(_first(src, limit), _BATCH)
    dropped = 0
    buf = src.buffer
    for batch in batches:
        eng.feed_many(batch)
        if progress is not None:
            progress(src.progress, total)
        dropped = drop_read_pages(buf, src.progress, dropped)


def _first(src, limit: int):
    """The first `limit` records; the reader is still asked for one more, so damage right
    after them is reported as without the limit (as tshark -c does)."""
    k = 0
    for rec in src:
        if k >= limit:
            return
        yield rec
        k += 1


def drop_read_pages(buf, upto: int, dropped: int) -> int:
    """Tell the kernel the mapped file pages already read are not needed any more, so a big
    capture does not sit in our resident memory (pages fault in again from the page cache if
    a view reads a frame again).  Returns the new high-water mark."""
    if not isinstance(buf, mmap.mmap) or upto <= 0:
        return dropped
    end = (upto - (1 << 20)) & ~(mmap.PAGESIZE - 1)      # keep the last MiB mapped
    if end <= dropped:
        return dropped
    try:
        buf.madvise(mmap.MADV_DONTNEED, dropped, end - dropped)
    except (OSError, ValueError):
        return dropped
    return end
