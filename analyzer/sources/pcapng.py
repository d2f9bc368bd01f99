"""pcapng reader: section header, interface description, enhanced / simple / obsolete packet
blocks, several interfaces and sections (each with its own byte order); other blocks skipped.

Fatal (CaptureFormatError when opened): the first block is not a readable section header
(bad byte-order magic, bad length, unsupported version).  Not fatal (a warning naming the
offset, earlier packets kept, reading stops there): a block whose length is < 12, not a
multiple of 4, beyond the end of the file, or whose trailing length differs; a packet block
whose captured length overflows its block.  Every block advances by >= 12 bytes: no loops.
"""
from __future__ import annotations

import struct


from analyzer.errors import CaptureFormatError
from analyzer.sources import linktypes
from analyzer.sources.capture import RELEASE_EVERY, CaptureSource
from analyzer.sources.record import Record

SHB, IDB, OPB, SPB, EPB = 0x0A0D0D0A, 1, 2, 3, 6
BYTE_ORDER_MAGIC = 0x1A2B3C4D
_new = tuple.__new__
_GOOD, _BAD, _INCOMPLETE = "good", "bad", "incomplete"     # verdicts on a block


class _Order:
    """Structs of one byte order, compiled once."""

    def __init__(self, e: str) -> None:
        self.e = e
        self.u32 = struct.Struct(e + "I").unpack_from
        self.hdr = struct.Struct(e + "II").unpack_from              # type, total length
        self.hdr_epb = struct.Struct(e + "7I").unpack_from          # ... + an EPB's 5 fields
        self.shb = struct.Struct(e + "IHHq").unpack_from            # magic, major, minor, len
        self.idb = struct.Struct(e + "HHI").unpack_from             # linktype, reserved, snaplen
        self.epb = struct.Struct(e + "IIIII").unpack_from           # if, ts hi, ts lo, cap, orig
        self.opb = struct.Struct(e + "HHIIII").unpack_from          # if, drops, hi, lo, cap, orig
        self.opt = struct.Struct(e + "HH").unpack_from
        self.i64 = struct.Struct(e + "q").unpack_from


_LE, _BE = _Order("<"), _Order(">")


class Interface:
    __slots__ = ("linktype", "snaplen", "divisor", "tsoffset")

    def __init__(self, linktype: int, snaplen: int, divisor: int, tsoffset: int) -> None:
        self.linktype, self.snaplen, self.divisor, self.tsoffset = linktype, snaplen, divisor, tsoffset


