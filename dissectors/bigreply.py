"""bigreply: request lines, large replies (port 9004).

Client -> server: `GET <name>\\n`, name 1-64 chars of [A-Za-z0-9._-]   (Request)
Server -> client: `REPORT <name> <nbytes>\\n` then exactly nbytes of text (ReportHeader + Body
chunks), or `ERROR <reason>\\n` (Error).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .base import CLIENT, MAX_FRAME, SERVER, Event, LocalProtocolError, RemoteProtocolError, Role  # noqa: F401
from .base import DataEvent
from ._stream import CodecBase, ReceiveBuffer, preview

MAX_LINE = 256
CHUNK_SIZE = 64 * 1024
NAME_RE = re.compile(r"[A-Za-z0-9._-]{1,64}\Z")
_REQUEST = re.compile(rb"GET ([A-Za-z0-9._-]{1,64})\n\Z")
_REPORT = re.compile(rb"REPORT ([A-Za-z0-9._-]{1,64}) ([0-9]{1,10})\n\Z")
_ERROR = re.compile(rb"ERROR ([\x20-\x7e]*)\n\Z")


@dataclass(frozen=True, slots=True)
class Request(Event):
    name: str

    @property
    def wire_length(self) -> int:
        return len(self.name) + 5

    @property
    def end_of_message(self) -> bool:
        return True

    def summary(self) -> str:
        return f"GET {self.name}"

    def fields(self) -> dict:
        return {"name": self.name}


@dataclass(frozen=True, slots=True)
class ReportHeader(Event):
    name: str
    nbytes: int

    @property
    def wire_length(self) -> int:
        return len(f"REPORT {self.name} {self.nbytes}\n")

    @property
    def end_of_message(self) -> bool:
        return self.nbytes == 0

    def summary(self) -> str:
        return f"REPORT {self.name} {self.nbytes} bytes"

    def fields(self) -> dict:
        return {"name": self.name, "nbytes": self.nbytes}


@dataclass(frozen=True, slots=True)
class Body(DataEvent):
    end_of_message: bool = False

    def summary(self) -> str:
        return f"body {len(self.data)} bytes {preview(self.data, 24)}"

    def fields(self) -> dict:
        return {"length": len(self.data)}


@dataclass(frozen=True, slots=True)
class Error(Event):
    reason: str

    @property
    def wire_length(self) -> int:
        return len(self.reason) + 7

    @property
    def end_of_message(self) -> bool:
        return True

    def summary(self) -> str:
        return f"ERROR {self.reason}"

    def fields(self) -> dict:
        return {"reason": self.reason}


class Connection(CodecBase):
    """bigreply codec.  Options: max_frame (largest report), max_line, chunk_size."""

    def __init__(self, our_role: Role, *, max_frame: int = MAX_FRAME, max_line: int = MAX_LINE,
                 chunk_size: int = CHUNK_SIZE, variant: str | None = None):
        super().__init__()
        self.our_role = our_role
        self.max_frame = max_frame
        self.max_line = max_line
        self.chunk_size = max(1, chunk_size)
        self._buf = ReceiveBuffer()
        self._remaining = 0
        self._scanned = 0
        self._send_remaining = 0

    def _line(self, line: bytes) -> Event:
        if self.our_role is SERVER:
            m = _REQUEST.match(line)
            if not m:
                raise RemoteProtocolError(f"bad request line {preview(line)}")
            return Request(m.group(1).decode("ascii"))
        m = _REPORT.match(line)
        if m:
            n = int(m.group(2))
            if n > self.max_frame:
                raise RemoteProtocolError(f"report too large: {n} bytes > max {self.max_frame}")
            return ReportHeader(m.group(1).decode("ascii"), n)
        m = _ERROR.match(line)
        if m:
            return Error(m.group(1).decode("ascii"))
        raise RemoteProtocolError(f"bad reply line {preview(line)}")

    def _receive(self, data: bytes) -> list:
        buf = self._buf
        buf.append(data)
        out: list = []
        while len(buf):
            if self._remaining:
                n = min(self._remaining, len(buf), self.chunk_size)
                self._remaining -= n
                out.append(Body(buf.take(n), self._remaining == 0))
                continue
            i = buf.find(b"\n", self._scanned)
            if i < 0:
                if len(buf) > self.max_line:
                    raise RemoteProtocolError(f"line longer than {self.max_line} bytes")
                self._scanned = len(buf)
                return out
            if i + 1 > self.max_line:
                raise RemoteProtocolError(f"line longer than {self.max_line} bytes")
            self._scanned = 0
            ev = self._line(buf.take(i + 1))
            if isinstance(ev, ReportHeader):
                self._remaining = ev.nbytes
            out.append(ev)
        return out

    def _eof(self) -> list:
        if self._remaining:
            raise RemoteProtocolError(f"stream ended inside a report ({self._remaining} bytes missing)")
        if len(self._buf):
            raise RemoteProtocolError(f"stream ended inside a line ({len(self._buf)} bytes)")
        return []

    def send(self, event) -> bytes:
        if isinstance(event, Body):
            if self.our_role is not SERVER or len(event.data) > self._send_remaining:
                raise LocalProtocolError("body bytes beyond the announced report size")
            self._send_remaining -= len(event.data)
            return bytes(event.data)
        if self._send_remaining:
            raise LocalProtocolError(f"{self._send_remaining} report bytes still to send")
        if self.our_role is CLIENT:
            if not isinstance(event, Request) or not NAME_RE.match(event.name):
                raise LocalProtocolError("the client sends Request(name) with a valid name")
            return f"GET {event.name}\n".encode("ascii")
        if isinstance(event, ReportHeader):
            if not NAME_RE.match(event.name) or not 0 <= event.nbytes <= self.max_frame:
                raise LocalProtocolError("bad report header")
            self._send_remaining = event.nbytes
            return f"REPORT {event.name} {event.nbytes}\n".encode("ascii")
        if isinstance(event, Error):
            if not all(0x20 <= ord(c) <= 0x7E for c in event.reason) or len(event.reason) + 7 > self.max_line:
                raise LocalProtocolError("an error reason is one short line of printable ASCII")
            return f"ERROR {event.reason}\n".encode("ascii")
        raise LocalProtocolError(f"bigreply server cannot send {type(event).__name__}")


def probe(c2s: bytes, s2c: bytes) -> bool:
    if not c2s.startswith(b"GET "):
        return False
    return not s2c or s2c.startswith(b"REPORT ") or s2c.startswith(b"ERROR ") or len(s2c) < 7
