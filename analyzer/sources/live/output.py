"""Where a live capture writes: one pcap or pcapng file, or a ring of files (dumpcap's -b).

`Output` says what to write; `Output.open(linktype, snaplen)` makes the writer (PcapWriter,
PcapngWriter or RingWriter: all have write/tick/flush/close, `packets` and `saved`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from analyzer.sources.pcapng_writer import format_for_name, writer_for
from analyzer.sources.ring_buffer import RingOptions, RingWriter


@dataclass(frozen=True)
class Output:
    path: str
    file_format: str | None = None          # "pcap" / "pcapng"; None: from the name
    ring: RingOptions | None = None
    interface: str | None = None            # for pcapng's interface description
    comment: str | None = None              # for pcapng's section header

    @property
    def format(self) -> str:
        return self.file_format or format_for_name(self.path)

    def open(self, linktype: int, snaplen: int):
        """The writer; OSError when the (first) file cannot be created or written."""
        options = dict(linktype=linktype, snaplen=snaplen, interface=self.interface,
                       comment=self.comment)
        if self.ring is not None and self.ring.switches:
            return RingWriter(self.path, self.ring, self.format, **options)
        return writer_for(self.path, self.format, **options)

    def check(self, linktype: int, snaplen: int) -> None:
        """Create and close the writer once (OSError when it cannot be written); the files a
        ring made are removed again (the capture makes them anew, with their start times)."""
        writer = self.open(linktype, snaplen)
        writer.close()
        if isinstance(writer, RingWriter):
            for path in writer.paths:
                os.unlink(path)


def write_failed_text(path: str, exc: OSError) -> str:
    return f"cannot write {path}: {exc.strerror or exc}"
