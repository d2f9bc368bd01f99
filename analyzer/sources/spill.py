"""Bytes copied into an anonymous temporary file (never named in the file system, so nothing
is left behind), capped, for readers that need random access to a stream: standard input,
a decompressed capture."""
from __future__ import annotations

import tempfile
from collections.abc import Iterable
from typing import BinaryIO

from analyzer.errors import CaptureFormatError


def spill(chunks: Iterable[bytes], prefix: str, limit: int, too_big: str, cannot_copy: str,
          stops: tuple[type[BaseException], ...] = ()) -> tuple[BinaryIO, int, BaseException | None]:
    """Copy `chunks` into an anonymous file: (the file, at offset 0; bytes copied; the
    exception of `stops` that ended the copy early, or None).  CaptureFormatError
    `too_big` past `limit` bytes, or `cannot_copy (why)` when the file cannot be written."""
    out = tempfile.TemporaryFile(prefix=prefix)
    total = 0
    stopped = None
    try:
        try:
            for chunk in chunks:
                total += len(chunk)
                if total > limit:
                    raise CaptureFormatError(too_big)
                out.write(chunk)
        except stops as exc:
            stopped = exc
        out.flush()
    except OSError as exc:
        out.close()
        raise CaptureFormatError(f"{cannot_copy} ({exc.strerror or exc})") from None
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out, total, stopped
