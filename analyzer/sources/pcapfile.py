"""Classic pcap reader (libpcap format): micro/nanosecond, both byte orders, over an mmap.

Fatal (CaptureFormatError when opened): empty file, truncated global header, unknown magic,
a pcapng file, unsupported version.  Not fatal (a warning, earlier packets kept, reading stops
there): truncated last record (header or body), a caplen no link layer has (above 256 KiB,
Wireshark's maximum, or the file's snaplen if that is larger, up to 1 MiB: a corrupt record
header, nothing is allocated for it).  A caplen above the file's snaplen but below that limit
is warned about once (with the packet number) and read on, as tshark does: such files are
common (Scapy writes snaplen 65535 and 65550-byte loopback frames; other tools write a
snaplen smaller than their frames).  An unsupported linktype is warned about once; its
packets are still yielded.
"""
from __future__ import annotations

import struct
from typing import Iterator

from analyzer.errors import CaptureFormatError
from analyzer.sources import linktypes
from analyzer.sources.capture import MAX_CAPLEN, RELEASE_EVERY, CaptureSource
from analyzer.sources.frame_copy import frame_copy  # the twin cimports it (setup.py)
from analyzer.sources.record import PacketLocation, Record, RecordColumns

PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"

# magic -> (byte order, seconds per fraction unit, record header size)
MAGICS: dict[bytes, tuple[str, float, int]] = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6, 16),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6, 16),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9, 16),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9, 16),
    b"\x34\xcd\xb2\xa1": ("<", 1e-6, 24),   # Kuznetzov's "modified" pcap (extra 8 bytes)
    b"\xa1\xb2\xcd\x34": (">", 1e-6, 24),
}

LEGACY_SNAPLEN_MAX = 262144   # Wireshark's maximum packet size for Ethernet
_ACCEPT, _CORRUPT, _INCOMPLETE = "accept", "corrupt", "incomplete"   # _unusual_record's verdicts
# why _records_into stopped: its limit, the end, a record to check, pages to release
_MORE, _END, _UNUSUAL, _RELEASE = "more", "end", "unusual", "release"
# True in the compiled twin (setup.py writes it so): there the record headers are read in C
COMPILED = False


