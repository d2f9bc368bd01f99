"""PcapngWriter: write a pcapng capture incrementally (`wirelab capture -w x.pcapng`).

One section header (with a comment, the OS and the application, as dumpcap writes them), one
interface description (name, link type, snap length, microsecond or nanosecond timestamps),
then an enhanced packet block per packet.  Buffered and flushed like PcapWriter (the
same BufferedCaptureWriter: `write`/`tick`/`flush`/`close`, `packets`, `saved`, `size`).
"""
from __future__ import annotations

import os
import platform
import struct
from typing import BinaryIO

from analyzer.sources.write_buffer import BufferedCaptureWriter

SHB, IDB, EPB = 0x0A0D0D0A, 1, 6
OPT_END, OPT_COMMENT = 0, 1
SHB_OS, SHB_USERAPPL = 3, 4
IF_NAME, IF_TSRESOL = 2, 9
_U32 = struct.Struct("<I")
_OPT = struct.Struct("<HH")
_EPB = struct.Struct("<IIIIIII")          # type, length, interface, ts hi, ts lo, caplen, origlen
APPLICATION = "wirelab 0.1.0"


def _pad(n: int) -> int:
    return -n & 3


def option(code: int, value: bytes) -> bytes:
    """One pcapng option: code, length, value padded to 4 bytes."""
    return _OPT.pack(code, len(value)) + value + b"\0" * _pad(len(value))


def block(btype: int, body: bytes) -> bytes:
    """A whole block: type, total length, body (already padded), total length again."""
    total = 12 + len(body)
    return _U32.pack(btype) + _U32.pack(total) + body + _U32.pack(total)


def section_header(comment: str | None = None) -> bytes:
    opts = b""
    if comment:
        opts += option(OPT_COMMENT, comment.encode())
    opts += option(SHB_OS, f"{platform.system()} {platform.release()}".encode())
    opts += option(SHB_USERAPPL, APPLICATION.encode())
    opts += _OPT.pack(OPT_END, 0)
    return block(SHB, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + opts)


def interface_description(linktype: int, snaplen: int, name: str | None,
                          nanosecond: bool) -> bytes:
    opts = b""
    if name:
        opts += option(IF_NAME, name.encode())
    opts += option(IF_TSRESOL, bytes([9 if nanosecond else 6]))
    opts += _OPT.pack(OPT_END, 0)
    return block(IDB, struct.pack("<HHI", linktype, 0, snaplen) + opts)


class PcapngWriter(BufferedCaptureWriter):
    """`PcapngWriter(path_or_file, linktype=1, snaplen=262144, nanosecond=False,
    interface=None, comment=None)`; the rest as PcapWriter."""

    format = "pcapng"

    def __init__(self, path_or_file: str | BinaryIO, linktype: int = 1, snaplen: int = 262144,
                 nanosecond: bool = False, flush_interval: float | None = 0.5,
                 interface: str | None = None, comment: str | None = None) -> None:
        super().__init__(path_or_file, snaplen, flush_interval)
        self.linktype = linktype
        self.nanosecond = nanosecond
        self._units = 1_000_000_000 if nanosecond else 1_000_000
        self._start(section_header(comment)
                    + interface_description(linktype, snaplen, interface, nanosecond))

    def write(self, ts: float, data: bytes, origlen: int | None = None) -> None:
        data, origlen = self._cut(data, origlen)
        n = len(data)
        stamp = round(ts * self._units)
        pad = -n & 3
        total = 32 + n + pad
        self._record(_EPB.pack(EPB, total, 0, (stamp >> 32) & 0xFFFFFFFF, stamp & 0xFFFFFFFF,
                               n, origlen), data, b"\0" * pad + _U32.pack(total))


def writer_for(path: str, file_format: str | None = None, **options):
    """A PcapWriter or PcapngWriter for `path`: `file_format` ("pcap"/"pcapng") if given,
    else pcapng when the name ends in .pcapng or .ntar, else pcap.  `interface` and
    `comment` are used by pcapng only."""
    from analyzer.sources.pcapwriter import PcapWriter
    fmt = file_format or format_for_name(path)
    if fmt == "pcapng":
        return PcapngWriter(path, **options)
    options.pop("interface", None)
    options.pop("comment", None)
    return PcapWriter(path, **options)


def format_for_name(path: str) -> str:
    return "pcapng" if os.fspath(path).lower().endswith((".pcapng", ".ntar")) else "pcap"
