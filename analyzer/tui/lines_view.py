"""A read-only line-API view over a list of rich Text lines (follow stream, ladder, help)."""
from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class LinesView(ScrollView, can_focus=True):
    BINDINGS = [
        Binding("up,k", "scroll_up", "Up", show=False),
        Binding("down,j", "scroll_down", "Down", show=False),
        Binding("home,g", "scroll_home", "Top", show=False),
        Binding("end,G", "scroll_end", "Bottom", show=False),
    ]

    def __init__(self, lines: list[Text] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines: list[Text] = []
        self._strips: dict[int, Strip] = {}
        if lines:
            self.set_lines(lines)

    def set_lines(self, lines: list[Text], keep_position: bool = False) -> None:
        self.lines = lines
        self._strips.clear()
        width = max((l.cell_len for l in lines[:5000]), default=1)
        self.virtual_size = Size(width, len(lines))
        if not keep_position:
            self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    @property
    def plain_text(self) -> str:
        return "\n".join(line.plain for line in self.lines)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = round(self.scroll_y) + y
        base = self.rich_style
        if index >= len(self.lines):
            return Strip.blank(width, base)
        strip = self._strips.get(index)
        if strip is None:
            segs = list(self.lines[index].render(self.app.console, end=""))
            strip = Strip(segs).apply_style(base)
            self._strips[index] = strip
        sx = round(self.scroll_x)
        return strip.crop(sx, sx + width).extend_cell_length(width, base)
