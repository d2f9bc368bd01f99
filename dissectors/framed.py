"""framed: a generic codec for a framing described in a small grammar (stated by hand with
`--decode-as PORT=len:4:le`, or inferred by the analyzer from the bytes).

Grammar (one direction; `Framing.parse(text)` / `Framing.grammar()`):

    len:SIZE:ENDIAN[:offset=N][:header=H][:includes-header]
        a SIZE-byte (1, 2, 4, 8) ENDIAN (le|be) length field at byte N of the message (default
        0), a fixed header of H bytes (default N + SIZE), then the body; the length counts the
        body only, or with `includes-header` the whole message.
    delim:D      every message ends with D: \\n, \\r\\n, \\0, a name (lf, crlf, nul) or 0xHH..
    fixed:N      records of exactly N bytes
    lenjson:SIZE:ENDIAN[:KEY]
        a SIZE-byte header length, a JSON object header of that many bytes, then a body of
        header[KEY] bytes (default key "filesize"; no key in the header: no body).

A framing per direction (`stated_options(text)`, what `--decode-as PORT=...` takes):

    c2s:FRAMING,s2c:FRAMING
        client-to-server messages cut with the first, replies with the second, e.g.
        c2s:delim:lf,s2c:len:4:be; a direction left out is not cut.  The comma before `c2s:`
        / `s2c:` separates (no framing text contains `,c2s:` or `,s2c:`); `framed:` in front
        of either form is accepted too (summary JSON names these conversations "framed").

Connection(our_role, framing=TEXT) decodes both directions alike; c2s=TEXT / s2c=TEXT give
each direction its own framing (None: no framing known, nothing is cut).  Every event ends a
message; `receive_sizes` gives the wire lengths only (the analyzer's fast path).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from .base import CLIENT, MAX_FRAME, MAX_HEADER, SERVER, DataEvent, LocalProtocolError, RemoteProtocolError, Role  # noqa: F401
from ._stream import CodecBase, preview

DIRECTIONS = ("c2s", "s2c")
PREFIX = "framed:"
# a comma followed by a direction's name starts the next direction's framing
_NEXT_DIRECTION = re.compile(r",(?=\s*(?:c2s|s2c)\s*:)", re.IGNORECASE)
# ... and one without it is a mistake (no framing text contains ",len:", ",delim:" ...)
_UNNAMED_NEXT = re.compile(r",\s*(?:len|delim|fixed|lenjson)\s*:", re.IGNORECASE)
SIZES = (1, 2, 4, 8)
ENDIANS = ("le", "be")
KINDS = ("len", "delim", "fixed", "lenjson")
DELIM_NAMES = {"lf": b"\n", "crlf": b"\r\n", "nul": b"\0", "\\n": b"\n", "\\r\\n": b"\r\n",
               "\\0": b"\0", "\n": b"\n", "\r\n": b"\r\n"}
MAX_FIXED = 1 << 20
MAX_PREFIX = 64


def _delim_text(d: bytes) -> str:
    for name in ("\\r\\n", "\\n", "\\0"):
        if DELIM_NAMES[name] == d:
            return name
    return "0x" + d.hex()


def _parse_delim(text: str) -> bytes:
    if text in DELIM_NAMES:
        return DELIM_NAMES[text]
    if text.lower().startswith("0x") and len(text) > 2:
        try:
            return bytes.fromhex(text[2:])
        except ValueError:
            raise ValueError(f"bad delimiter {text!r}: hex digits expected after 0x") from None
    if len(text) == 1:
        return text.encode("latin-1")
    raise ValueError(f"bad delimiter {text!r}: use \\n, \\r\\n, \\0, lf, crlf, nul, a single "
                     f"character or 0xHH")


@dataclass(frozen=True, slots=True)
class Framing:
    """One direction's framing (see the module docstring for the grammar)."""

    kind: str
    size: int = 0                 # length field bytes (len, lenjson)
    endian: str = "be"
    offset: int = 0               # where the length field starts (len)
    header: int = 0               # fixed header bytes before the body (len)
    includes_header: bool = False
    delim: bytes = b""
    record: int = 0               # fixed record size
    key: str = "filesize"         # lenjson: the header key naming the body size

    # -- grammar -------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> "Framing":
        """The Framing a grammar text names; ValueError saying what is wrong otherwise."""
        kind, _, rest = str(text).strip().partition(":")
        kind = kind.lower()
        if kind == "delim":
            if not rest:
                raise ValueError("delim needs a delimiter, e.g. delim:lf")
            return cls("delim", delim=_parse_delim(rest))
        parts = rest.split(":") if rest else []
        if kind == "fixed":
            if len(parts) != 1 or not parts[0].isdigit() or not 1 <= int(parts[0]) <= MAX_FIXED:
                raise ValueError(f"fixed needs a record size 1-{MAX_FIXED}, e.g. fixed:16")
            return cls("fixed", record=int(parts[0]))
        if kind not in ("len", "lenjson"):
            raise ValueError(f"unknown framing {kind!r} (len, delim, fixed, lenjson, or infer)")
        if len(parts) < 2 or parts[0] not in ("1", "2", "4", "8") or parts[1] not in ENDIANS:
            raise ValueError(f"{kind} needs SIZE:ENDIAN with SIZE 1, 2, 4 or 8 and ENDIAN le or "
                             f"be, e.g. {kind}:4:le")
        size, endian = int(parts[0]), parts[1]
        if kind == "lenjson":
            if len(parts) > 3 or (len(parts) == 3 and not parts[2]):
                raise ValueError("lenjson takes SIZE:ENDIAN[:KEY], e.g. lenjson:4:le:filesize")
            return cls("lenjson", size=size, endian=endian,
                       key=parts[2] if len(parts) == 3 else "filesize")
        offset, header, incl = 0, None, False
        for p in parts[2:]:
            name, eq, value = p.partition("=")
            if name == "includes-header" and not eq:
                incl = True
            elif name in ("offset", "header") and eq and value.isdigit() \
                    and int(value) <= MAX_PREFIX:
                if name == "offset":
                    offset = int(value)
                else:
                    header = int(value)
            else:
                raise ValueError(f"bad len option {p!r} (offset=N, header=N, includes-header)")
        header = offset + size if header is None else header
        if header < offset + size:
            raise ValueError(f"header={header} is shorter than offset + size ({offset + size})")
        return cls("len", size=size, endian=endian, offset=offset, header=header,
                   includes_header=incl)

    def grammar(self) -> str:
        """The grammar text of this framing (parse(grammar()) == self)."""
        if self.kind == "delim":
            return "delim:" + _delim_text(self.delim)
        if self.kind == "fixed":
            return f"fixed:{self.record}"
        if self.kind == "lenjson":
            return f"lenjson:{self.size}:{self.endian}:{self.key}"
        out = f"len:{self.size}:{self.endian}"
        if self.offset:
            out += f":offset={self.offset}"
        if self.header != self.offset + self.size:
            out += f":header={self.header}"
        if self.includes_header:
            out += ":includes-header"
        return out

    def text(self) -> str:
        """The framing in words, e.g. '4-byte little-endian length at offset 2, counts
        payload only'."""
        if self.kind == "delim":
            return f"every message ends with {_delim_text(self.delim)}"
        if self.kind == "fixed":
            return f"fixed-size records of {self.record} bytes"
        order = "little-endian" if self.endian == "le" else "big-endian"
        if self.size == 1:
            order = "unsigned"
        if self.kind == "lenjson":
            return (f"{self.size}-byte {order} header length, JSON header, then a body of "
                    f"header[{self.key!r}] bytes")
        out = f"{self.size}-byte {order} length at offset {self.offset}"
        if self.header > self.offset + self.size:
            out += f" of a {self.header}-byte header"
        return out + (", counts the whole message" if self.includes_header
                      else ", counts payload only")

    # -- cutting -------------------------------------------------------------------------
    def field(self, data, pos: int, at: int) -> int:
        return int.from_bytes(data[pos + at: pos + at + self.size],
                              "little" if self.endian == "le" else "big")

    def need(self) -> int:
        """Bytes of a message needed before its length can be known (len/fixed/lenjson)."""
        if self.kind == "len":
            return self.header
        if self.kind == "fixed":
            return self.record
        return self.size

    def message_length(self, data, pos: int, have: int, max_frame: int = MAX_FRAME) -> int | None:
        """The wire length of the message starting at data[pos] (`have` bytes available from
        pos), None when more bytes are needed first; RemoteProtocolError when the header
        cannot be a length.  Not for delimited framings (see `delimited_end`)."""
        if self.kind == "fixed":
            return self.record
        if have < self.need():
            return None
        if self.kind == "len":
            n = self.field(data, pos, self.offset)
            total = n if self.includes_header else self.header + n
            if total < self.header:
                raise RemoteProtocolError(f"length {n} is shorter than the {self.header}-byte header")
            if total > max_frame:
                raise RemoteProtocolError(f"frame too large: {n} bytes > max {max_frame}")
            return total
        h = self.field(data, pos, 0)
        if not 2 <= h <= MAX_HEADER:
            raise RemoteProtocolError(f"bad header length {h}")
        if have < self.size + h:
            return None
        body = json_body_size(bytes(data[pos + self.size: pos + self.size + h]), self.key)
        if body > max_frame:
            raise RemoteProtocolError(f"body too large: {body} bytes > max {max_frame}")
        return self.size + h + body


