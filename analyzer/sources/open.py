"""open_capture(path): pick the pcap or pcapng reader by the file's magic number."""
from __future__ import annotations

from analyzer.errors import CaptureFormatError
from analyzer.sources.capture import CaptureSource, open_capture_file
from analyzer.sources.pcapfile import MAGICS, PCAPNG_MAGIC, PcapSource
from analyzer.sources.pcapng import PcapngSource


def detect_format(path: str) -> str:
    """"pcap" or "pcapng" from the first 4 bytes; CaptureFormatError otherwise."""
    with open_capture_file(path) as f:
        magic = f.read(4)
    if not magic:
        raise CaptureFormatError(f"{path}: empty file (0 bytes), not a capture")
    if magic == PCAPNG_MAGIC:
        return "pcapng"
    if magic in MAGICS:
        return "pcap"
    if len(magic) < 4:
        raise CaptureFormatError(f"{path}: too short to be a capture ({len(magic)} bytes)")
    raise CaptureFormatError(f"{path}: unknown file format (magic 0x{magic.hex()}), "
                             "not a pcap or pcapng capture")


def open_capture(path: str) -> CaptureSource:
    """A PcapSource or PcapngSource for `path` (iterable of Records, see CaptureSource)."""
    path = str(path)
    if detect_format(path) == "pcapng":
        return PcapngSource(path)
    return PcapSource(path)
