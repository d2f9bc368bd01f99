"""A small Wireshark-like display filter language over one packet's fields.

    f = compile_filter('tcp.port == 9001 and not tcp.analysis.retransmission')
    f.matches(engine, n)  -> bool          # n: 1-based packet number

Grammar (case-insensitive keywords, `&&`/`||`/`!` also accepted):

    expr   := or
    or     := and ( ("or" | "||") and )*
    and    := not ( ("and" | "&&") not )*
    not    := ("not" | "!") not | atom
    atom   := "(" expr ")" | FIELD [ OP VALUE ]
    OP     := == != < <= > >= eq ne lt le gt ge contains matches
    VALUE  := number (12, 0x1f) | "string" | ip (127.0.0.1, ::1, 10.0.0.0/8) | word

A bare FIELD is true when the packet has it (for flags: when the flag is set).  `contains` is
case-sensitive, `matches` (a regular expression) is not, as in Wireshark.  A field with
several values (ip.addr, tcp.port) matches `==` when any value does; `!=` holds when none does
(Wireshark >= 3.6 semantics).  Bad input raises FilterError(message, position).
"""
from __future__ import annotations

import difflib
import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Callable

from analyzer.decode.decoded import ACK, CWR, ECE, FIN, PSH, RST, SYN, URG
from analyzer.render.rows import row
from analyzer.transport.analysis_flags import ANALYSIS_BIT, ANALYSIS_NAMES

__all__ = ["FilterError", "Filter", "compile_filter", "field_names"]


class FilterError(ValueError):
    """A display filter could not be compiled; `position` is the 0-based column of the fault."""

    def __init__(self, message: str, position: int = 0):
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return f"{self.message} (at column {self.position + 1})"


# --------------------------------------------------------------------------- packet context
class PacketContext:
    """Lazily fetched facts of packet `n` (each engine call happens at most once)."""

    __slots__ = ("engine", "n", "_d", "_bits", "_row", "_conv", "_slices", "_stream")
    _UNSET = object()

    def __init__(self, engine, n: int):
        self.engine = engine
        self.n = n
        self._d = self._bits = self._row = self._conv = self._slices = self._stream = self._UNSET

    @property
    def d(self):
        if self._d is self._UNSET:
            self._d = self.engine.decoded(self.n)
        return self._d

    @property
    def bits(self) -> int:
        if self._bits is self._UNSET:
            self._bits = int(self.engine.analysis_bits(self.n))
        return self._bits

    @property
    def row(self):
        if self._row is self._UNSET:
            self._row = row(self.engine, self.n)
        return self._row

    @property
    def stream(self):
        if self._stream is self._UNSET:
            self._stream = self.engine.stream_of(self.n)
        return self._stream

    @property
    def conv(self):
        if self._conv is self._UNSET:
            self._conv = None
            sid = self.stream
            if sid is not None:
                d = self.d
                if d.transport in ("tcp", "udp"):
                    try:
                        self._conv = self.engine.conversation(d.transport, sid)
                    except (KeyError, IndexError, LookupError):
                        self._conv = None
        return self._conv

    @property
    def slices(self):
        if self._slices is self._UNSET:
            self._slices = list(self.engine.message_slices(self.n))
        return self._slices


# --------------------------------------------------------------------------- fields
# type: "int" | "str" | "ip" | "bool".  getter(ctx) -> value, list of values, or None (absent)
Getter = Callable[[PacketContext], Any]


def _tcp(ctx: PacketContext):
    d = ctx.d
    return d if d.transport == "tcp" else None


def _udp(ctx: PacketContext):
    d = ctx.d
    return d if d.transport == "udp" else None


def _flag(bit: int) -> Getter:
    def get(ctx):
        d = _tcp(ctx)
        return None if d is None else bool(d.flags & bit)
    return get


def _analysis(name: str) -> Getter:
    bit = ANALYSIS_BIT[name]
    return lambda ctx: bool(ctx.bits & bit)


