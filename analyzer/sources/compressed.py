"""Compressed captures (gzip, zstd), read as tshark reads them: transparently, by magic.

The capture is decompressed once into an anonymous temporary file (it never has a name in
the file system, so nothing is left behind, whatever happens to the process) which the
readers then map like any capture: random access to frames stays as cheap as for a plain
file.  The decompressed size is capped (MAX_DECOMPRESSED) so that a "zip bomb" cannot fill
the disk; a stream cut short keeps what it held, with a warning.
"""
from __future__ import annotations

import zlib
from typing import BinaryIO

from analyzer.sources.spill import spill

GZIP, ZSTD = "gzip", "zstd"
MAGICS = {b"\x1f\x8b": GZIP, b"\x28\xb5\x2f\xfd": ZSTD}
MAX_DECOMPRESSED = 16 << 30        # bytes a compressed capture may expand to
_CHUNK = 1 << 20


def compression_of(head: bytes) -> str | None:
    """"gzip" or "zstd" from a file's first bytes, else None."""
    for magic, kind in MAGICS.items():
        if head.startswith(magic):
            return kind
    return None


class _Damaged(Exception):
    """The compressed stream is damaged or cut short (what came before it is kept)."""


def _gzip_chunks(f: BinaryIO):
    """Decompressed chunks of a gzip stream (members one after another), each at most
    _CHUNK bytes, so a bomb never sits in memory; _Damaged at a bad or cut-short spot."""
    d = zlib.decompressobj(31)
    fed = False                     # the current member has been given bytes
    while True:
        data = f.read(_CHUNK)
        if not data:
            break
        while data:
            fed = True
            try:
                out = d.decompress(data, _CHUNK)
            except zlib.error as exc:
                raise _Damaged(str(exc)) from None
            if out:
                yield out
            data = d.unconsumed_tail
            if d.eof:                               # a member ended: another may follow
                rest = d.unused_data.lstrip(b"\0")  # (zero padding after it is ignored)
                if rest and not rest.startswith(b"\x1f\x8b"):
                    raise _Damaged("data after the end of the gzip stream")
                d = zlib.decompressobj(31)
                fed = False
                data = rest + data
    if fed and not d.eof:
        raise _Damaged("compressed data ended before the end-of-stream marker")


def _zstd_chunks(f: BinaryIO):
    import zstandard
    reader = zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True)
    while True:
        try:
            chunk = reader.read(_CHUNK)
        except zstandard.ZstdError as exc:
            raise _Damaged(str(exc)) from None
        if not chunk:
            return
        yield chunk


def _chunks(f: BinaryIO, kind: str):
    return _gzip_chunks(f) if kind == GZIP else _zstd_chunks(f)


def decompress(f: BinaryIO, kind: str, name: str,
               limit: int = MAX_DECOMPRESSED) -> tuple[BinaryIO, str | None]:
    """The content of compressed file `f` in an anonymous temporary file (positioned at 0),
    and a warning if the stream was damaged or cut short (what came before is kept).
    CaptureFormatError when it expands beyond `limit` bytes or cannot be written."""
    f.seek(0)
    out, total, damaged = spill(
        _chunks(f, kind), "wirelab-decompressed-", limit,
        f"{name}: {kind}-compressed capture expands to more than {limit >> 20} MiB: "
        "decompress it yourself if it is genuine",
        f"{name}: cannot decompress into a temporary file", stops=(_Damaged,))
    warning = None if damaged is None else (
        f"{kind}-compressed data damaged or cut short after {total} decompressed bytes "
        f"({damaged}): read up to there")
    return out, warning


def peek(f: BinaryIO, kind: str, n: int) -> bytes:
    """The first `n` decompressed bytes of `f` (fewer if the stream is shorter or damaged)."""
    f.seek(0)
    head = b""
    try:
        for chunk in _chunks(f, kind):
            head += chunk
            if len(head) >= n:
                break
    except _Damaged:
        pass
    return head[:n]