class PcapSource(CaptureSource):
    """A classic pcap file.  Iterate for Records; see CaptureSource for the rest."""

    format = "pcap"
    scan_reads_only = True      # scan_headers below only reads the map

    def _parse_header(self) -> None:
        buf = self._buf
        head = bytes(buf[:24])
        magic = head[:4]
        if magic == PCAPNG_MAGIC:
            raise CaptureFormatError(f"{self.path}: is a pcapng file, not pcap "
                                     "(open it with open_capture, which detects the format)")
        if len(head) < 4:
            raise CaptureFormatError(f"{self.path}: too short to be a capture ({len(head)} bytes)")
        if magic not in MAGICS:
            raise CaptureFormatError(f"{self.path}: unknown file format (magic 0x{magic.hex()}), "
                                     "not a pcap or pcapng capture")
        if len(head) < 24:
            raise CaptureFormatError(f"{self.path}: truncated pcap global header "
                                     f"({len(head)} of 24 bytes)")
        endian, scale, rec_size = MAGICS[magic]
        major, minor, _zone, _sigfigs, snaplen, network = struct.unpack(endian + "HHiIII", head[4:])
        if major != 2:
            raise CaptureFormatError(f"{self.path}: unsupported pcap version {major}.{minor}")
        self.endian = endian
        self.nanosecond = scale == 1e-9
        self.snaplen = snaplen
        self.linktype = network & 0xFFFF       # upper bits: FCS length flags
        self._scale = scale
        self._rec = struct.Struct(endian + "IIII")
        self._rec_size = rec_size
        # a caplen above max_caplen is a corrupt record header, rejected before any
        # allocation; one above the snaplen (but not max_caplen) is read with a warning
        self.max_caplen = max(LEGACY_SNAPLEN_MAX, min(snaplen, MAX_CAPLEN))
        # the fast path's bound: a caplen above it (or the snaplen) takes _unusual_record
        self._usual = min(snaplen if snaplen > 0 else 65535, 65535)
        self.linktypes = {self.linktype}
        if not linktypes.is_supported(self.linktype):
            self.warn(linktypes.unsupported_warning(self.linktype))

    def _start_state(self):
        return 24

    def _unusual_record(self, pos: int, caplen: int, end: int, n: int, final: bool):
        """The rare cases of the record at `pos` (caplen above 65535 or the snaplen, or past
        the end of the file), for iteration and the header scan alike: _ACCEPT, _CORRUPT (a
        warning given, nothing more can be read) or _INCOMPLETE (warned about if final)."""
        limit = self.max_caplen
        if caplen > limit:
            self.warn(f"record at offset {pos}: caplen {caplen} exceeds snaplen "
                      f"{limit} (corrupt record header): stopped reading there, "
                      f"{n} packets kept")
            return _CORRUPT
        if caplen > self.snaplen > 0:
            self.warn_once("caplen above snaplen",
                           f"packet {n + 1} (record at offset {pos}): caplen {caplen} exceeds "
                           f"the file's snaplen {self.snaplen}: read on, as tshark does "
                           "(warned once)")
        data_pos = pos + self._rec_size
        if data_pos + caplen > end:
            if final:
                self.warn(f"truncated record at offset {pos}: caplen {caplen} but only "
                          f"{end - data_pos} bytes left: stopped reading there, "
                          f"{n} packets kept")
            return _INCOMPLETE
        return _ACCEPT

    def _warn_short_header(self, pos: int, end: int, n: int) -> None:
        self.warn(f"truncated record header at offset {pos} ({end - pos} of {self._rec_size} "
                  f"bytes): stopped reading there, {n} packets kept")

    def _scan(self, pos: int, final: bool):
        """Yield the records from offset `pos`; return where the next one starts, or None
        after a corrupt record.  final=False (following a growing file): an incomplete
        last record is not warned about, it is waited for.  Records are read 64 at a time;
        packets and progress move on as each is yielded, and damage is only looked at (and
        warned about) once the reader gets there."""
        while True:
            got = RecordColumns()
            nxt, status = self._scan_into(pos, final, got, 64)
            n = self.packets
            for rec in got:
                n += 1
                self.packets = n
                self.progress = rec[4] + len(rec[2])
                yield rec
            if status is not _MORE:
                self._reached(nxt)
                return None if status is _CORRUPT else nxt
            pos = nxt

    def batches(self, size: int):
        """The Records of one whole pass, up to `size` at a time in columns (RecordColumns,
        for the engine's bulk feed): the record loop in one call a batch."""
        self.packets = 0
        self._released = 0
        pos = self._start_state()
        status = _MORE
        while status is _MORE:
            got = RecordColumns()
            pos, status = self._scan_into(pos, True, got, size)
            if len(got):
                self.packets += len(got)
                self.progress = got.offset[-1] + len(got.data[-1])
                yield got
        self._reached(pos)

    def _reached(self, pos: int) -> None:
        """Reading stopped at `pos`: progress covers it."""
        self.progress = max(self.progress, min(pos, len(self._buf)))

    def _scan_into(self, pos: int, final: bool, out: RecordColumns, limit: int):
        """Append up to `limit` records from offset `pos` (the first after the `packets`
        already counted) to the columns `out`; returns
        (offset of the next record, _MORE when there may be more, _END when no whole record
        is left there (warned about if final), or _CORRUPT at a corrupt record).
        A call that has appended records stops before anything it would warn about: a
        reader that stops after them hears nothing of it (as tshark -c).  The caller moves
        packets and progress on."""
        buf = self._buf
        end = len(buf)
        n = self.packets
        got = 0
        release_at = self._released + RELEASE_EVERY
        take_unusual = False
        while True:
            pos, k, why = _records_into(
                buf, buf, self._rec.unpack_from, self.endian == "<", pos, end, self._rec_size,
                self._scale, self.linktype, self._usual, out, limit - got, release_at,
                take_unusual)
            got += k
            n += k
            if k:
                take_unusual = False
            if why is _RELEASE:
                self._release(pos)
                release_at = pos + RELEASE_EVERY
            elif why is _UNUSUAL:
                if got:                     # looked at once the records before it are read
                    return pos, _MORE
                caplen = self._rec.unpack_from(buf, pos)[2]
                verdict = self._unusual_record(pos, caplen, end, n, final)
                if verdict is not _ACCEPT:
                    return pos, (_CORRUPT if verdict is _CORRUPT else _END)
                take_unusual = True
            else:
                if why is _END and pos < end and final:
                    if got:                 # (warned about by the next call, likewise)
                        return pos, _MORE
                    self._warn_short_header(pos, end, n)
                return pos, why

    def scan_headers(self) -> Iterator[PacketLocation]:
        """A PacketLocation tuple per packet: hops from record header to record header over the map,
        no packet bytes copied; stops where iteration stops, with the same warning.  Only
        reads the map (progress, packets untouched): may run beside an iteration."""
        buf = self._buf
        end = len(buf)
        unpack = self._rec.unpack_from
        rsize = self._rec_size
        scale = self._scale
        lt = self.linktype
        usual = self._usual
        n = 0
        pos = 24
        while pos + rsize <= end:
            sec, frac, caplen, origlen = unpack(buf, pos)
            data_pos = pos + rsize
            nxt = data_pos + caplen
            if caplen > usual or nxt > end:
                if self._unusual_record(pos, caplen, end, n, True) is not _ACCEPT:
                    return
            n += 1
            yield (data_pos, caplen, origlen, sec + frac * scale, lt)
            pos = nxt
        if pos < end:
            self._warn_short_header(pos, end, n)