@lru_cache(maxsize=256)
def parse_framing(text: str) -> Framing:
    """Framing.parse, remembered (every conversation of a port parses the same text: saves
    ~4 us a codec)."""
    return Framing.parse(text)


def is_stated(text: str) -> bool:
    """`text` names a framing (possibly per direction, possibly after `framed:`), not a
    protocol."""
    head = str(text).strip().lower()
    if head.startswith(PREFIX) or head == PREFIX[:-1]:
        return True
    return head.partition(":")[0].strip() in KINDS + DIRECTIONS


def stated_options(text: str) -> dict:
    """The framed codec's options for a stated framing: 'len:4:le' or 'framed:len:4:le' ->
    {"framing": "len:4:le"}; 'c2s:delim:lf,s2c:len:4:be' -> {"c2s": "delim:\\n", "s2c":
    "len:4:be"} (canonical grammar texts; a direction left out: None).  ValueError saying
    what is wrong otherwise."""
    body = str(text).strip()
    if body.lower().startswith(PREFIX) or body.lower() == PREFIX[:-1]:
        body = body[len(PREFIX):].strip()
        if not body:
            raise ValueError("framed needs a framing, e.g. framed:len:4:le or "
                             "framed:c2s:delim:lf,s2c:len:4:be")
    parts = _NEXT_DIRECTION.split(body)
    if len(parts) == 1 and body.partition(":")[0].strip().lower() not in DIRECTIONS:
        return {"framing": parse_framing(body).grammar()}
    out: dict = dict.fromkeys(DIRECTIONS)
    for part in parts:
        name, _, grammar = part.partition(":")
        name = name.strip().lower()
        if name not in DIRECTIONS or _UNNAMED_NEXT.search(grammar):
            raise ValueError(f"{part.strip()!r}: a framing per direction is "
                             f"c2s:FRAMING,s2c:FRAMING, e.g. c2s:delim:lf,s2c:len:4:be")
        if out[name] is not None:
            raise ValueError(f"{name} is given twice")
        if not grammar.strip():
            raise ValueError(f"{name}: needs a framing, e.g. {name}:len:4:be")
        try:
            out[name] = parse_framing(grammar.strip()).grammar()
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    return out


