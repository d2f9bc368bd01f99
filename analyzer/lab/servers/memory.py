"""Give the memory of ended connections back to the operating system (glibc).

glibc raises its mmap threshold each time it frees a large mmap()ed block (up to 32 MiB), so
after a few multi-megabyte receive buffers, later ones come from the heap arenas, where
freed pages stay with the process.  Measured with `wirelab serve lenmsg` and 64 connections
each holding 15 MiB of a frame: 15 MB above the start stayed after all closed, with or
without malloc_trim(0); with the threshold fixed at glibc's default 128 KiB, 2 MB.
So the server fixes it once; a big buffer is then one mmap(), unmapped when freed.
"""
from __future__ import annotations

import ctypes

M_MMAP_THRESHOLD = -3          # glibc <malloc.h>
MMAP_THRESHOLD = 128 * 1024    # glibc's starting value, kept from now on

try:
    _mallopt = ctypes.CDLL(None).mallopt       # glibc
except AttributeError:                         # another C library: nothing to fix
    _mallopt = None


def fix_mmap_threshold() -> None:
    """Blocks of MMAP_THRESHOLD bytes and more are mmap()ed (and unmapped when freed)."""
    if _mallopt is not None:
        _mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
