"""The common part of file sources: an mmap of the file, random access, progress, warnings.

A `CaptureSource` is iterable: it yields `Record`s in file order and appends to `.warnings`
while it goes (truncated last record, bad block mid-file, unsupported linktype...).  Anything
that makes the file unreadable from the start raises `CaptureFormatError` when it is opened.

A quick pass that only needs to know where the packets are uses `scan_headers()` (a
`PacketLocation` per packet, packet bytes not copied; it stops where iteration stops, with the
same warning) and `record(header)` for the few packets it wants as Records.  Nothing outside
analyzer/sources parses capture records.
"""
from __future__ import annotations

import mmap
import os
import stat
import threading
import time
from typing import BinaryIO, Iterator

from analyzer.errors import CaptureFormatError
from analyzer.sources import stdin_spool
from analyzer.sources.record import PacketLocation, Record, batches_of

# No link layer wirelab knows has frames this big; a caplen above it is a corrupt header.
MAX_CAPLEN = 0x40000 * 4   # 1 MiB (libpcap's own per-DLT maximum is 256 KiB)
RELEASE_EVERY = 4 << 20    # iteration releases already-read pages every 4 MiB
_DONTNEED = getattr(mmap, "MADV_DONTNEED", None)
_new = tuple.__new__      # a Record without NamedTuple.__new__'s argument parsing


def open_capture_file(path: str) -> BinaryIO:
    """`path` opened for reading, or CaptureFormatError with one clear line: no such file,
    a directory, permission denied, a pipe or device (never read: it could block).  "-" is
    standard input once it has been spooled (analyzer.sources.stdin_spool)."""
    if path == stdin_spool.STDIN:
        return stdin_spool.open_spooled()
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None                      # open() below says why
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        raise CaptureFormatError(f"{path}: not a regular file (a pipe or device): "
                                 "write the capture to a file first")
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise CaptureFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CaptureFormatError(f"{path}: is a directory") from None
    except PermissionError:
        raise CaptureFormatError(f"{path}: permission denied") from None
    except OSError as exc:
        raise CaptureFormatError(f"{path}: cannot open ({exc.strerror})") from None
    if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):   # replaced since the stat above
        f.close()
        raise CaptureFormatError(f"{path}: not a regular file (a pipe or device): "
                                 "write the capture to a file first")
    return f


