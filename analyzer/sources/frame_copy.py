"""A record's frame bytes copied out of a mapped capture file.  The compiled twin of
analyzer/sources/pcapfile.py cimports the C version instead (analyzer/sources/c_frame_copy.pxd:
the bytes made straight from the buffer, no slice object); the pure reader slices the file."""
from __future__ import annotations


def frame_copy(view, start: int, stop: int) -> bytes:
    """Bytes [start, stop) of `view` (cut at its end, as slicing does)."""
    return bytes(view[start:stop])
