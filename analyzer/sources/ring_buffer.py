"""RingWriter: a capture written as a series of files, like dumpcap's ring buffer
(`-b filesize:KB`, `-b duration:S`, `-b files:N`).

Files are named as dumpcap names them: PREFIX_NNNNN_YYYYmmddHHMMSS.EXT from `-w PREFIX.EXT`
(the number counts from 00001, the time is when the file was started, local time).  The next
file starts when the current one holds `filesize_kb` kB (1000 bytes, as dumpcap counts) or
`duration` seconds have passed since it started (also with no packet: `tick()` switches);
with `files` set only the newest N files are kept, older ones are removed.  Same interface as
PcapWriter (write, tick, flush, close, packets, saved).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

from analyzer.sources.pcapng_writer import format_for_name, writer_for


@dataclass(frozen=True)
class RingOptions:
    filesize_kb: int | None = None
    duration: float | None = None
    files: int | None = None

    @property
    def switches(self) -> bool:
        return self.filesize_kb is not None or self.duration is not None


def parse_ring_options(items: list[str]) -> RingOptions:
    """`-b` values ("filesize:KB", "duration:S", "files:N") -> RingOptions; ValueError with
    a message naming the bad one."""
    values: dict[str, float] = {}
    for item in items:
        key, sep, text = item.partition(":")
        if not sep or key not in ("filesize", "duration", "files"):
            raise ValueError(f"bad ring buffer option {item!r} (use filesize:KB, duration:S "
                             "or files:N)")
        try:
            value = float(text) if key == "duration" else int(text)
        except ValueError:
            raise ValueError(f"bad ring buffer option {item!r}: {text!r} is not a number") from None
        if not 0 < value < float("inf"):
            raise ValueError(f"bad ring buffer option {item!r}: must be positive")
        values[key] = value
    opts = RingOptions(values.get("filesize"), values.get("duration"), values.get("files"))
    if items and not opts.switches:
        raise ValueError("ring buffer needs filesize:KB or duration:S to know when to switch "
                         "files")
    return opts


def ring_file_name(base: str, number: int, started: float) -> str:
    """dumpcap's name for file `number` of a ring written as `base` (PREFIX.EXT)."""
    root, ext = os.path.splitext(base)
    stamp = time.strftime("%Y%m%d%H%M%S", time.localtime(started))
    return f"{root}_{number:05d}_{stamp}{ext}"


class RingWriter:
    """`RingWriter(base, options, file_format=None, **writer_options)`: see the module doc.
    `paths`: the files kept so far (oldest first)."""

    def __init__(self, base: str, options: RingOptions, file_format: str | None = None,
                 **writer_options) -> None:
        self.base = base
        self.options = options
        self.format = file_format or format_for_name(base)
        self._writer_options = writer_options
        self.paths: list[str] = []
        self._number = 0
        self._done_packets = 0
        self._done_saved = 0
        self.closed = False
        self._writer = None
        self._open_next()

    @property
    def path(self) -> str:
        return self._writer.path

    @property
    def packets(self) -> int:
        return self._done_packets + self._writer.packets

    @property
    def saved(self) -> int:
        return self._done_saved + self._writer.saved

    def _open_next(self) -> None:
        if self._writer is not None:
            old = self._writer
            old.close()
            self._done_packets += old.packets
            self._done_saved += old.saved
        self._number += 1
        self._started = time.monotonic()
        path = ring_file_name(self.base, self._number, time.time())
        self._writer = writer_for(path, self.format, **self._writer_options)
        self.paths.append(path)
        keep = self.options.files
        while keep is not None and len(self.paths) > keep:
            try:
                os.unlink(self.paths.pop(0))
            except FileNotFoundError:
                pass

    def _due(self) -> bool:
        opts = self.options
        if opts.duration is not None and time.monotonic() - self._started >= opts.duration:
            return True
        return (opts.filesize_kb is not None and self._writer.packets > 0
                and self._writer.size >= opts.filesize_kb * 1000)

    def write(self, ts: float, data: bytes, origlen: int | None = None) -> None:
        if self.closed:
            raise ValueError("write to a closed RingWriter")
        if self._due():
            self._open_next()
        self._writer.write(ts, data, origlen)

    def tick(self) -> None:
        """Flush what waits; start the next file when its duration is over."""
        if self.options.duration is not None and self._due():
            self._open_next()
        self._writer.tick()

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._writer.close()

    def __enter__(self) -> "RingWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