def _ip(ctx):
    d = ctx.d
    return d if d.ip_version in (4, 6) else None


def _conv_attr(attr: str) -> Getter:
    def get(ctx):
        c = ctx.conv
        return None if c is None else getattr(c, attr)
    return get


def _msg_protocol(ctx):
    vals = [s.message.protocol for s in ctx.slices]
    if vals:
        return vals
    c = ctx.conv
    return c.protocol if c is not None and c.protocol else None


def _coalesced(ctx) -> bool:
    """Parts of more than one message in this packet (the engine's "coalesced" row tag)."""
    return len(ctx.slices) > 1


def _split(ctx) -> bool:
    return any(s.message.split for s in ctx.slices)


def _protocol_is(name: str) -> Getter:
    """True when the packet carries (part of) a message of that protocol, like Wireshark's
    bare protocol filters; `conv.protocol == NAME` selects whole conversations instead."""
    def get(ctx):
        return any(s.message.protocol.split(":")[0] == name for s in ctx.slices)
    return get


FIELDS: dict[str, tuple[str, Getter]] = {
    "frame.number": ("int", lambda c: c.n),
    "frame.len": ("int", lambda c: c.row.length),
    "frame.cap_len": ("int", lambda c: len(c.engine.frame_bytes(c.n))),
    "frame.time_relative": ("float", lambda c: c.row.time),
    "frame.protocols": ("str", lambda c: c.row.protocol.lower()),
    "frame.info": ("str", lambda c: c.row.info),
    "malformed": ("bool", lambda c: bool(c.d.malformed) or "malformed" in c.row.tags
                  or bool(c.bits & ANALYSIS_BIT["malformed"])),
    "ip": ("bool", lambda c: c.d.ip_version == 4),
    "ipv6": ("bool", lambda c: c.d.ip_version == 6),
    "ip.src": ("ip", lambda c: _ip(c) and c.d.src),
    "ip.dst": ("ip", lambda c: _ip(c) and c.d.dst),
    "ip.addr": ("ip", lambda c: _ip(c) and [c.d.src, c.d.dst]),
    "ip.ttl": ("int", lambda c: _ip(c) and c.d.ttl),
    "ip.proto": ("int", lambda c: _ip(c) and c.d.ip_proto),
    "ip.version": ("int", lambda c: _ip(c) and c.d.ip_version),
    "tcp": ("bool", lambda c: c.d.transport == "tcp"),
    "tcp.srcport": ("int", lambda c: _tcp(c) and c.d.sport),
    "tcp.dstport": ("int", lambda c: _tcp(c) and c.d.dport),
    "tcp.port": ("int", lambda c: _tcp(c) and [c.d.sport, c.d.dport]),
    "tcp.seq_raw": ("int", lambda c: _tcp(c) and c.d.seq),
    "tcp.ack_raw": ("int", lambda c: _tcp(c) and c.d.ack),
    "tcp.len": ("int", lambda c: _tcp(c) and c.d.payload_len),
    "tcp.window_size_value": ("int", lambda c: _tcp(c) and c.d.window),
    "tcp.stream": ("int", lambda c: _tcp(c) and c.stream),
    "tcp.flags": ("int", lambda c: _tcp(c) and c.d.flags),
    "tcp.flags.syn": ("bool", _flag(SYN)),
    "tcp.flags.ack": ("bool", _flag(ACK)),
    "tcp.flags.fin": ("bool", _flag(FIN)),
    "tcp.flags.reset": ("bool", _flag(RST)),
    "tcp.flags.push": ("bool", _flag(PSH)),
    "tcp.flags.urg": ("bool", _flag(URG)),
    "tcp.flags.ece": ("bool", _flag(ECE)),
    "tcp.flags.cwr": ("bool", _flag(CWR)),
    "tcp.analysis.flags": ("bool", lambda c: bool(c.bits & ~ANALYSIS_BIT["loopback_duplicate"])),
    "udp": ("bool", lambda c: c.d.transport == "udp"),
    "udp.srcport": ("int", lambda c: _udp(c) and c.d.sport),
    "udp.dstport": ("int", lambda c: _udp(c) and c.d.dport),
    "udp.port": ("int", lambda c: _udp(c) and [c.d.sport, c.d.dport]),
    "udp.length": ("int", lambda c: _udp(c) and c.d.payload_len + 8),
    "udp.stream": ("int", lambda c: _udp(c) and c.stream),
    "msg": ("bool", lambda c: bool(c.slices)),
    "msg.count": ("int", lambda c: len(c.slices)),
    "msg.len": ("int", lambda c: [s.message.length for s in c.slices] or None),
    "msg.protocol": ("str", _msg_protocol),
    "msg.direction": ("str", lambda c: [s.message.direction for s in c.slices] or None),
    "msg.summary": ("str", lambda c: [s.message.summary for s in c.slices] or None),
    "msg.coalesced": ("bool", _coalesced),
    "msg.split": ("bool", _split),
    "msg.malformed": ("bool", lambda c: any(s.message.malformed for s in c.slices)),
    "conv.id": ("int", lambda c: c.stream),
    "conv.state": ("str", _conv_attr("state")),
    "conv.history": ("str", _conv_attr("history")),
    "conv.protocol": ("str", _conv_attr("protocol")),
    "conv.packets": ("int", _conv_attr("packets")),
    "conv.transport": ("str", _conv_attr("transport")),
}
for _name in ANALYSIS_NAMES:
    FIELDS[f"tcp.analysis.{_name}"] = ("bool", _analysis(_name))
