"""filexfer: 4-byte header length H + H bytes of UTF-8 JSON header + content (port 9002).

Client -> server (decode with Connection(SERVER)):
    upload:   {"filename": str, "filesize": int >= 0, "sha256": optional hex}  + filesize bytes
    download: {"op": "get", "filename": str}                                    (no content)
Server -> client (decode with Connection(CLIENT)):
    status:   {"ok": true, "stored": name, "size": N, "sha256": hex} | {"ok": false, "error": why}
    download reply: {"ok": true, "size": N, "sha256": hex, ...} WITHOUT "stored", then N bytes.
    Rule: a status is followed by content exactly when ok is true, "size" is present and
    "stored" is absent.

Content is streamed as Content events (at most `chunk_size` bytes each): a 1 GB upload is
never held in memory.  Header length 1..max_header (64 KiB), JSON nesting <= 32; anything
else is a RemoteProtocolError.  Filenames are *decoded* whatever they are; servers must call
`filename_problem()` before using one (see Header.filename_problem).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from types import MappingProxyType

from .base import CLIENT, MAX_HEADER, SERVER, Event, LocalProtocolError, RemoteProtocolError, Role  # noqa: F401
from .base import DataEvent
from ._stream import VARIANTS, CodecBase, ReceiveBuffer, length_struct, preview
from .lenmsg import length_hint

HEADER_LEN_SIZE = 4
MAX_NESTING = 32
MAX_FILE = 1 << 40               # 1 TiB: largest filesize accepted by the decoder
CHUNK_SIZE = 64 * 1024
MAX_FILENAME_BYTES = 255
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKETS = re.compile(rb"[\[\]{}]")


def filename_problem(name) -> str | None:
    """Why `name` is not a safe plain file name, or None when it is safe."""
    if not isinstance(name, str):
        return "filename is not a string"
    if name in ("", ".", ".."):
        return f"bad filename {name!r}"
    if "\x00" in name:
        return "filename contains NUL"
    if "/" in name or "\\" in name:
        return "filename contains a path separator"
    if len(name) >= 2 and name[1] == ":":
        return "filename has a drive prefix"
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        return "filename is not valid UTF-8"
    if len(encoded) > MAX_FILENAME_BYTES:
        return f"filename longer than {MAX_FILENAME_BYTES} bytes"
    if any(ord(c) < 32 for c in name):
        return "filename contains control characters"
    return None


def _nesting_depth(raw: bytes) -> int:
    if raw.count(b"[") + raw.count(b"{") <= MAX_NESTING:   # cheap bound: cannot be deeper
        return 0 if not raw.count(b"[") + raw.count(b"{") else 1
    depth = best = 0
    for m in _BRACKETS.finditer(_STRINGS.sub(b'""', raw)):
        if m.group() in (b"[", b"{"):
            depth += 1
            best = max(best, depth)
        else:
            depth -= 1
    return best


def _no_constants(name: str):
    raise ValueError(f"{name} is not allowed")


def _short_int(digits: str) -> int:
    if len(digits) > 30:
        raise ValueError(f"integer with {len(digits)} digits")
    return int(digits)


_DECODER = json.JSONDecoder(parse_constant=_no_constants, parse_int=_short_int)


def parse_json_object(raw: bytes) -> dict:
    """Strictly parse one JSON header object; RemoteProtocolError on anything bad."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RemoteProtocolError("header is not valid UTF-8") from None
    if _nesting_depth(raw) > MAX_NESTING:
        raise RemoteProtocolError(f"header JSON nested deeper than {MAX_NESTING}")

    try:
        obj = _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        raise RemoteProtocolError(f"header is not valid JSON: {str(exc)[:80]}") from None
    if not isinstance(obj, dict):
        raise RemoteProtocolError("header is not a JSON object")
    return obj


def _is_count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_FILE


