"""Values of the display filter language: literals converted to a field's type, slices of byte
fields, and the comparison of a packet's values with a literal (Wireshark 4.0 semantics).

Several values (ip.addr, tcp.port, two messages in one packet): `==` holds when any value is
equal, `!=` when all are not equal (none is equal), `~=` when any is not equal, `===` when all
are equal, `<` `<=` `>` `>=` `contains` `matches` `in` when any value does.  A packet without
the field matches none of them.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Callable

from analyzer.filters.fields import RANGES
from analyzer.filters.filter_error import FilterError

BYTES_TYPES = ("bytes", "proto")
_HEX_BYTES = re.compile(r"^[0-9a-fA-F]{2}([:.\-]?[0-9a-fA-F]{2})*$")
_SLICE = re.compile(r"^\[\s*(-?\d*)\s*(?:(:|-)\s*(-?\d*))?\s*\]$")


def values(v) -> list:
    if v is None:
        return []
    if isinstance(v, (list, tuple)):
        return [x for x in v if x is not None]
    return [v]


def parse_bytes(raw: str, pos: int) -> bytes:
    """`00:00:00:05`, `00-01`, `00.01` or `0a0b` as bytes."""
    if not _HEX_BYTES.match(raw):
        raise FilterError(f"{raw!r} is not a byte string (like 00:00:00:05); quote text", pos)
    return bytes.fromhex(re.sub(r"[:.\-]", "", raw))


def parse_slice(text: str, pos: int) -> Callable[[bytes], bytes]:
    """Wireshark's `[i:n]` (offset i, length n), `[i-j]` (offsets i to j inclusive), `[i]`,
    `[:n]`, `[i:]`; a negative offset counts from the end."""
    m = _SLICE.match(text)
    if not m or (m.group(1) == "" and m.group(2) is None):
        raise FilterError(f"bad slice {text!r}; use [offset:length], [from-to] or [offset]", pos)
    start = int(m.group(1) or 0)
    sep, other = m.group(2), m.group(3)
    if sep is None:
        return lambda b: b[start: start + 1 or None] if len(b) > start >= -len(b) else b""
    if sep == ":" and (other is None or other == ""):
        return lambda b: b[start:]
    if other is None or other == "":
        raise FilterError(f"bad slice {text!r}", pos)
    num = int(other)
    if sep == ":":
        if num < 0:
            raise FilterError(f"bad slice length in {text!r}", pos)

        def cut(b: bytes) -> bytes:
            s = start if start >= 0 else len(b) + start
            return b[s: s + num] if 0 <= s and s + num <= len(b) else b""
        return cut

    def between(b: bytes) -> bytes:
        s = start if start >= 0 else len(b) + start
        e = num if num >= 0 else len(b) + num
        return b[s: e + 1] if 0 <= s <= e < len(b) else b""
    return between


def convert(name: str, ftype: str, raw: str, quoted: bool, pos: int):
    """The literal `raw` as a value of field `name` (of type `ftype`)."""
    if ftype in ("int", "float"):
        if quoted:
            raise FilterError(f"{name!r} is a number; {raw!r} is not", pos)
        try:
            if ftype == "float":
                return float(raw)
            value = int(raw, 0)
        except ValueError:
            raise FilterError(f"{name!r} is a number; {raw!r} is not", pos) from None
        lo, hi = RANGES.get(name, (None, None))
        if lo is not None and not lo <= value <= hi:
            raise FilterError(f"{raw!r} is out of range for {name!r} ({lo}-{hi})", pos)
        return value
    if ftype == "bool":
        low = raw.lower()
        if low in ("1", "true", "yes"):
            return True
        if low in ("0", "false", "no"):
            return False
        raise FilterError(f"{name!r} is a flag; compare it with 1/0 or true/false, not {raw!r}", pos)
    if ftype == "ip":
        try:
            return ipaddress.ip_network(raw, strict=False)
        except ValueError:
            raise FilterError(f"{raw!r} is not an IP address or network", pos) from None
    if ftype in BYTES_TYPES:
        return raw.encode("utf-8") if quoted else parse_bytes(raw, pos)
    return raw


def equal_test(ftype: str, value) -> Callable[[object], bool]:
    """v -> v equals the literal, for one value of a field of type `ftype`."""
    if ftype == "ip":
        def in_net(v) -> bool:
            try:
                return ipaddress.ip_address(v) in value
            except ValueError:
                return False
        return in_net
    if ftype == "str":
        want = value.lower()
        return lambda v: str(v).lower() == want
    if ftype == "text":
        return lambda v: str(v) == value
    if ftype == "bool":
        return lambda v: bool(v) == value
    return lambda v: v == value


ORDER = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
         ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def combine(op: str, test: Callable[[object], bool], get: Callable) -> Callable:
    """The predicate of `field OP literal`, given one value's test and the values getter."""
    if op in ("==", "any"):
        return lambda ctx: any(test(v) for v in get(ctx))
    if op == "!=":
        def all_ne(ctx) -> bool:
            vs = get(ctx)
            return bool(vs) and not any(test(v) for v in vs)
        return all_ne
    if op == "~=":
        return lambda ctx: any(not test(v) for v in get(ctx))
    if op == "===":
        def all_eq(ctx) -> bool:
            vs = get(ctx)
            return bool(vs) and all(test(v) for v in vs)
        return all_eq
    raise ValueError(op)
