"""Apply the selected detail-tree field as a display filter (Wireshark's "Apply as Filter"):
on `Source port: 51454`, `a` filters `tcp.srcport == 51454`; `A` adds it to the applied
filter with `and` ("...and Selected").

FieldFilterActions is mixed into WirelabApp; it uses the app's `_q`, `apply_filter` and the
applied filter text.
"""
from __future__ import annotations

from textual.widgets import Input, Tree

from analyzer.tui.detail import Node


class FieldFilterActions:
    """a / A on the main screen (mixed into WirelabApp)."""

    def selected_field_filter(self) -> str:
        """The display filter of the detail tree's highlighted node ("" when it has none)."""
        tnode = self._q(Tree).cursor_node
        node = tnode.data if tnode is not None else None
        return node.filter if isinstance(node, Node) else ""

    def action_apply_field(self, combine: bool = False) -> None:
        text = self.selected_field_filter()
        if not text:
            self.notify("Highlight a field in the detail tree (Tab) to apply it as a filter",
                        severity="warning")
            return
        current = self._filter_text_applied
        if combine and current:
            text = f"({current}) and {text}" if " or " in current.lower() or "||" in current else f"{current} and {text}"
        self._q("#filter", Input).value = text
        self.apply_filter(text)