class CaptureSource:
    """Base class of file sources.  Subclasses set `format` and implement `_start_state`
    and `_scan` (a generator over records from a resumable position)."""

    format = "?"
    # True: scan_headers() only reads the map (progress, packets and the iteration state are
    # left alone), so it may run in a thread beside an iteration of the same source
    scan_reads_only = False

    compression: str | None = None     # "gzip"/"zstd": read from a decompressed copy

    def __init__(self, path: str, file: BinaryIO | None = None) -> None:
        """`file`: the capture already opened (e.g. an anonymous decompressed copy, which
        this source then owns and closes); else `path` is opened."""
        self.path = str(path)
        self.warnings: list[str] = []
        self._warned: set[str] = set()
        self._warn_lock = threading.Lock()
        self.progress = 0          # bytes of the file consumed so far by iteration
        self.packets = 0           # records yielded by the last/current pass
        self._file = file if file is not None else open_capture_file(self.path)
        self.size = os.fstat(self._file.fileno()).st_size
        self._buf: mmap.mmap | bytes = b""
        self._released = 0
        if self.size == 0:
            self._file.close()
            raise CaptureFormatError(f"{self.path}: empty file (0 bytes), not a capture")
        self._map()
        try:
            self._parse_header()
        except BaseException:
            self.close()
            raise

    # -- file mapping -------------------------------------------------------------------
    def _map(self) -> None:
        try:
            self._buf = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):          # not mappable (a pipe, /proc...): read it
            self._file.seek(0)
            self._buf = self._file.read()
        self.size = len(self._buf)

    def refresh(self) -> bool:
        """Re-map the file if it grew (a capture still being written). True if it grew."""
        size = os.fstat(self._file.fileno()).st_size
        if size <= len(self._buf):
            return False
        # the old map is not closed: an iteration in progress (another thread) still reads
        # it; it is unmapped when the last reference goes away
        self._map()
        self._released = 0
        return True

    @property
    def buffer(self):
        """The mapped file (mmap or bytes): `struct.unpack_from(buf, offset)` works on it."""
        return self._buf

    @property
    def fraction(self) -> float:
        """progress / size, 0.0 .. 1.0, for progress bars."""
        return self.progress / self.size if self.size else 1.0

    # -- random access ------------------------------------------------------------------
    def read_frame(self, offset: int, length: int) -> bytes:
        """The `length` bytes at file `offset` (a Record's offset and caplen)."""
        end = offset + length
        if offset < 0 or length < 0:
            raise ValueError(f"bad frame position {offset}+{length}")
        if end > len(self._buf):
            self.refresh()
            if end > len(self._buf):
                raise ValueError(f"frame {offset}+{length} beyond end of file ({len(self._buf)})")
        return self._buf[offset:end]

    # -- iteration ----------------------------------------------------------------------
    def __iter__(self) -> Iterator[Record]:
        self.packets = 0
        self._released = 0
        return self._scan(self._start_state(), True)   # the generator itself: no extra layer

    def batches(self, size: int) -> Iterator[list]:
        """The Records of one whole pass, in lists of up to `size` (for bulk feeding)."""
        return batches_of(iter(self), size)

    def _parse_header(self) -> None:  # pragma: no cover - abstract
        """Read and check the file header (CaptureFormatError when it is not this format)."""
        raise NotImplementedError

    def _start_state(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _scan(self, state, final: bool):  # pragma: no cover - abstract
        """Generator: yield Records from `state`, return the state to resume from (None: a
        corrupt spot was warned about, nothing more can be read)."""
        raise NotImplementedError

    # -- header scan --------------------------------------------------------------------
    def scan_headers(self) -> Iterator[PacketLocation]:
        """A PacketLocation tuple (offset, caplen, origlen, ts, linktype) per packet, in file order,
        from the first packet.  It stops where iteration stops, with the same warning (a
        warning already given is not repeated).  This generic version is one pass of the
        iteration (progress and packets move as they do then); PcapSource hops from record
        header to record header without copying packet bytes (see `scan_reads_only`)."""
        for rec in self:
            yield (rec[4], len(rec[2]), rec[3], rec[0], rec[1])

    def record(self, header: PacketLocation) -> Record:
        """The Record iteration yields for the packet `header` (from scan_headers) describes."""
        offset = header[0]
        return _new(Record, (header[3], header[4], self._buf[offset:offset + header[1]],
                             header[2], offset))

    def follow(self, poll: float = 0.2, idle_timeout: float | None = 10.0,
               stop=None) -> Iterator[Record]:
        """Yield the records of a capture that is still being written (like `tail -f`):
        at the end of the file wait `poll` s, re-map it, continue after the last complete
        record.  Ends when `stop()` returns true, or after `idle_timeout` s without growth
        (then an incomplete last record is warned about as usual), or at a corrupt spot."""
        self.packets = 0
        self._released = 0
        state = self._start_state()
        idle = 0.0
        while True:
            state = yield from self._scan(state, False)
            if state is None:
                return
            if stop is not None and stop():
                return
            if self.refresh():
                idle = 0.0
                continue
            if idle_timeout is not None and idle >= idle_timeout:
                yield from self._scan(state, True)
                return
            time.sleep(poll)
            idle += poll

    def release_pages(self, upto: int) -> None:
        """Public form of _release, for a caller that walks `buffer` itself (e.g. a quick
        index scan): drop mapped pages before `upto` from the resident set."""
        self._release(upto)

    def _release(self, upto: int) -> None:
        """Drop the mapped pages before `upto` from this process's resident set (they stay in
        the page cache and fault back in on access): a bulk pass over a big file keeps a
        flat RSS.  Called by the readers every RELEASE_EVERY bytes."""
        buf = self._buf
        start = self._released
        end = upto - upto % mmap.PAGESIZE
        if end > start:
            if isinstance(buf, mmap.mmap) and _DONTNEED is not None:
                try:
                    buf.madvise(_DONTNEED, start, end - start)
                except (OSError, ValueError):
                    pass
            self._released = end        # where releasing got to (also for a bytes buffer)

    def warn_once(self, key: str, text: str) -> None:
        """Add `text` unless a warning of kind `key` was already given (for warnings that
        name the first of many places, e.g. a packet number)."""
        with self._warn_lock:
            if key in self._warned:
                return
            self._warned.add(key)
        self.warn(text)

    def warn(self, text: str) -> None:
        """Add a warning once (the same text twice is kept once, also when a header scan and
        an iteration of this source, in two threads, reach the same spot)."""
        with self._warn_lock:
            if text not in self._warned:
                self._warned.add(text)
                self.warnings.append(text)

    # -- lifetime -----------------------------------------------------------------------
    def close(self) -> None:
        buf, self._buf = self._buf, b""
        if isinstance(buf, mmap.mmap):
            try:
                buf.close()
            except BufferError:
                pass
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path!r} {self.size} bytes>"
