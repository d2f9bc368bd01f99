"""The display filter tokenizer: words (fields, numbers, addresses, byte strings, slices),
quoted strings and operators, each with its column for error messages."""
from __future__ import annotations

import re
from dataclasses import dataclass

from analyzer.filters.filter_error import FilterError

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\]|\\.)*"?)
  | (?P<op>===|==|!=|~=|<=|>=|&&|\|\||[<>!()={},~])
  | (?P<word>[A-Za-z0-9_.:/\-\[\]]+)
""", re.VERBOSE)

WORD_OPS = {"eq": "==", "ne": "!=", "all_eq": "===", "any_ne": "~=", "lt": "<", "le": "<=",
            "gt": ">", "ge": ">=", "contains": "contains", "matches": "matches", "~": "matches",
            "in": "in", "and": "and", "or": "or", "not": "not"}
COMPARE = {"==", "!=", "~=", "===", "<", "<=", ">", ">=", "contains", "matches"}


@dataclass(slots=True)
class Tok:
    kind: str      # "str" | "op" | "word" | "end"
    text: str
    pos: int


def unquote(text: str) -> str:
    """The content of a "string" token with its backslash escapes resolved."""
    body = text[1:-1]
    escapes = {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}

    def sub(m: re.Match) -> str:
        c = m.group(1)
        if c.startswith("x"):
            return chr(int(c[1:], 16))
        return escapes.get(c, c)
    return re.sub(r"\\(x[0-9a-fA-F]{2}|.)", sub, body)


def tokenize(text: str) -> list[Tok]:
    toks: list[Tok] = []
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
            if kind == "word" and t.lower() in WORD_OPS:
                kind, t = "op", WORD_OPS[t.lower()]
            elif kind == "op" and t == "~":
                t = "matches"
            elif kind == "op" and t == "=":
                raise FilterError("'=' is not an operator; did you mean '=='?", pos)
            toks.append(Tok(kind, t, pos))
        pos = m.end()
    toks.append(Tok("end", "", len(text)))
    return toks
