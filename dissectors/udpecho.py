"""udpecho: each datagram is one message, echoed upper-cased (udp port 9005).

UDP has no stream: feed one datagram per call.  `receive_datagram(data)` always yields one
Datagram (an empty datagram included); `receive_data(data)` does the same for non-empty data
and treats b"" as the end of the conversation (the codec contract), yielding nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

from .base import CLIENT, SERVER, Event, LocalProtocolError, RemoteProtocolError, Role  # noqa: F401
from .base import DataEvent
from ._stream import CodecBase, preview

MAX_DATAGRAM = 65507


@dataclass(frozen=True, slots=True)
class Datagram(DataEvent):
    def summary(self) -> str:
        return f"len={len(self.data)} {preview(self.data)}"

    def fields(self) -> dict:
        return {"length": len(self.data), "text": self.data.decode("utf-8", "replace")}


class Connection(CodecBase):
    """udpecho codec.  Options: max_datagram (default 65507)."""

    def __init__(self, our_role: Role, *, max_datagram: int = MAX_DATAGRAM, variant: str | None = None,
                 max_frame: int | None = None):
        super().__init__()
        self.our_role = our_role
        self.max_datagram = max_datagram

    def receive_datagram(self, data: bytes) -> list[Datagram]:
        if not data:
            if self._error is not None or self._closed:
                return self.receive_data(b"x")  # raises the right error
            return [Datagram(b"")]
        return self.receive_data(data)

    def _receive(self, data: bytes) -> list[Datagram]:
        if len(data) > self.max_datagram:
            raise RemoteProtocolError(f"datagram too large: {len(data)} bytes > max {self.max_datagram}")
        return [Datagram(data)]

    def _eof(self) -> list:
        return []

    def send(self, event: Datagram) -> bytes:
        if not isinstance(event, Datagram):
            raise LocalProtocolError(f"udpecho cannot send {type(event).__name__}")
        if len(event.data) > self.max_datagram:
            raise LocalProtocolError(f"datagram too large: {len(event.data)} bytes")
        return bytes(event.data)


def probe(c2s: bytes, s2c: bytes) -> bool:
    if not c2s:
        return False
    return not s2c or s2c == c2s.upper() or s2c[: len(c2s)] == c2s[: len(s2c)].upper()