def stated_text(options: dict) -> str:
    """The grammar text of stated_options' result ('len:4:le' or 'c2s:..,s2c:..')."""
    if options.get("framing"):
        return options["framing"]
    return ",".join(f"{d}:{options[d]}" for d in DIRECTIONS if options.get(d))


def json_body_size(raw: bytes, key: str) -> int:
    """header[key] of a JSON object header (0 when absent); RemoteProtocolError if bad."""
    if not raw[:1] == b"{":
        raise RemoteProtocolError("header is not a JSON object")
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        raise RemoteProtocolError("header is not valid JSON") from None
    if not isinstance(obj, dict):
        raise RemoteProtocolError("header is not a JSON object")
    v = obj.get(key, 0)
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise RemoteProtocolError(f"bad {key} {str(v)[:40]!r}")
    return v


def delimited_end(delim: bytes, data, start: int, end: int) -> int:
    """Offset just after the first delimiter in data[start:end], or -1."""
    i = data.find(delim, start, end)
    return -1 if i < 0 else i + len(delim)


@dataclass(frozen=True, slots=True)
class Message(DataEvent):
    """One framed message (header, if any, included)."""

    def summary(self) -> str:
        return f"len={len(self.data)} {preview(self.data)}"

    def fields(self) -> dict:
        return {"length": len(self.data), "data": self.data[:256].decode("utf-8", "replace")}


