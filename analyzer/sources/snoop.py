"""Solaris snoop capture reader (RFC 1761), as Wireshark reads it.

File header: "snoop\\0\\0\\0", version (2), datalink type, all big-endian.  Each record: original
length, included length, record length (header + data + padding), cumulative drops, seconds,
microseconds, then the data padded to the record length.  Snoop datalink types are mapped to
pcap link types (Ethernet, Token Ring, FDDI, ATM...); damage is handled as in the pcap reader:
a truncated or impossible record stops reading with a warning, earlier packets kept.
"""
from __future__ import annotations

import struct

from analyzer.errors import CaptureFormatError
from analyzer.sources import linktypes
from analyzer.sources.capture import MAX_CAPLEN, RELEASE_EVERY, CaptureSource
from analyzer.sources.record import Record

MAGIC = b"snoop\x00\x00\x00"
_HEAD = struct.Struct(">8sII")
_REC = struct.Struct(">IIIIII")      # original, included, record length, drops, sec, usec
# snoop datalink type -> pcap LINKTYPE (Wireshark's snoop.c table, the types it decodes)
DATALINKS = {0: 1, 4: 1, 2: 6, 8: 10, 0x12: 123}
_new = tuple.__new__


class SnoopSource(CaptureSource):
    """A snoop file.  Iterate for Records; see CaptureSource for the rest."""

    format = "snoop"

    def _parse_header(self) -> None:
        head = bytes(self._buf[:16])
        if len(head) < 16 or not head.startswith(MAGIC):
            raise CaptureFormatError(f"{self.path}: truncated snoop file header "
                                     f"({len(head)} of 16 bytes)")
        _magic, version, datalink = _HEAD.unpack(head)
        if version not in (2, 3, 4):
            raise CaptureFormatError(f"{self.path}: unsupported snoop version {version}")
        if datalink not in DATALINKS:
            raise CaptureFormatError(f"{self.path}: snoop datalink type {datalink} is not one "
                                     "wirelab reads (Ethernet, Token Ring, FDDI, ATM)")
        self.linktype = DATALINKS[datalink]
        self.linktypes = {self.linktype}
        if not linktypes.is_supported(self.linktype):
            self.warn(linktypes.unsupported_warning(self.linktype))

    def _start_state(self):
        return 16

    def _stop(self, text: str, n: int) -> None:
        self.warn(f"{text}: stopped reading there, {n} packets kept")

    def _scan(self, pos: int, final: bool):
        """Yield the records from offset `pos`; return where the next one starts, or None
        after a corrupt record (final=False: an incomplete last record is waited for)."""
        buf = self._buf
        end = len(buf)
        unpack = _REC.unpack_from
        lt = self.linktype
        n = self.packets
        release_at = pos + RELEASE_EVERY
        try:
            while pos + 24 <= end:
                if pos >= release_at:
                    self._release(pos)
                    release_at = pos + RELEASE_EVERY
                origlen, caplen, reclen, _drops, sec, usec = unpack(buf, pos)
                if caplen > MAX_CAPLEN or reclen < 24 + caplen:
                    self._stop(f"corrupt snoop record at offset {pos}: included length "
                               f"{caplen}, record length {reclen}", n)
                    return None
                if pos + reclen > end:
                    if final:
                        self._stop(f"truncated snoop record at offset {pos}: record length "
                                   f"{reclen} but only {end - pos} bytes left", n)
                    return pos
                data_pos = pos + 24
                n += 1
                self.packets = n
                self.progress = pos + reclen
                yield _new(Record, (sec + usec * 1e-6, lt, buf[data_pos:data_pos + caplen],
                                    origlen, data_pos))
                pos += reclen
            if pos < end and final:
                self._stop(f"truncated snoop record header at offset {pos} "
                           f"({end - pos} of 24 bytes)", n)
            return pos
        finally:
            self.progress = max(self.progress, min(pos, end))
