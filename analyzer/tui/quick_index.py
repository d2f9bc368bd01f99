"""A fast first pass over a capture file: where each packet is, nothing more.

The engine needs tens of seconds for a million packets; this pass needs a second or two.  It
lets the packet list show every packet (and `End` reach the last one) at once: a packet the
engine has not reached yet is drawn from its own headers (`QuickView.row`), without analysis
tags or messages, until the engine catches up.  Same read API subset as the engine.
"""
from __future__ import annotations

import struct
from array import array

from analyzer.decode import decode_frame
from analyzer.engine import Row
from analyzer.model import FIN, RST, SYN, flags_text

_FLAG_WORDS = ((SYN, "SYN"), (FIN, "FIN"), (RST, "RST"), (0x08, "PSH"), (0x10, "ACK"), (0x20, "URG"))


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
        """Read the whole file's record headers (call from a worker thread)."""
        if getattr(self.source, "format", "") == "pcap" and self._scan_pcap(cancelled, batch):
            return
        if not self.iterate:
            self.done = True
            return
        off, cap, orig, ts, link = self.offset, self.caplen, self.origlen, self.ts, self.link
        k = 0
        try:
            for rec in self.source:
                off.append(rec.offset)
                cap.append(len(rec.data))
                orig.append(rec.origlen)
                ts.append(rec.ts)
                link.append(rec.linktype)
                k += 1
                if not k % batch:
                    self.count = k
                    if cancelled():
                        return
        except Exception:
            pass                  # the engine's own pass reports what is wrong with the file
        self.count = k
        self.done = True

    def _scan_pcap(self, cancelled, batch: int) -> bool:
        """Classic pcap fast path: hop from record header to record header in the map."""
        from analyzer.sources.pcapfile import MAGICS
        buf = self.source.buffer
        size = len(buf)
        if size < 24 or bytes(buf[:4]) not in MAGICS:
            return False
        endian, scale, rec_size = MAGICS[bytes(buf[:4])]
        if rec_size != 16:
            return False
        linktype = struct.unpack_from(endian + "I", buf, 20)[0] & 0x0FFFFFFF
        hdr = struct.Struct(endian + "IIII")
        unpack = hdr.unpack_from
        off_a, cap_a, orig_a, ts_a = self.offset, self.caplen, self.origlen, self.ts
        link_a = self.link
        pos = 24
        k = 0
        while pos + 16 <= size:
            sec, frac, caplen, origlen = unpack(buf, pos)
            if caplen > 0x40000 or pos + 16 + caplen > size:
                break                     # damaged or truncated: the engine's pass reports it
            off_a.append(pos + 16)
            cap_a.append(caplen)
            orig_a.append(origlen)
            ts_a.append(sec + frac * scale)
            link_a.append(linktype)
            pos += 16 + caplen
            k += 1
            if not k % batch:
                self.count = k
                if cancelled():
                    return True
        self.count = k
        self.done = True
        return True

    # -- the engine's read API, for packets 1..count --------------------------------------
    def frame_bytes(self, n: int) -> bytes:
        i = n - 1
        return bytes(self.source.read_frame(self.offset[i], self.caplen[i]))

    def decoded(self, n: int):
        i = n - 1
        return decode_frame(self.link[i], self.frame_bytes(n), self.origlen[i])

    def row(self, n: int) -> Row:
        i = n - 1
        d = self.decoded(n)
        t = self.ts[i] - self.ts[0] if self.count else 0.0
        tags = set()
        if d.transport == "tcp":
            words = ", ".join(w for bit, w in _FLAG_WORDS if d.flags & bit) or flags_text(d.flags)
            info = f"{d.sport} → {d.dport} [{words}] Win={d.window} Len={d.payload_len}"
            if d.flags & SYN:
                tags.add("handshake")
            if d.flags & FIN:
                tags.add("teardown")
            if d.flags & RST:
                tags.add("rst")
        elif d.transport == "udp":
            info = f"{d.sport} → {d.dport} Len={d.payload_len}"
        else:
            info = d.malformed or d.protocol
        if d.malformed:
            tags.add("malformed")
        tags.add("pending")
        return Row(n, t, d.src or "?", d.dst or "?", d.protocol, self.origlen[i],
                   info + "  (not analyzed yet)", frozenset(tags))

    def analysis_bits(self, n: int) -> int:
        return 0

    def stream_of(self, n: int):
        return None

    def message_slices(self, n: int) -> list:
        return []

    def packet_json(self, n: int) -> dict:
        return {}