def _records_into(buf, view, unpack, little: bool, pos: int, end: int, rsize: int,
                  scale: float, lt: int, usual: int, out: RecordColumns, limit: int,
                  stop_at: int, take_first: bool):
    """The record loop of PcapSource._scan_into over `buf` (`view`: the same buffer, which the
    twin reads the record headers of in C; `unpack` the header struct's unpack_from, used
    here).  Appends up to `limit` records to the columns `out` and stops at the first record
    whose caplen is above `usual` or runs past `end` (unless `take_first`: one already
    checked), or at `stop_at`; returns (offset reached, records appended, why it stopped:
    _MORE, _END, _UNUSUAL or _RELEASE)."""
    base = len(out.data)
    out.grow(limit)                 # rows filled in place (C numbers in the twin), cut after
    try:
        return _fill_records(buf, view, unpack, little, pos, end, rsize, scale, lt, usual,
                             out.data, out.ts, out.linktype, out.origlen, out.offset, base,
                             limit, stop_at, take_first)
    finally:
        out.cut()


def _fill_records(buf, view, unpack, little: bool, pos: int, end: int, rsize: int,
                  scale: float, lt: int, usual: int, data, ts, linktype, origlen, offset,
                  base: int, limit: int, stop_at: int, take_first: bool):
    """_records_into's loop: rows base, base + 1, ... of the number columns are filled and
    the frames appended to `data`."""
    got = 0
    if COMPILED:
        # byte i of a header number is at i0..i3 (little-endian) or i3..i0 (big-endian)
        i0, i1, i2, i3 = (0, 1, 2, 3) if little else (3, 2, 1, 0)
    while pos + rsize <= end:
        if got == limit:
            return pos, got, _MORE
        if pos >= stop_at:
            return pos, got, _RELEASE
        if COMPILED:                    # (the top byte first: 64-bit C shifts)
            sec, frac = view[pos + i3], view[pos + 4 + i3]
            caplen, olen = view[pos + 8 + i3], view[pos + 12 + i3]
            sec = (sec << 24) | (view[pos + i2] << 16) | (view[pos + i1] << 8) | view[pos + i0]
            frac = ((frac << 24) | (view[pos + 4 + i2] << 16) | (view[pos + 4 + i1] << 8)
                    | view[pos + 4 + i0])
            caplen = ((caplen << 24) | (view[pos + 8 + i2] << 16) | (view[pos + 8 + i1] << 8)
                      | view[pos + 8 + i0])
            olen = ((olen << 24) | (view[pos + 12 + i2] << 16)
                    | (view[pos + 12 + i1] << 8) | view[pos + 12 + i0])
        else:
            sec, frac, caplen, olen = unpack(buf, pos)
        data_pos = pos + rsize
        nxt = data_pos + caplen
        if (caplen > usual or nxt > end) and not take_first:
            return pos, got, _UNUSUAL
        take_first = False
        row = base + got
        ts[row] = sec + frac * scale
        linktype[row] = lt
        origlen[row] = olen
        offset[row] = data_pos
        data.append(frame_copy(view, data_pos, nxt) if COMPILED else buf[data_pos:nxt])
        got += 1
        pos = nxt
    return pos, got, _END


def read_pcap(path: str) -> Iterator[Record]:
    """Records of a classic pcap file (kept for old callers; prefer open_capture)."""
    src = PcapSource(path)
    try:
        yield from src
    finally:
        src.close()

from dissectors.accelerated import accelerate  # noqa: E402 - the compiled twin, setup.py
accelerate(globals())
