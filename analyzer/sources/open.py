"""open_capture(path): pick the reader by the file's magic number (never by its name).

pcap, pcapng and Solaris snoop are read directly; gzip- and zstd-compressed captures are
decompressed into an anonymous temporary file first (analyzer.sources.compressed) and then
read the same way.  Anything else is refused with one line saying what the file looks like
("bzip2-compressed", "text"...).  "-" is standard input spooled by stdin_spool.
"""
from __future__ import annotations

from typing import BinaryIO

from analyzer.errors import CaptureFormatError
from analyzer.sources import compressed, formats
from analyzer.sources.capture import CaptureSource, open_capture_file
from analyzer.sources.pcapfile import MAGICS, PCAPNG_MAGIC, PcapSource
from analyzer.sources.pcapng import PcapngSource
from analyzer.sources.snoop import MAGIC as SNOOP_MAGIC, SnoopSource

READERS = {"pcap": PcapSource, "pcapng": PcapngSource, "snoop": SnoopSource}
_HEAD = 64          # bytes sniffed


def _format_of(head: bytes, path: str, compression: str | None) -> str:
    """"pcap", "pcapng" or "snoop" from the first bytes; CaptureFormatError otherwise."""
    inside = f"{compression}-compressed file holding " if compression else ""
    if not head:
        if compression:
            raise CaptureFormatError(f"{path}: {compression}-compressed, but nothing in it "
                                     "once decompressed (empty or cut short)")
        raise CaptureFormatError(f"{path}: empty file (0 bytes), not a capture")
    magic = head[:4]
    if magic == PCAPNG_MAGIC:
        return "pcapng"
    if magic in MAGICS:
        return "pcap"
    if head.startswith(SNOOP_MAGIC):
        return "snoop"
    if len(head) < 4:
        raise CaptureFormatError(f"{path}: too short to be a capture ({len(head)} bytes)")
    if compression and compressed.compression_of(head):
        raise CaptureFormatError(f"{path}: {inside}another compressed file: decompress it "
                                 "first")
    what, advice = formats.looks_like(head)
    raise CaptureFormatError(f"{path}: unknown file format: {inside}{what} (magic "
                             f"0x{magic.hex()}), not a pcap, pcapng or snoop capture"
                             + (f": {advice}" if advice else ""))


def _head(f: BinaryIO) -> bytes:
    f.seek(0)
    return f.read(_HEAD)


def detect_format(path: str) -> str:
    """"pcap", "pcapng" or "snoop" (of the decompressed content for a compressed file);
    CaptureFormatError otherwise."""
    with open_capture_file(path) as f:
        head = _head(f)
        kind = compressed.compression_of(head)
        if kind:
            head = compressed.peek(f, kind, _HEAD)
    return _format_of(head, path, kind)


def open_capture(path: str) -> CaptureSource:
    """A PcapSource, PcapngSource or SnoopSource for `path` (iterable of Records, see
    CaptureSource); a compressed capture is read from a decompressed anonymous copy (its
    `compression` says which), removed when the source is closed."""
    path = str(path)
    f = open_capture_file(path)
    try:
        head = _head(f)
        kind = compressed.compression_of(head)
        warning = None
        if kind:
            plain, warning = compressed.decompress(f, kind, path)
            f.close()
            f = plain
            head = _head(f)
        reader = READERS[_format_of(head, path, kind)]
        f.seek(0)
        src = reader(path, f)
    except BaseException:
        f.close()
        raise
    src.compression = kind
    if warning:
        src.warn(warning)
    return src