class Connection(CodecBase):
    """Generic framed codec.  Options: framing (both directions), or c2s / s2c (grammar
    texts, or Framings, per direction: the SERVER role decodes c2s), max_frame."""

    def __init__(self, our_role: Role, *, framing: str | Framing | None = None,
                 c2s: str | Framing | None = None, s2c: str | Framing | None = None,
                 max_frame: int = MAX_FRAME):
        super().__init__()
        self.our_role = our_role
        text = framing or (c2s if our_role is SERVER else s2c)
        try:
            self.framing = (None if not text else text if isinstance(text, Framing)
                            else parse_framing(str(text)))
        except ValueError as exc:
            raise LocalProtocolError(str(exc)) from None
        self.max_frame = max_frame
        self._buf = bytearray()
        self._skip = 0          # bytes of the current message still to pass (body streamed)
        self._held = 0          # the current message's length so far when skipping

    def _receive(self, data: bytes) -> list:
        return [Message(bytes(m)) for m in self._cut(data, keep=True)]

    def receive_sizes(self, data: bytes, start: int = 0, stop: int | None = None) -> list[int]:
        """The wire length of each message completed by data[start:stop] (no event objects)."""
        if start or stop is not None:
            data = data[start:stop]
        if self._error is not None or self._closed or not data:
            return [len(m.data) for m in self.receive_data(data)]
        try:
            return self._cut(data, keep=False)
        except RemoteProtocolError as exc:
            self._error = exc
            raise

    def _cut(self, data: bytes, keep: bool) -> list:
        """Messages (bytes when keep, else lengths) completed by data."""
        f = self.framing
        if f is None:
            return []
        out: list = []
        if self._skip:
            n = min(self._skip, len(data))
            self._skip -= n
            if self._skip:
                return out
            out.append(self._held)
            data = data[n:]
        buf = self._buf
        buf += data
        pos, end = 0, len(buf)
        while pos < end:
            if f.kind == "delim":
                stop = delimited_end(f.delim, buf, pos, end)
                if stop < 0:
                    if end - pos > self.max_frame:
                        raise RemoteProtocolError(f"no delimiter in {end - pos} bytes")
                    break
                out.append(buf[pos:stop] if keep else stop - pos)
                pos = stop
                continue
            n = f.message_length(buf, pos, end - pos, self.max_frame)
            if n is None:
                break
            if pos + n > end:
                if keep:
                    break
                self._skip, self._held = pos + n - end, n     # stream the body, hold nothing
                pos = end
                break
            out.append(buf[pos:pos + n] if keep else n)
            pos += n
        del buf[:pos]
        return out

    def open_length(self) -> int | None:
        """The wire length of the message begun but not complete, when its header has been
        read (None: no message begun, its length not known yet, or a delimited framing)."""
        if self._skip:
            return self._held
        f = self.framing
        if not self._buf or f is None or f.kind == "delim":
            return None
        try:
            return f.message_length(self._buf, 0, len(self._buf), self.max_frame)
        except RemoteProtocolError:
            return None

    def _eof(self) -> list:
        if self._buf or self._skip:
            raise RemoteProtocolError("stream ended inside a message")
        return []

    def send(self, event) -> bytes:
        if not isinstance(event, Message):
            raise LocalProtocolError(f"framed cannot send {type(event).__name__}")
        return bytes(event.data)
