"""WriteBuffer: the buffered output of the capture writers (pcap, pcapng), which knows exactly
how many records reached the file.

Records are collected in memory and written out by `flush()` with plain `os.write` calls, so
after a failed write (a full disk) the buffer knows which records are whole in the file: the
file is cut back to the end of the last whole record (a reader sees a clean file) and `saved`
says how many records it holds.  A file object passed in instead of a path (tests, the lab)
is written with its own write/flush, and is never closed here.
"""
from __future__ import annotations

import os
import time
from typing import BinaryIO


class WriteBuffer:
    """`WriteBuffer(path_or_file)`: `add(bytes)` for file headers, `add_record(bytes)` per
    record, `flush()`, `close()`.  `saved`: records whole in the file; `records`: records
    added; `size`: bytes added (written or waiting)."""

    def __init__(self, path_or_file: str | os.PathLike | BinaryIO) -> None:
        if isinstance(path_or_file, (str, bytes, os.PathLike)):
            self._fd = os.open(path_or_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            self._file: BinaryIO | None = None
            self.path: str | None = os.fsdecode(path_or_file)
        else:
            self._fd = -1
            self._file = path_or_file
            self.path = getattr(path_or_file, "name", None)
        self._pending = bytearray()
        self._ends: list[int] = []       # end of each pending record inside _pending
        self._marks: list[int] = []      # end of each pending unit (record or header)
        self.written = 0                 # bytes whole in the file
        self.size = 0                    # bytes added
        self.saved = 0
        self.records = 0
        self.closed = False
        self.last_flush = time.monotonic()

    @property
    def dirty(self) -> bool:
        """Bytes added and not yet written out."""
        return bool(self._pending)

    def add(self, data: bytes) -> None:
        """File-level bytes (a header, an interface block): not counted as a record."""
        self._pending += data
        self._marks.append(len(self._pending))
        self.size = self.written + len(self._pending)

    def add_record(self, *parts: bytes) -> None:
        pending = self._pending
        for part in parts:
            pending += part
        self._marks.append(len(pending))
        self._ends.append(len(pending))
        self.size = self.written + len(pending)
        self.records += 1

    def flush(self) -> None:
        """Write out what is pending.  OSError (e.g. ENOSPC) after cutting the file back to
        its last whole unit (header or record); `saved` then counts the records it keeps."""
        self.last_flush = time.monotonic()
        if not self._pending:
            return
        if self._file is not None:
            self._file.write(bytes(self._pending))
            self._file.flush()
            self._written_out(len(self._pending))
            return
        view = memoryview(self._pending)
        done = 0
        try:
            while done < len(view):
                done += os.write(self._fd, view[done:])
        except OSError:
            view.release()
            self._cut_back(done)
            raise
        view.release()
        self._written_out(done)

    def _written_out(self, nbytes: int) -> None:
        self.written += nbytes
        self.saved += len(self._ends)
        self._ends.clear()
        self._marks.clear()
        del self._pending[:nbytes]

    def _cut_back(self, done: int) -> None:
        """After a write that stopped after `done` pending bytes: the file keeps the whole
        units only; what is still pending is given up (the disk is full)."""
        keep = max((m for m in self._marks if m <= done), default=0)
        self.saved += sum(1 for end in self._ends if end <= done)
        self.written += keep
        try:
            os.ftruncate(self._fd, self.written)
        except OSError:
            pass
        self._pending.clear()
        self._ends.clear()
        self._marks.clear()

    def close(self) -> None:
        """Flush and close (a file object passed in is flushed, not closed)."""
        if self.closed:
            return
        self.closed = True
        try:
            self.flush()
        finally:
            self.close_fd()

    def close_fd(self) -> None:
        """Close the file without writing what is pending (after a failed write)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


FLUSH_BYTES = 256 << 10          # a writer writes out when this much waits


class BufferedCaptureWriter:
    """What the pcap and pcapng writers share: a WriteBuffer, the flush policy (256 KiB
    waiting, or `flush_interval` s since the last flush, checked by each write and by
    `tick()`), `packets` (records written), `saved` (records whole in the file), `size`
    (bytes written or waiting), flush/close, use as a context manager.  A subclass writes
    its file header in __init__ through `_start(header)` and records through `_record()`."""

    format = "?"

    def __init__(self, path_or_file, snaplen: int, flush_interval: float | None) -> None:
        if not 0 < snaplen <= 0x7FFFFFFF:
            raise ValueError(f"bad snaplen {snaplen}")
        self._out = WriteBuffer(path_or_file)
        self.path = self._out.path
        self.snaplen = snaplen
        self.flush_interval = flush_interval
        self.closed = False

    def _start(self, header: bytes) -> None:
        """Write the file header now: a file that cannot take it is closed, OSError raised."""
        self._out.add(header)
        try:
            self._out.flush()
        except OSError:
            self.closed = self._out.closed = True
            self._out.close_fd()
            raise

    def _cut(self, data: bytes, origlen: int | None) -> tuple[bytes, int]:
        """(the bytes to save, cut to snaplen; the length on the wire, at least len(data))."""
        n = len(data)
        if origlen is None or origlen < n:
            origlen = n
        return (data[:self.snaplen] if n > self.snaplen else data), origlen

    def _record(self, *parts: bytes) -> None:
        if self.closed:
            raise ValueError(f"write to a closed {type(self).__name__}")
        out = self._out
        out.add_record(*parts)
        if out.size - out.written >= FLUSH_BYTES:
            out.flush()
        elif self.flush_interval is not None:
            self.tick()

    @property
    def packets(self) -> int:
        return self._out.records

    @property
    def saved(self) -> int:
        return self._out.saved

    @property
    def size(self) -> int:
        return self._out.size

    def tick(self) -> None:
        """Write out what waits once `flush_interval` s passed since the last flush (a
        capture loop calls this while no packet comes, so the file never lags)."""
        out = self._out
        if (out.dirty and self.flush_interval is not None
                and time.monotonic() - out.last_flush >= self.flush_interval):
            out.flush()

    def flush(self) -> None:
        if not self.closed:
            self._out.flush()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._out.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