def _check_request(info: dict) -> None:
    op = info.get("op", "put")
    if op not in ("put", "get"):
        raise RemoteProtocolError(f"unknown op {str(op)[:40]!r}")
    if not isinstance(info.get("filename"), str):
        raise RemoteProtocolError("header has no string 'filename'")
    if op == "put":
        if "filesize" not in info:
            raise RemoteProtocolError("header has no 'filesize'")
        if not _is_count(info["filesize"]):
            raise RemoteProtocolError(f"bad filesize {str(info['filesize'])[:40]!r}")
    sha = info.get("sha256")
    if sha is not None and not (isinstance(sha, str) and _HEX64.match(sha)):
        raise RemoteProtocolError("bad sha256 (need 64 lowercase hex digits)")


def _check_status(info: dict) -> None:
    if not isinstance(info.get("ok"), bool):
        raise RemoteProtocolError("status has no boolean 'ok'")
    if "size" in info and not _is_count(info["size"]):
        raise RemoteProtocolError(f"bad size {str(info['size'])[:40]!r}")


def _dumps(obj: dict) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True, slots=True)
class Header(Event):
    """A client request header (upload or download); `raw` is the exact JSON bytes."""

    raw: bytes
    info: dict = field(compare=False, hash=False)

    def __post_init__(self) -> None:   # events are immutable: a read-only view of the JSON
        object.__setattr__(self, "info", MappingProxyType(dict(self.info)))

    @classmethod
    def upload(cls, filename: str, filesize: int, sha256: str | None = None) -> "Header":
        obj = {"filename": filename, "filesize": filesize}
        if sha256 is not None:
            obj["sha256"] = sha256
        return cls(_dumps(obj), obj)

    @classmethod
    def get(cls, filename: str) -> "Header":
        obj = {"op": "get", "filename": filename}
        return cls(_dumps(obj), obj)

    @property
    def op(self) -> str:
        return self.info.get("op", "put")

    @property
    def filename(self) -> str:
        return self.info.get("filename", "")

    @property
    def filesize(self) -> int:
        return self.info.get("filesize", 0) if self.op == "put" else 0

    @property
    def sha256(self) -> str | None:
        return self.info.get("sha256")

    @property
    def content_length(self) -> int:
        return self.filesize

    def filename_problem(self) -> str | None:
        return filename_problem(self.filename)

    @property
    def wire_length(self) -> int:
        return HEADER_LEN_SIZE + len(self.raw)

    @property
    def end_of_message(self) -> bool:
        return self.content_length == 0

    def summary(self) -> str:
        if self.op == "get":
            return f"GET {self.filename!r}"
        return f"PUT {self.filename!r} size={self.filesize}" + (" sha256" if self.sha256 else "")

    def fields(self) -> dict:
        return {"header_length": len(self.raw), "header": dict(self.info)}


@dataclass(frozen=True, slots=True)
class Status(Event):
    """A server status frame; `raw` is the exact JSON bytes."""

    raw: bytes
    info: dict = field(compare=False, hash=False)

    def __post_init__(self) -> None:   # events are immutable: a read-only view of the JSON
        object.__setattr__(self, "info", MappingProxyType(dict(self.info)))

    @classmethod
    def make(cls, **obj) -> "Status":
        return cls(_dumps(obj), obj)

    @property
    def ok(self) -> bool:
        return bool(self.info.get("ok"))

    @property
    def content_length(self) -> int:
        """Bytes of content that follow (download replies only)."""
        if self.ok and "stored" not in self.info and "size" in self.info:
            return self.info["size"]
        return 0

    @property
    def wire_length(self) -> int:
        return HEADER_LEN_SIZE + len(self.raw)

    @property
    def end_of_message(self) -> bool:
        return self.content_length == 0

    def summary(self) -> str:
        if not self.ok:
            return f"ERROR {str(self.info.get('error', ''))[:60]!r}"
        if "stored" in self.info:
            return f"OK stored={self.info['stored']!r} size={self.info.get('size')}"
        return f"OK size={self.info.get('size')} (content follows)"

    def fields(self) -> dict:
        return {"header_length": len(self.raw), "status": dict(self.info)}


@dataclass(frozen=True, slots=True)
class Content(DataEvent):
    """A chunk of file content; end_of_message on the last chunk of the file."""

    end_of_message: bool = False

    def summary(self) -> str:
        return f"content {len(self.data)} bytes {preview(self.data, 16)}"

    def fields(self) -> dict:
        return {"length": len(self.data)}


