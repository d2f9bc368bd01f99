"""A small Wireshark-like display filter language over one packet's fields.

    f = compile_filter('tcp.port == 9001 and not tcp.analysis.retransmission')
    f.matches(engine, n)  -> bool          # n: 1-based packet number

Grammar (case-insensitive keywords, `&&`/`||`/`!` also accepted; analyzer.filters.parser):

    atom   := "(" expr ")" | FIELD[SLICE] [ OP VALUE | "in" "{" VALUE ... "}" ]
    OP     := == != ~= === < <= > >= eq ne any_ne all_eq lt le gt ge contains matches ~
    VALUE  := number (12, 0x1f, 0.5) | "string" | ip (127.0.0.1, ::1, 10.0.0.0/8)
              | bytes (00:00:00:05) | a..b (a range, inside a set)
    SLICE  := [offset:length] | [from-to] | [offset] | [:length] | [offset:]

A bare FIELD is true when the packet has it (for flags: when the flag is set).  `contains` is
case-sensitive, `matches` (a regular expression) is not, as in Wireshark.  A field with
several values (ip.addr, tcp.port) follows Wireshark 4.0: `==` any equal, `!=` all not equal,
`~=` any not equal, `===` all equal (analyzer.filters.values).  Field names are Wireshark's and,
for the application protocols, the exported Lua plugin's (analyzer.filters.fields,
analyzer.filters.protocol_fields; docs/manual/H-parity.md lists them).  Bad input raises
FilterError(message, position).
"""
from __future__ import annotations

from analyzer.filters.context import PacketContext
from analyzer.filters.filter_error import FilterError
from analyzer.filters.parser import ALL_FIELDS, Parser, Pred

__all__ = ["FilterError", "Filter", "compile_filter", "field_names"]


def field_names() -> list[str]:
    """Every field the language knows, sorted (for help screens and completion)."""
    return sorted(ALL_FIELDS)


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
    return Filter(text, Parser(text).parse())
