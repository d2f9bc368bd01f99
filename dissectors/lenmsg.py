"""lenmsg: a 4-byte length N then N payload bytes (port 9001).

Variants: "network" (default, struct '!I') and "native" (struct '<i', what x86 'i' gives:
little-endian signed; a negative N is malformed).  N = 0 is a valid empty message; N above
`max_frame` is rejected from the header alone, before anything is buffered for it.
"""
from __future__ import annotations

from dataclasses import dataclass

from .base import CLIENT, MAX_FRAME, SERVER, Event, LocalProtocolError, RemoteProtocolError, Role  # noqa: F401
from ._stream import VARIANTS, length_struct, preview
from ._stream import CodecBase, ReceiveBuffer  # the twin cimports it (setup.py)

HEADER_SIZE = 4
# True in the compiled twin (setup.py writes it so): there receive_sizes reads the lengths byte
# by byte in C, here struct's unpack_from is faster
COMPILED = False


@dataclass(frozen=True, slots=True)
class Frame(Event):
    """One lenmsg message: its payload (the 4-byte header is implied)."""

    payload: bytes

    @property
    def wire_length(self) -> int:
        return HEADER_SIZE + len(self.payload)

    @property
    def end_of_message(self) -> bool:
        return True

    def summary(self) -> str:
        return f"len={len(self.payload)} {preview(self.payload)}"

    def fields(self) -> dict:
        return {"length": len(self.payload), "payload": self.payload.decode("utf-8", "replace")}


def length_hint(n: int, variant: str, limit: int, proto: str = "lenmsg",
                port: int | None = None) -> str:
    """What an implausible 4-byte length `n` looks like, as a hint for the reader:
    the other byte order fits, or the bytes are text (the framing is something else)."""
    raw = length_struct(variant).pack(n)
    other = "native" if variant == "network" else "network"
    m = length_struct(other).unpack(raw)[0]
    where = str(port) if port else "PORT"
    if 0 <= m <= limit:
        order = "a little-endian" if other == "native" else "a big-endian"
        return f" ({order} length {m}? try --decode-as {where}={proto}:{other})"
    if all(32 <= b < 127 for b in raw):
        return (f" (the bytes {raw.decode('ascii')!r} look like text, not a length: "
                f"try --decode-as {where}=infer)")
    return ""


def check_length(n: int, max_frame: int, what: str = "frame", variant: str = "network",
                 port: int | None = None) -> None:
    """Raise RemoteProtocolError for a negative or too large length prefix (with a hint
    saying what the four bytes look like)."""
    if n < 0:
        raise RemoteProtocolError(f"negative length {n}"
                                  + length_hint(n, variant, max_frame, port=port))
    if n > max_frame:
        raise RemoteProtocolError(f"{what} too large: {n} bytes > max {max_frame}"
                                  + length_hint(n, variant, max_frame, port=port))


