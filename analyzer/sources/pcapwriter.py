"""PcapWriter: write a classic pcap incrementally (live capture, the lab, tests): wirelab's one
pcap writer.

The file is valid after every flush: a reader sees all flushed records (at worst a warning
about a truncated last record if it reads in the middle of a write).  Writes are buffered
and flushed at least every `flush_interval` seconds, and by flush()/close().
"""
from __future__ import annotations

import os
import struct
import time
from typing import BinaryIO

_HDR = struct.Struct("<IHHiIII")
_REC = struct.Struct("<IIII")
MAGIC_US, MAGIC_NS = 0xA1B2C3D4, 0xA1B23C4D


class PcapWriter:
    """`PcapWriter(path_or_file, linktype=1, snaplen=262144, nanosecond=False)`.

    `.write(ts, data, origlen=None)`: ts in seconds (float), data the captured bytes
    (cut to snaplen), origlen the length on the wire (default len(data)).
    Use as a context manager or call close(); a file object passed in is flushed, not closed.
    """

    def __init__(self, path_or_file: str | BinaryIO, linktype: int = 1, snaplen: int = 262144,
                 nanosecond: bool = False, flush_interval: float = 0.5) -> None:
        if isinstance(path_or_file, (str, bytes, os.PathLike)):
            self._f: BinaryIO = open(path_or_file, "wb")
            self._owned = True
            self.path = str(path_or_file)
        else:
            self._f = path_or_file
            self._owned = False
            self.path = getattr(path_or_file, "name", None)
        if not 0 < snaplen <= 0x7FFFFFFF:
            raise ValueError(f"bad snaplen {snaplen}")
        self.linktype = linktype
        self.snaplen = snaplen
        self.nanosecond = nanosecond
        self._units = 1_000_000_000 if nanosecond else 1_000_000
        self.flush_interval = flush_interval
        self.packets = 0
        self.closed = False
        self._f.write(_HDR.pack(MAGIC_NS if nanosecond else MAGIC_US, 2, 4, 0, 0, snaplen,
                                linktype))
        self._f.flush()
        self._last_flush = time.monotonic()

    def write(self, ts: float, data: bytes, origlen: int | None = None) -> None:
        if self.closed:
            raise ValueError("write to a closed PcapWriter")
        n = len(data)
        if origlen is None or origlen < n:
            origlen = n
        if n > self.snaplen:
            data = data[:self.snaplen]
            n = self.snaplen
        units = self._units
        total = round(ts * units)
        sec, frac = divmod(total, units)
        self._f.write(_REC.pack(sec & 0xFFFFFFFF, frac, n, origlen))
        self._f.write(data)
        self.packets += 1
        if self.flush_interval is not None:
            now = time.monotonic()
            if now - self._last_flush >= self.flush_interval:
                self._f.flush()
                self._last_flush = now

    def flush(self) -> None:
        if not self.closed:
            self._f.flush()
            self._last_flush = time.monotonic()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._f.flush()
        if self._owned:
            self._f.close()

    def __enter__(self) -> "PcapWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