class PcapngSource(CaptureSource):
    """A pcapng file.  Iterate for Records (each carries its interface's linktype)."""

    format = "pcapng"

    def __init__(self, path: str, file=None) -> None:
        self.linktypes: set[int] = set()
        super().__init__(path, file)

    def _parse_header(self) -> None:
        """The first block must be a section header."""
        buf = self._buf
        if bytes(buf[:4]) != b"\x0a\x0d\x0d\x0a":
            raise CaptureFormatError(f"{self.path}: not a pcapng file (first block is not a "
                                     "section header)")
        problem = self._shb_problem(0)
        if problem:
            raise CaptureFormatError(f"{self.path}: bad pcapng section header: {problem}")

    def _shb_problem(self, pos: int) -> str | None:
        """Why the section header at pos is unusable, or None (then self._o is its order)."""
        buf, end = self._buf, len(self._buf)
        if end - pos < 28:
            return f"truncated ({end - pos} of at least 28 bytes) at offset {pos}"
        bom = bytes(buf[pos + 8:pos + 12])
        if bom == b"\x4d\x3c\x2b\x1a":
            o = _LE
        elif bom == b"\x1a\x2b\x3c\x4d":
            o = _BE
        else:
            return f"unknown byte-order magic 0x{bom.hex()} at offset {pos}"
        _t, blen = o.hdr(buf, pos)
        if blen < 28 or blen % 4:
            return f"bad block length {blen} at offset {pos}"
        if pos + blen > end:
            return f"block length {blen} at offset {pos} runs past the end of the file"
        if o.u32(buf, pos + blen - 4)[0] != blen:
            return f"trailing block length differs at offset {pos}"
        _m, major, minor, _slen = o.shb(buf, pos + 8)
        if major != 1:
            return f"unsupported pcapng version {major}.{minor} at offset {pos}"
        self._o = o
        return None

    def _stop(self, text: str, n: int) -> None:
        self.warn(f"{text}: stopped reading there, {n} packets kept")

    def _start_state(self):
        return (0, _LE, [])

    def _scan(self, state, final: bool):
        """Yield records from state (offset, byte order, interfaces); return the state to
        resume from, or None after a bad block.  final=False: an incomplete last block is
        waited for (following a growing file), not warned about."""
        pos, o, ifaces = state
        buf = self._buf
        end = len(buf)
        n = self.packets
        release_at = pos + RELEASE_EVERY
        try:
            while pos < end:
                self.progress = pos
                if pos >= release_at:
                    self._release(pos)
                    release_at = pos + RELEASE_EVERY
                if end - pos < 12:
                    if final:
                        self._stop(f"truncated pcapng block at offset {pos} ({end - pos} bytes)", n)
                    return (pos, o, ifaces)
                if end - pos >= 28:
                    btype, blen, ifid, hi, lo, caplen, origlen = o.hdr_epb(buf, pos)
                else:
                    btype, blen = o.hdr(buf, pos)
                if btype == EPB and 32 <= blen and not blen & 3 and pos + blen <= end:
                    # the common case first: an enhanced packet block, checked in full
                    nxt = pos + blen
                    data_pos = pos + 28
                    if (caplen <= nxt - 4 - data_pos and ifid < len(ifaces)
                            and o.u32(buf, nxt - 4)[0] == blen):
                        itf = ifaces[ifid]
                        n += 1
                        self.packets = n
                        yield _new(Record, (((hi << 32) | lo) / itf.divisor + itf.tsoffset,
                                            itf.linktype, buf[data_pos:data_pos + caplen],
                                            origlen, data_pos))
                        pos = nxt
                        continue
                    # not clean: the general code below says what is wrong
                if btype == SHB:
                    problem = self._shb_problem(pos)
                    if problem:
                        if not final and ("past the end" in problem or "truncated" in problem):
                            return (pos, o, ifaces)
                        self._stop(f"bad pcapng section header: {problem}", n)
                        return None
                    o = self._o
                    ifaces = []
                    pos += o.hdr(buf, pos)[1]
                    continue
                verdict = self._check_block(o, pos, blen, n, final)
                if verdict is not _GOOD:
                    return None if verdict is _BAD else (pos, o, ifaces)
                if btype == EPB or btype == OPB or btype == SPB:
                    rec = self._packet_block(o, btype, pos, blen, ifaces, n)
                    if rec is _BAD:
                        return None
                    if rec is not None:
                        n += 1
                        self.packets = n
                        yield rec
                elif btype == IDB:
                    if not self._interface_block(o, pos, blen, ifaces, n):
                        return None
                # any other block (name resolution, statistics, custom...) is skipped
                pos += blen
            return (pos, o, ifaces)
        finally:
            self.progress = min(max(pos, self.progress), end)

    def _check_block(self, o: _Order, pos: int, blen: int, n: int, final: bool):
        """The block at pos as a whole: _GOOD, _BAD (warned about) or _INCOMPLETE (it runs
        past the end of the file; warned about if final)."""
        buf, end = self._buf, len(self._buf)
        if blen < 12 or blen % 4:
            self._stop(f"bad pcapng block at offset {pos}: block length {blen} "
                       f"({'< 12' if blen < 12 else 'not a multiple of 4'})", n)
            return _BAD
        if pos + blen > end:
            if final:
                self._stop(f"truncated pcapng block at offset {pos}: block length "
                           f"{blen} but only {end - pos} bytes left", n)
            return _INCOMPLETE
        if o.u32(buf, pos + blen - 4)[0] != blen:
            self._stop(f"bad pcapng block at offset {pos}: trailing block length "
                       f"{o.u32(buf, pos + blen - 4)[0]} differs from {blen}", n)
            return _BAD
        return _GOOD

    def _packet_block(self, o: _Order, btype: int, pos: int, blen: int, ifaces: list, n: int):
        """The Record of a whole, checked enhanced / obsolete / simple packet block; None for
        a packet skipped with a warning; _BAD (warned about) when nothing more can be read."""
        buf = self._buf
        body, body_end = pos + 8, pos + blen - 4
        if btype == SPB:
            if body_end - body < 4:
                self._stop(f"bad pcapng block at offset {pos}: simple packet block "
                           f"too short ({blen} bytes)", n)
                return _BAD
            if not ifaces:
                self.warn(f"simple packet block at offset {pos} before any interface "
                          "description: packet skipped")
                return None
            itf = ifaces[0]
            origlen = o.u32(buf, body)[0]
            data_pos = body + 4
            caplen = min(origlen, body_end - data_pos)
            if itf.snaplen:
                caplen = min(caplen, itf.snaplen)
            return _new(Record, (0.0, itf.linktype, buf[data_pos:data_pos + caplen],
                                 origlen, data_pos))
        if body_end - body < 20:
            self._stop(f"bad pcapng block at offset {pos}: packet block too short "
                       f"({blen} bytes)", n)
            return _BAD
        if btype == EPB:
            ifid, hi, lo, caplen, origlen = o.epb(buf, body)
        else:
            ifid, _drops, hi, lo, caplen, origlen = o.opb(buf, body)
        data_pos = body + 20
        if caplen > body_end - data_pos:
            self._stop(f"bad pcapng block at offset {pos}: captured length "
                       f"{caplen} exceeds its block ({blen} bytes)", n)
            return _BAD
        if ifid >= len(ifaces):
            self.warn(f"packet block at offset {pos} names interface {ifid} but "
                      f"the section has {len(ifaces)}: packet skipped")
            return None
        itf = ifaces[ifid]
        ts = ((hi << 32) | lo) / itf.divisor + itf.tsoffset
        return _new(Record, (ts, itf.linktype, buf[data_pos:data_pos + caplen], origlen, data_pos))

    def _interface_block(self, o: _Order, pos: int, blen: int, ifaces: list, n: int) -> bool:
        """Append the interface an IDB describes to ifaces; False (warned about) if it is
        too short to read."""
        body, body_end = pos + 8, pos + blen - 4
        if body_end - body < 8:
            self._stop(f"bad pcapng block at offset {pos}: interface description "
                       f"too short ({blen} bytes)", n)
            return False
        lt, _res, snaplen = o.idb(self._buf, body)
        divisor, tsoffset = self._if_options(o, body + 8, body_end)
        ifaces.append(Interface(lt, snaplen, divisor, tsoffset))
        self.linktypes.add(lt)
        if not linktypes.is_supported(lt):
            self.warn(linktypes.unsupported_warning(lt))
        return True

    def _if_options(self, o: _Order, pos: int, end: int) -> tuple[int, int]:
        """if_tsresol (9) and if_tsoffset (14) from an IDB's options: (divisor, offset s)."""
        buf = self._buf
        divisor, tsoffset = 1_000_000, 0
        while pos + 4 <= end:
            code, length = o.opt(buf, pos)
            if code == 0:
                break
            val = pos + 4
            if val + length > end:
                break
            if code == 9 and length >= 1:
                r = buf[val]
                divisor = 2 ** (r & 0x7F) if r & 0x80 else 10 ** min(r, 30)
            elif code == 14 and length >= 8:
                tsoffset = o.i64(buf, val)[0]
            pos = val + ((length + 3) & ~3)
        return divisor, tsoffset
