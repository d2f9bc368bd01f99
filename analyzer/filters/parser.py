"""The display filter parser: tokens -> a predicate over a PacketContext (closures, built once).

    expr   := or
    or     := and ( ("or" | "||") and )*
    and    := not ( ("and" | "&&") not )*
    not    := ("not" | "!") not | atom
    atom   := "(" expr ")" | FIELD[SLICE] [ OP VALUE | "in" "{" VALUE... "}" ]
"""
from __future__ import annotations

import difflib
import re
from typing import Callable

from analyzer.filters.context import PacketContext
from analyzer.filters.fields import FIELDS
from analyzer.filters.filter_error import FilterError
from analyzer.filters.protocol_fields import PROTOCOL_FIELDS, WIRELAB_FIELDS
from analyzer.filters.tokens import COMPARE, Tok, tokenize, unquote
from analyzer.filters.values import (BYTES_TYPES, ORDER, combine, convert, equal_test,
                                     parse_slice, values)

Pred = Callable[[PacketContext], bool]
ALL_FIELDS = {**FIELDS, **PROTOCOL_FIELDS, **WIRELAB_FIELDS}
TEXT_TYPES = ("str", "text")
MAX_SET = 1024


class Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self) -> Tok:
        return self.toks[self.i]

    def take(self) -> Tok:
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
        name, ftype, get = self._field(t)
        op = self.peek()
        if op.kind == "op" and op.text in COMPARE:
            self.take()
            vt = self.take()
            if vt.kind not in ("word", "str"):
                raise FilterError(f"value expected after {op.text!r}", vt.pos)
            return self._compare(name, ftype, get, op, vt)
        if op.kind == "op" and op.text == "in":
            self.take()
            return self._member(name, ftype, get, op)
        if op.kind == "word" or op.kind == "str":
            raise FilterError(f"operator expected after {t.text!r}, got {op.text!r}", op.pos)
        if ftype == "bool" and "[" not in t.text:
            flag = ALL_FIELDS[name][1]
            return lambda ctx: bool(flag(ctx))
        return lambda ctx: bool(get(ctx))

    def _field(self, t: Tok) -> tuple[str, str, Callable[[PacketContext], list]]:
        """(name, type, ctx -> list of values) of a FIELD or FIELD[SLICE] token."""
        name, bracket, rest = t.text.partition("[")
        name = name.lower()
        if name not in ALL_FIELDS:
            hint = difflib.get_close_matches(name, ALL_FIELDS.keys(), n=1)
            more = f"; did you mean {hint[0]!r}?" if hint else ""
            raise FilterError(f"unknown field {t.text!r}{more}", t.pos)
        ftype, getter = ALL_FIELDS[name]
        if not bracket:
            return name, ftype, lambda ctx: values(getter(ctx))
        if ftype not in BYTES_TYPES + TEXT_TYPES:
            raise FilterError(f"{name!r} cannot be sliced: only byte and text fields can",
                              t.pos + len(name))
        cut = parse_slice("[" + rest, t.pos + len(name))

        def sliced(ctx) -> list:
            out = []
            for v in values(getter(ctx)):
                b = cut(v if isinstance(v, bytes) else str(v).encode("utf-8"))
                if b:
                    out.append(b)
            return out
        return name, "bytes", sliced

    def _compare(self, name: str, ftype: str, get, op: Tok, vt: Tok) -> Pred:
        quoted = vt.kind == "str"
        raw = unquote(vt.text) if quoted else vt.text
        o = op.text
        if o in ("contains", "matches"):
            return self._search(name, ftype, get, op, raw, quoted, vt)
        value = convert(name, ftype, raw, quoted, vt.pos)
        if o in ORDER:
            if ftype == "ip":
                raise FilterError(f"{o!r} cannot compare addresses; use == or !=", op.pos)
            if ftype in ("str", "text", "bool"):
                kind = "flag" if ftype == "bool" else "text"
                raise FilterError(f"{o!r} needs a number; {name!r} is a {kind} field", op.pos)
            order = ORDER[o]
            return lambda ctx: any(order(v, value) for v in get(ctx)
                                   if not isinstance(v, bool))
        return combine(o, equal_test(ftype, value), get)

    @staticmethod
    def _search(name: str, ftype: str, get, op: Tok, raw: str, quoted: bool, vt: Tok) -> Pred:
        if ftype not in TEXT_TYPES + BYTES_TYPES:
            raise FilterError(f"{name!r} is not a text field: {op.text!r} needs one", op.pos)
        is_bytes = ftype in BYTES_TYPES
        if op.text == "contains":
            needle = convert(name, ftype, raw, quoted, vt.pos) if is_bytes else raw
            return lambda ctx: any(needle in (v if is_bytes else str(v)) for v in get(ctx))
        try:
            rx = re.compile(raw.encode("utf-8") if is_bytes else raw, re.IGNORECASE)
        except re.error as exc:
            raise FilterError(f"bad regular expression: {exc}", vt.pos) from None
        return lambda ctx: any(rx.search(v if is_bytes else str(v)) for v in get(ctx))

    def _member(self, name: str, ftype: str, get, op: Tok) -> Pred:
        """`FIELD in {a b c..d}`: any value equal to a member (ranges for numbers)."""
        brace = self.take()
        if brace.text != "{":
            raise FilterError("'{' expected after 'in'", brace.pos)
        tests: list[Callable[[object], bool]] = []
        while True:
            t = self.take()
            if t.kind == "op" and t.text == "}":
                break
            if t.kind == "op" and t.text == ",":
                continue
            if t.kind not in ("word", "str") or len(tests) >= MAX_SET:
                raise FilterError("set value or '}' expected" if t.kind != "end" or not tests
                                  else "missing '}'", t.pos)
            tests.append(self._set_member(name, ftype, t))
        if not tests:
            raise FilterError("empty set", brace.pos)
        return lambda ctx: any(test(v) for v in get(ctx) for test in tests)

    @staticmethod
    def _set_member(name: str, ftype: str, t: Tok) -> Callable[[object], bool]:
        quoted = t.kind == "str"
        raw = unquote(t.text) if quoted else t.text
        if not quoted and ftype in ("int", "float") and ".." in raw:
            lo_raw, _, hi_raw = raw.partition("..")
            lo = convert(name, ftype, lo_raw, False, t.pos)
            hi = convert(name, ftype, hi_raw, False, t.pos)
            return lambda v: not isinstance(v, bool) and lo <= v <= hi
        return equal_test(ftype, convert(name, ftype, raw, quoted, t.pos))