# Wireshark spellings
FIELDS["tcp.analysis.duplicate_ack"] = ("bool", _analysis("duplicate_ack"))
FIELDS["tcp.analysis.ack_lost_segment"] = ("bool", _analysis("ack_lost_segment"))
for _proto in ("chat", "lenmsg", "filexfer", "auth", "bigreply", "udpecho"):
    FIELDS[_proto] = ("bool", _protocol_is(_proto))
for _alias, _real in (("ip.src_host", "ip.src"), ("ip.dst_host", "ip.dst"), ("tcp.flags.rst", "tcp.flags.reset"),
                      ("tcp.flags.psh", "tcp.flags.push"), ("tcp.window", "tcp.window_size_value"),
                      ("frame.time", "frame.time_relative"), ("udp.len", "udp.length")):
    FIELDS[_alias] = FIELDS[_real]


# numeric fields with a fixed width: a value outside can never match (Wireshark rejects it)
_RANGES: dict[str, tuple[int, int]] = {
    f"{t}.{f}": (0, 65535) for t in ("tcp", "udp") for f in ("port", "srcport", "dstport")}


def field_names() -> list[str]:
    """Every field the language knows, sorted (for help screens and completion)."""
    return sorted(FIELDS)


# --------------------------------------------------------------------------- tokenizer
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\]|\\.)*"?)
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>!()=])
  | (?P<word>[A-Za-z0-9_.:/\-\[\]]+)
