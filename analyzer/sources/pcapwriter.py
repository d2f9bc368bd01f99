"""PcapWriter: write a classic pcap incrementally (live capture, the lab, tests): wirelab's one
pcap writer.

The file is valid after every flush: a reader sees all flushed records (at worst a warning
about a truncated last record if it reads in the middle of a write).  Writes are buffered
(analyzer.sources.write_buffer) and written out when 256 KiB wait, when `flush_interval`
seconds have passed since the last flush (checked by write() and by `tick()`, which a
capture loop calls while no packet comes, so the file never lags more than about a second),
and by flush()/close().  After a failed write (a full disk) the file is cut back to its last
whole record and `saved` says how many records it keeps.
"""
from __future__ import annotations

import struct
from typing import BinaryIO

from analyzer.sources.write_buffer import BufferedCaptureWriter

_HDR = struct.Struct("<IHHiIII")
_REC = struct.Struct("<IIII")
MAGIC_US, MAGIC_NS = 0xA1B2C3D4, 0xA1B23C4D


class PcapWriter(BufferedCaptureWriter):
    """`PcapWriter(path_or_file, linktype=1, snaplen=262144, nanosecond=False)`.

    `.write(ts, data, origlen=None)`: ts in seconds (float), data the captured bytes
    (cut to snaplen), origlen the length on the wire (default len(data)).
    Use as a context manager or call close(); a file object passed in is flushed, not closed.
    `packets`: records written; `saved`: records whole in the file; `size`: bytes written
    or waiting.
    """

    format = "pcap"

    def __init__(self, path_or_file: str | BinaryIO, linktype: int = 1, snaplen: int = 262144,
                 nanosecond: bool = False, flush_interval: float | None = 0.5) -> None:
        super().__init__(path_or_file, snaplen, flush_interval)
        self.linktype = linktype
        self.nanosecond = nanosecond
        self._units = 1_000_000_000 if nanosecond else 1_000_000
        self._start(_HDR.pack(MAGIC_NS if nanosecond else MAGIC_US, 2, 4, 0, 0, snaplen,
                              linktype))

    def write(self, ts: float, data: bytes, origlen: int | None = None) -> None:
        data, origlen = self._cut(data, origlen)
        n = len(data)
        units = self._units
        sec, frac = divmod(round(ts * units), units)
        self._record(_REC.pack(sec & 0xFFFFFFFF, frac, n, origlen), data)