class Connection(CodecBase):
    """filexfer codec.  Options: variant, max_header, chunk_size, hint_port (the port a
    --decode-as hint in an error names)."""

    def __init__(self, our_role: Role, *, variant: str | None = None, max_header: int = MAX_HEADER,
                 chunk_size: int = CHUNK_SIZE, max_frame: int | None = None,
                 hint_port: int | None = None):
        super().__init__()
        self.our_role = our_role
        self.variant = variant or "network"
        self._len = length_struct(self.variant)
        self.max_header = max_header
        self.chunk_size = max(1, chunk_size)
        self.hint_port = hint_port
        self._buf = ReceiveBuffer()
        self._hlen: int | None = None
        self._remaining = 0          # content bytes still expected from the peer
        self._send_remaining = 0     # content bytes we still have to send
        # the peer of a SERVER is a client: it sends requests
        self._header_cls = Header if our_role is SERVER else Status

    def _check_hlen(self, h: int) -> None:
        if h < 0:
            raise RemoteProtocolError(f"negative length {h}")
        if h == 0:
            raise RemoteProtocolError("header length 0")
        if h > self.max_header:
            raise RemoteProtocolError(f"header too large: {h} bytes > max {self.max_header}"
                                      + length_hint(h, self.variant, self.max_header,
                                                    "filexfer", self.hint_port))

    def _receive(self, data: bytes) -> list:
        buf = self._buf
        buf.append(data)
        out: list = []
        while True:
            if self._remaining:
                if not len(buf):
                    return out
                n = min(self._remaining, len(buf), self.chunk_size)
                self._remaining -= n
                out.append(Content(buf.take(n), self._remaining == 0))
                continue
            if self._hlen is None:
                if len(buf) < HEADER_LEN_SIZE:
                    return out
                (h,) = buf.unpack(self._len)
                self._check_hlen(h)
                self._hlen = h
            if len(buf) < HEADER_LEN_SIZE + self._hlen:
                return out
            buf.take(HEADER_LEN_SIZE)
            raw = buf.take(self._hlen)
            self._hlen = None
            info = parse_json_object(raw)
            if self._header_cls is Header:
                _check_request(info)
            else:
                _check_status(info)
            ev = self._header_cls(raw, info)
            self._remaining = ev.content_length
            out.append(ev)

    def _eof(self) -> list:
        if self._remaining:
            raise RemoteProtocolError(f"stream ended inside the content ({self._remaining} bytes missing)")
        if len(self._buf):
            raise RemoteProtocolError(f"stream ended inside a header ({len(self._buf)} bytes)")
        return []

    def send(self, event) -> bytes:
        if isinstance(event, Content):
            if len(event.data) > self._send_remaining:
                raise LocalProtocolError(f"content exceeds the announced size by "
                                         f"{len(event.data) - self._send_remaining} bytes")
            self._send_remaining -= len(event.data)
            return bytes(event.data)
        expected = Header if self.our_role is CLIENT else Status
        if not isinstance(event, expected):
            raise LocalProtocolError(f"filexfer {self.our_role.value} cannot send {type(event).__name__}")
        if self._send_remaining:
            raise LocalProtocolError(f"{self._send_remaining} content bytes still to send")
        if not 1 <= len(event.raw) <= self.max_header:
            raise LocalProtocolError(f"header length {len(event.raw)} out of range")
        self._send_remaining = event.content_length
        return self._len.pack(len(event.raw)) + bytes(event.raw)


def detect_variant(c2s: bytes, s2c: bytes = b"") -> str | None:
    """'network'/'native' when c2s starts with a plausible header length and '{', else None."""
    if len(c2s) < HEADER_LEN_SIZE + 1 or c2s[HEADER_LEN_SIZE:HEADER_LEN_SIZE + 1] != b"{":
        return None
    for variant in VARIANTS:
        (h,) = length_struct(variant).unpack_from(c2s)
        if 2 <= h <= MAX_HEADER:
            return variant
    return None


def probe(c2s: bytes, s2c: bytes) -> bool:
    return detect_variant(c2s, s2c) is not None


__all__ = ["Connection", "Header", "Status", "Content", "filename_problem", "parse_json_object",
           "preview"]