class Connection(CodecBase):
    """lenmsg codec.  Options: variant ("network"|"native"), max_frame, hint_port (the port
    a --decode-as hint in an error names)."""

    __slots__ = ("our_role", "variant", "_len", "max_frame", "hint_port", "_buf", "_need")

    def __init__(self, our_role: Role, *, variant: str | None = None, max_frame: int = MAX_FRAME,
                 hint_port: int | None = None):
        super().__init__()
        self.our_role = our_role
        self.variant = variant or "network"
        self._len = length_struct(self.variant)
        self.max_frame = max_frame
        self.hint_port = hint_port
        self._buf = ReceiveBuffer()
        self._need: int | None = None   # payload length of the frame being received

    def _receive(self, data: bytes) -> list[Frame]:
        buf = self._buf
        out: list[Frame] = []
        if self._need is None and not len(buf):
            # fast path (the common case): whole frames straight from `data`, no buffer copies
            pos, end = 0, len(data)
            unpack, max_frame = self._len.unpack_from, self.max_frame
            while end - pos >= HEADER_SIZE:
                (n,) = unpack(data, pos)
                if n < 0 or n > max_frame:
                    check_length(n, max_frame, variant=self.variant, port=self.hint_port)
                stop = pos + HEADER_SIZE + n
                if stop > end:
                    break
                out.append(Frame(data[pos + HEADER_SIZE: stop]))
                pos = stop
            if pos == end:
                return out
            data = data[pos:]
        buf.append(data)
        while True:
            if self._need is None:
                if len(buf) < HEADER_SIZE:
                    return out
                (n,) = buf.unpack(self._len)
                check_length(n, self.max_frame, variant=self.variant, port=self.hint_port)
                self._need = n
            if len(buf) < HEADER_SIZE + self._need:
                return out
            buf.take(HEADER_SIZE)
            out.append(Frame(buf.take(self._need)))
            self._need = None

    def receive_sizes(self, data: bytes, start: int = 0, stop: int | None = None) -> list[int]:
        """receive_data(data[start:stop]) for callers that only cut messages (the analyzer's
        MessageMapper, which hands a frame and where its payload lies): the wire length of
        each complete frame, every one ending a message, without building Frame objects or
        copying the bytes it reads in place.  Same state changes and errors as receive_data."""
        out: list[int] = []                  # (offsets: 0 <= start <= stop)
        end = len(data) if stop is None else min(stop, len(data))
        pos = min(max(start, 0), end)
        if self._need is None and self._error is None and not self._closed and end > pos \
                and not len(self._buf):
            max_frame = self.max_frame
            variant = self.variant
            in_c = COMPILED and type(data) is bytes and (variant == "network" or
                                                         variant == "native")
            if in_c:
                b = data
            else:
                unpack = self._len.unpack_from
            big = variant == "network"              # '!I'; else native, '<i'
            while end - pos >= HEADER_SIZE:
                if not in_c:
                    (n,) = unpack(data, pos)
                elif big:
                    n = b[pos]
                    n = (n << 24) | (b[pos + 1] << 16) | (b[pos + 2] << 8) | b[pos + 3]
                else:
                    n = b[pos + 3]
                    n = (n << 24) | (b[pos + 2] << 16) | (b[pos + 1] << 8) | b[pos]
                    if n >= 0x80000000:
                        n -= 0x100000000
                if n < 0 or n > max_frame:
                    break                     # receive_data below raises the same error
                nxt = pos + HEADER_SIZE + n
                if nxt > end:
                    break
                out.append(HEADER_SIZE + n)
                pos = nxt
            if pos == end:
                return out
        for ev in self.receive_data(data[pos:end]):
            out.append(HEADER_SIZE + len(ev.payload))
        return out

    def _eof(self) -> list[Frame]:
        have = len(self._buf)
        if have:
            need = "?" if self._need is None else HEADER_SIZE + self._need
            raise RemoteProtocolError(f"stream ended inside a message ({have} of {need} bytes)")
        return []

    def send(self, event: Frame) -> bytes:
        if not isinstance(event, Frame):
            raise LocalProtocolError(f"lenmsg cannot send {type(event).__name__}")
        n = len(event.payload)
        if n > self.max_frame or (self.variant == "native" and n > 0x7FFFFFFF):
            raise LocalProtocolError(f"frame too large: {n} bytes > max {self.max_frame}")
        return self._len.pack(n) + bytes(event.payload)


def encode(payload: bytes, variant: str = "network") -> bytes:
    """Convenience: the wire bytes of one message."""
    return length_struct(variant).pack(len(payload)) + bytes(payload)


def _plausible(data: bytes, variant: str, limit: int = 1 << 20) -> bool:
    if len(data) < HEADER_SIZE:
        return False
    (n,) = length_struct(variant).unpack_from(data)
    if n < 0 or n > limit:
        return False
    # either the whole first frame is here, or the data stops inside it
    if len(data) >= HEADER_SIZE + n:
        rest = data[HEADER_SIZE + n:]
        return len(rest) < HEADER_SIZE or _plausible_head(rest, variant, limit)
    return True


def _plausible_head(data: bytes, variant: str, limit: int) -> bool:
    (n,) = length_struct(variant).unpack_from(data)
    return 0 <= n <= limit


def detect_variant(c2s: bytes, s2c: bytes = b"") -> str | None:
    """'network' or 'native' when the first bytes look like lenmsg framing, else None."""
    for variant in VARIANTS:
        if _plausible(c2s, variant) and (not s2c or len(s2c) < HEADER_SIZE or _plausible(s2c, variant)):
            return variant
    return None


def probe(c2s: bytes, s2c: bytes) -> bool:
    return detect_variant(c2s, s2c) is not None

from dissectors.accelerated import accelerate  # noqa: E402 - the compiled twin, setup.py
accelerate(globals())
