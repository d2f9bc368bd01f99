"""Helpers shared by the stream codecs: a receive buffer, the dead-after-error rule, previews."""
from __future__ import annotations

import struct

from .base import LocalProtocolError, RemoteProtocolError

# 4-byte length prefixes: "network" = struct.pack('!I'), "native" = struct.pack('<i') (x86 'i')
LENGTH_STRUCTS = {"network": struct.Struct("!I"), "native": struct.Struct("<i")}
VARIANTS = ("network", "native")


def length_struct(variant: str) -> struct.Struct:
    try:
        return LENGTH_STRUCTS[variant]
    except KeyError:
        raise LocalProtocolError(f"unknown byte-order variant {variant!r} (network|native)") from None


def preview(data: bytes, limit: int = 32) -> str:
    """A short quoted preview of bytes for summaries: 'hello\\n'..."""
    text = repr(bytes(data[:limit]))[1:]  # drop the b of b'...'
    return text + ("..." if len(data) > limit else "")


class ReceiveBuffer:
    """A bytearray consumed from the front in amortised O(1) (read position + compaction)."""

    __slots__ = ("_b", "_pos")

    def __init__(self) -> None:
        self._b = bytearray()
        self._pos = 0

    def __len__(self) -> int:
        return len(self._b) - self._pos

    def append(self, data: bytes) -> None:
        if self._pos:
            if self._pos == len(self._b):
                self._b.clear()
                self._pos = 0
            elif self._pos > len(self._b) // 2:
                del self._b[: self._pos]
                self._pos = 0
        self._b += data

    def unpack(self, st: struct.Struct, offset: int = 0) -> tuple:
        return st.unpack_from(self._b, self._pos + offset)

    def peek(self, n: int) -> bytes:
        return bytes(self._b[self._pos: self._pos + n])

    def take(self, n: int) -> bytes:
        out = bytes(self._b[self._pos: self._pos + n])
        self._pos += len(out)
        return out

    def take_all(self) -> bytes:
        return self.take(len(self))

    def find(self, sub: bytes, start: int = 0) -> int:
        i = self._b.find(sub, self._pos + start)
        return -1 if i < 0 else i - self._pos


class CodecBase:
    """Dead-after-RemoteProtocolError and no-data-after-EOF bookkeeping for Connection classes.

    Subclasses implement `_receive(data)` (data != b"") and `_eof()`, both returning events.
    A codec whose every event ends a message may also offer `receive_sizes(data, start=0,
    stop=None)` (a list of the wire length of each message data[start:stop] completes, no
    event objects: the analyzer's fast path); the others leave it None.
    """

    __slots__ = ("_error", "_closed")     # (subclasses without __slots__ get a __dict__)
    receive_sizes = None

    def __init__(self) -> None:
        self._error: RemoteProtocolError | None = None
        self._closed = False

    def receive_data(self, data: bytes) -> list:
        if self._error is not None:
            raise RemoteProtocolError(f"connection already failed: {self._error}")
        if self._closed:
            if not data:
                return []
            raise LocalProtocolError("receive_data() after end of stream")
        try:
            if not data:
                self._closed = True
                return self._eof()
            return self._receive(bytes(data))
        except RemoteProtocolError as exc:
            self._error = exc
            raise

    @property
    def failed(self) -> RemoteProtocolError | None:
        """The error that killed this connection, or None."""
        return self._error

    def _receive(self, data: bytes) -> list:  # pragma: no cover - abstract
        raise NotImplementedError

    def _eof(self) -> list:  # pragma: no cover - abstract
        raise NotImplementedError

from dissectors.accelerated import accelerate  # noqa: E402 - the compiled twin, setup.py
accelerate(globals())
