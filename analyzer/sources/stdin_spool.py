"""`-r -`: a capture read from standard input (`tcpdump -w - | wirelab packets -r -`).

Standard input is copied once into an anonymous temporary file (it never has a name in the
file system: nothing is left behind), then read like any capture, with random access to its
frames; every later open of "-" in this process (and in forked workers) reads that copy.
The copy is capped at MAX_SPOOL bytes.
"""
from __future__ import annotations

import sys
from typing import BinaryIO

from analyzer.errors import CaptureFormatError
from analyzer.sources.spill import spill

STDIN = "-"
MAX_SPOOL = 16 << 30
_CHUNK = 1 << 20
_spooled: BinaryIO | None = None


def spool_stdin(stream: BinaryIO | None = None, limit: int = MAX_SPOOL) -> str:
    """Copy standard input (or `stream`) into the anonymous file once; returns "-", the
    path under which the capture readers open it.  CaptureFormatError when standard input
    is a terminal, too big, or the copy cannot be written."""
    global _spooled
    if _spooled is not None:
        return STDIN
    if stream is None:
        if sys.stdin is None or sys.stdin.isatty():
            raise CaptureFormatError("-r -: standard input is a terminal, not a capture "
                                     "(pipe one in: tcpdump -w - | wirelab packets -r -)")
        stream = sys.stdin.buffer
    _spooled = spill(iter(lambda: stream.read(_CHUNK), b""), "wirelab-stdin-", limit,
                     f"standard input: capture larger than {limit >> 20} MiB: write it to a "
                     "file first", "standard input: cannot copy it to a temporary file")[0]
    return STDIN


def open_spooled() -> BinaryIO:
    """A new reader of the spooled copy (its own file position)."""
    if _spooled is None:
        raise CaptureFormatError("-: standard input was not read as a capture here")
    return open(f"/proc/self/fd/{_spooled.fileno()}", "rb")


def forget() -> None:
    """Drop the spooled copy (its space is given back when the last reader closes)."""
    global _spooled
    if _spooled is not None:
        _spooled.close()
        _spooled = None
