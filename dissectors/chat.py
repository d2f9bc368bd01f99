"""chat: unframed text (port 9000).  The server answers every chunk it reads upper-cased.

There are no boundaries on the wire.  The decoder splits on b"\\n" (each line including its
newline is one message) and flushes the rest at end of stream; a run without a newline is
emitted in chunks of `max_frame` bytes with end_of_message=False until a newline or EOF.
"""
from __future__ import annotations

from dataclasses import dataclass

from .base import CLIENT, MAX_FRAME, SERVER, Event, LocalProtocolError, Role  # noqa: F401
from .base import DataEvent
from ._stream import CodecBase, ReceiveBuffer, preview


@dataclass(frozen=True, slots=True)
class Text(DataEvent):
    """A piece of chat text (a whole line when end_of_message and it ends with a newline)."""

    end_of_message: bool = True

    def summary(self) -> str:
        return f"len={len(self.data)} {preview(self.data)}"

    def fields(self) -> dict:
        return {"length": len(self.data), "text": self.data.decode("utf-8", "replace")}


class Connection(CodecBase):
    """Chat codec.  Options: max_frame (largest chunk held before emitting a partial line)."""

    def __init__(self, our_role: Role, *, max_frame: int = MAX_FRAME, variant: str | None = None):
        super().__init__()
        if max_frame < 1:
            raise LocalProtocolError("max_frame must be >= 1")
        self.our_role = our_role
        self.max_frame = max_frame
        self._buf = ReceiveBuffer()
        self._scanned = 0          # bytes of _buf already known to hold no newline
        self._partial = False      # a message was started by an end_of_message=False chunk

    def _receive(self, data: bytes) -> list[Text]:
        out: list[Text] = []
        if not len(self._buf) and len(data) <= self.max_frame:
            # fast path: whole lines straight from `data`
            pos = 0
            while True:
                i = data.find(b"\n", pos)
                if i < 0:
                    break
                out.append(Text(data[pos: i + 1], True))
                pos = i + 1
            if out:
                self._partial = False
            if pos == len(data):
                return out
            data = data[pos:]
        self._buf.append(data)
        while True:
            i = self._buf.find(b"\n", self._scanned)
            if i >= 0 and i < self.max_frame:
                out.append(Text(self._buf.take(i + 1), True))
                self._scanned = 0
                self._partial = False
                continue
            if len(self._buf) >= self.max_frame:
                out.append(Text(self._buf.take(self.max_frame), False))
                self._scanned = 0
                self._partial = True
                continue
            self._scanned = len(self._buf)
            return out

    def _eof(self) -> list[Text]:
        if len(self._buf) or self._partial:
            self._partial = False
            return [Text(self._buf.take_all(), True)]
        return []

    def send(self, event: Text) -> bytes:
        if not isinstance(event, Text):
            raise LocalProtocolError(f"chat cannot send {type(event).__name__}")
        return bytes(event.data)


def probe(c2s: bytes, s2c: bytes) -> bool:
    """Text one way, the same text upper-cased the other way (or mostly printable text)."""
    if not c2s:
        return False
    if s2c:
        n = min(len(c2s), len(s2c))
        return s2c[:n] == c2s[:n].upper()
    sample = c2s[:256]
    printable = sum(1 for b in sample if 32 <= b < 127 or b in (9, 10, 13))
    return printable >= 0.9 * len(sample)