""", re.VERBOSE)

_WORD_OPS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
             "contains": "contains", "matches": "matches", "~": "matches"}
_COMPARE = {"==", "!=", "<", "<=", ">", ">=", "contains", "matches"}


@dataclass(slots=True)
class _Tok:
    kind: str      # "str" | "op" | "word" | "end"
    text: str
    pos: int


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise FilterError(f"unexpected character {text[pos]!r}", pos)
        kind = m.lastgroup
        if kind == "str":
            s = m.group()
            if len(s) < 2 or not s.endswith('"') or s.endswith('\\"') and not s.endswith('\\\\"'):
                raise FilterError("unterminated string", pos)
        if kind != "ws":
            t = m.group()
            if kind == "word" and t.lower() in ("and", "or", "not"):
                kind = "op"
                t = t.lower()
            elif kind == "word" and t.lower() in _WORD_OPS:
                kind, t = "op", _WORD_OPS[t.lower()]
            elif kind == "op" and t == "=":
                raise FilterError("'=' is not an operator; did you mean '=='?", pos)
            toks.append(_Tok(kind, t, pos))
        pos = m.end()
    toks.append(_Tok("end", "", len(text)))
    return toks


# --------------------------------------------------------------------------- parser -> closures
Pred = Callable[[PacketContext], bool]


def _values(v) -> list:
    if v is None:
        return []
    if isinstance(v, (list, tuple)):
        return [x for x in v if x is not None]
    return [v]


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def parse(self) -> Pred:
        if self.peek().kind == "end":
            raise FilterError("empty filter", 0)
        pred = self.parse_or()
        t = self.peek()
        if t.kind != "end":
            if t.text == ")":
                raise FilterError("unbalanced ')'", t.pos)
            raise FilterError(f"unexpected {t.text!r}; expected 'and', 'or' or the end", t.pos)
        return pred

    def parse_or(self) -> Pred:
        parts = [self.parse_and()]
        while self.peek().kind == "op" and self.peek().text in ("or", "||"):
            self.take()
            parts.append(self.parse_and())
        if len(parts) == 1:
            return parts[0]
        return lambda ctx: any(p(ctx) for p in parts)

    def parse_and(self) -> Pred:
        parts = [self.parse_not()]
        while self.peek().kind == "op" and self.peek().text in ("and", "&&"):
            self.take()
            parts.append(self.parse_not())
        if len(parts) == 1:
            return parts[0]
        return lambda ctx: all(p(ctx) for p in parts)

    def parse_not(self) -> Pred:
        t = self.peek()
        if t.kind == "op" and t.text in ("not", "!"):
            self.take()
            self.depth += 1
            if self.depth > 256:
                raise FilterError("too many 'not's", t.pos)
            inner = self.parse_not()
            return lambda ctx: not inner(ctx)
        return self.parse_atom()

    def parse_atom(self) -> Pred:
        t = self.take()
        if t.kind == "op" and t.text == "(":
            self.depth += 1
            if self.depth > 64:
                raise FilterError("parentheses nested too deeply (over 64)", t.pos)
            inner = self.parse_or()
            self.depth -= 1
            close = self.take()
            if close.text != ")":
                raise FilterError("missing ')'", close.pos)
            return inner
        if t.kind == "end":
            raise FilterError("expression expected", t.pos)
        if t.kind != "word":
            raise FilterError(f"field name expected, got {t.text!r}", t.pos)
        name = t.text.lower()
        if name not in FIELDS:
            hint = difflib.get_close_matches(name, FIELDS.keys(), n=1)
            more = f"; did you mean {hint[0]!r}?" if hint else ""
            raise FilterError(f"unknown field {t.text!r}{more}", t.pos)
        ftype, getter = FIELDS[name]
        op = self.peek()
        if op.kind == "op" and op.text in _COMPARE:
            self.take()
            vt = self.take()
            if vt.kind not in ("word", "str"):
                raise FilterError(f"value expected after {op.text!r}", vt.pos)
            return self._compare(name, ftype, getter, op, vt)
        if op.kind == "word" or op.kind == "str":
            raise FilterError(f"operator expected after {t.text!r}, got {op.text!r}", op.pos)
        if ftype == "bool":
            return lambda ctx: bool(getter(ctx))
        return lambda ctx: bool(_values(getter(ctx)))

    def _compare(self, name: str, ftype: str, getter: Getter, op: _Tok, vt: _Tok) -> Pred:
        raw = vt.text
        if vt.kind == "str":
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        o = op.text
        if o in ("contains", "matches"):
            if ftype not in ("str",):
                raise FilterError(f"{name!r} is not a text field: {o!r} needs one", op.pos)
            if o == "contains":
                needle = raw   # case-sensitive, as Wireshark's `contains`
                return lambda ctx: any(needle in str(v) for v in _values(getter(ctx)))
            try:
                rx = re.compile(raw, re.IGNORECASE)
            except re.error as exc:
                raise FilterError(f"bad regular expression: {exc}", vt.pos) from None
            return lambda ctx: any(rx.search(str(v)) for v in _values(getter(ctx)))
        value = self._convert(name, ftype, raw, vt)
        if ftype == "ip":
            net = value
            if o not in ("==", "!="):
                raise FilterError(f"{o!r} cannot compare addresses; use == or !=", op.pos)

            def hit(ctx) -> bool:
                for v in _values(getter(ctx)):
                    try:
                        if ipaddress.ip_address(v) in net:
                            return True
                    except ValueError:
                        continue
                return False
            return hit if o == "==" else (lambda ctx: not hit(ctx) and bool(_values(getter(ctx))))
        if ftype in ("str", "bool") and o not in ("==", "!="):
            raise FilterError(f"{o!r} needs a number; {name!r} is a {'text' if ftype == 'str' else 'flag'} field", op.pos)
        if ftype == "str":
            want = value.lower()
            eq = lambda ctx: any(str(v).lower() == want for v in _values(getter(ctx)))  # noqa: E731
        else:
            cmp = {"==": lambda a: a == value, "!=": lambda a: a == value, "<": lambda a: a < value,
                   "<=": lambda a: a <= value, ">": lambda a: a > value, ">=": lambda a: a >= value}[o]
            eq = lambda ctx: any(cmp(v) for v in _values(getter(ctx)) if not isinstance(v, bool) or ftype == "bool")  # noqa: E731
        if o == "!=":
            return lambda ctx: bool(_values(getter(ctx))) and not eq(ctx)
        return eq

    @staticmethod
    def _convert(name: str, ftype: str, raw: str, vt: _Tok):
        if ftype in ("int", "float"):
            try:
                if ftype == "float":
                    return float(raw)
                value = int(raw, 0)
            except ValueError:
                raise FilterError(f"{name!r} is a number; {raw!r} is not", vt.pos) from None
            lo, hi = _RANGES.get(name, (None, None))
            if lo is not None and not lo <= value <= hi:
                raise FilterError(f"{raw!r} is out of range for {name!r} ({lo}-{hi})", vt.pos)
            return value
        if ftype == "bool":
            low = raw.lower()
            if low in ("1", "true", "yes"):
                return True
            if low in ("0", "false", "no"):
                return False
            raise FilterError(f"{name!r} is a flag; compare it with 1/0 or true/false, not {raw!r}", vt.pos)
        if ftype == "ip":
            try:
                return ipaddress.ip_network(raw, strict=False)
            except ValueError:
                raise FilterError(f"{raw!r} is not an IP address or network", vt.pos) from None
        return raw


class Filter:
    """A compiled display filter. `matches(engine, n)` evaluates it on packet n."""

    def __init__(self, text: str, pred: Pred | None):
        self.text = text
        self._pred = pred

    @property
    def is_empty(self) -> bool:
        return self._pred is None

    def matches(self, engine, n: int) -> bool:
        if self._pred is None:
            return True
        try:
            return bool(self._pred(PacketContext(engine, n)))
        except (TypeError, ValueError, AttributeError, LookupError):
            return False

    def __repr__(self) -> str:
        return f"Filter({self.text!r})"


def compile_filter(text: str) -> Filter:
    """Compile `text`; an empty/blank text gives a filter matching every packet."""
    if len(text) > 4096:
        raise FilterError("filter too long (over 4096 characters)", 4096)
    if not text.strip():
        return Filter(text, None)
    return Filter(text, _Parser(text).parse())
