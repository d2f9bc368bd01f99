"""A fast first pass over a capture file: where each packet is, nothing more.

The engine needs tens of seconds for a million packets; this pass needs a second or two.  It
lets the packet list show every packet (and `End` reach the last one) at once: a packet the
engine has not reached yet is drawn from its own headers (`QuickView.row`), without analysis
tags or messages, until the engine catches up.  Same read API subset as the engine.
"""
from __future__ import annotations

from array import array

from analyzer.decode import decode_frame
from analyzer.engine.loader import drop_read_pages
from analyzer.engine.types import Row
from analyzer.render.rows import pending_row



class QuickIndex:
    """Per-packet (offset, caplen, origlen, ts, linktype) of a capture file, filled by `scan`."""

    def __init__(self, source, iterate: bool = True) -> None:
        self.source = source
        self.iterate = iterate    # False: the source is shared with the engine, never iterate it
        self.offset = array("q")
        self.caplen = array("I")
        self.origlen = array("I")
        self.ts = array("d")
        self.link = array("H")
        self.count = 0            # published: entries < count are complete
        self.done = False

    def scan(self, cancelled=lambda: False, batch: int = 20000) -> None:
        """Read the whole file's packet headers (call from a worker thread)."""
        if not self.iterate and not self.source.scan_reads_only:
            self.done = True      # shared with the engine, and its scan is a pass: leave it
            return
        self._fill_from_headers(cancelled, batch)

    def _fill_from_headers(self, cancelled, batch: int) -> None:
        """Fill the columns from the source's header scan (classic pcap: header to header hops
        over the map; it stops where the engine's pass stops, and that pass reports why)."""
        off_a, cap_a, orig_a, ts_a = self.offset, self.caplen, self.origlen, self.ts
        link_a = self.link
        k = 0
        buf = self.source.buffer
        dropped = 0               # mapped pages let go of up to here (the scan reads them all)
        try:
            for offset, caplen, origlen, ts, linktype in self.source.scan_headers():
                off_a.append(offset)
                cap_a.append(caplen)
                orig_a.append(origlen)
                ts_a.append(ts)
                link_a.append(linktype)
                k += 1
                if not k % batch:
                    self.count = k
                    dropped = drop_read_pages(buf, offset, dropped)
                    if cancelled():
                        return
        except Exception:
            pass                  # the engine's own pass reports what is wrong with the file
        self.count = k
        self.done = True

    # -- the engine's read API, for packets 1..count --------------------------------------
    def frame_bytes(self, n: int) -> bytes:
        i = n - 1
        return bytes(self.source.read_frame(self.offset[i], self.caplen[i]))

    def decoded(self, n: int):
        i = n - 1
        return decode_frame(self.link[i], self.frame_bytes(n), self.origlen[i])

    def row(self, n: int) -> Row:
        i = n - 1
        t = self.ts[i] - self.ts[0] if self.count else 0.0
        return pending_row(n, t, self.origlen[i], self.decoded(n))

    def analysis_bits(self, n: int) -> int:
        return 0

    def stream_of(self, n: int):
        return None

    def message_slices(self, n: int) -> list:
        return []

    def packet_json(self, n: int) -> dict:
        return {}
