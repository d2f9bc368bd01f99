"""Hex/ASCII view of one frame: headers dim, each message's bytes in alternating colours,
the selected tree field highlighted."""
from __future__ import annotations

from rich.segment import Segment
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

HEADER, PAYLOAD, MSG_A, MSG_B = 0, 1, 2, 3
_CLASSES = ("hex-view--header", "hex-view--payload", "hex-view--msg-a", "hex-view--msg-b")


def byte_kinds(length: int, payload_offset: int, slices) -> bytearray:
    """Per byte: HEADER, PAYLOAD, or MSG_A/MSG_B by the message's index parity."""
    kinds = bytearray([HEADER]) * length
    if 0 <= payload_offset < length:
        kinds[payload_offset:] = bytes([PAYLOAD]) * (length - payload_offset)
        for s in slices:
            a = max(0, min(length, payload_offset + s.start))
            b = max(0, min(length, payload_offset + s.end))
            kinds[a:b] = bytes([MSG_A if s.message.index % 2 == 0 else MSG_B]) * (b - a)
    return kinds


class HexView(ScrollView, can_focus=True):
    COMPONENT_CLASSES = set(_CLASSES) | {"hex-view--highlight", "hex-view--offset"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.data = b""
        self.kinds = bytearray()
        self.highlight: tuple[int, int] | None = None

    def show(self, data: bytes, kinds: bytearray) -> None:
        self.data = data
        self.kinds = kinds
        self.highlight = None
        self.virtual_size = Size(76, (len(data) + 15) // 16)
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def set_highlight(self, span: tuple[int, int] | None) -> None:
        self.highlight = span
        if span:
            line = span[0] // 16
            top = round(self.scroll_y)
            h = max(1, self.scrollable_content_region.height)
            if not top <= line < top + h:
                self.scroll_to(y=line, animate=False, immediate=True)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        line = round(self.scroll_y) + y
        base = self.rich_style
        off = line * 16
        if off >= len(self.data):
            return Strip.blank(width, base)
        styles = [self.get_component_rich_style(c) for c in _CLASSES]
        hl = self.get_component_rich_style("hex-view--highlight")
        span = self.highlight
        segs = [Segment(f"{off:04x}  ", self.get_component_rich_style("hex-view--offset"))]
        chunk = self.data[off:off + 16]
        asc = []
        for i, b in enumerate(chunk):
            pos = off + i
            st = styles[self.kinds[pos]] if pos < len(self.kinds) else base
            if span and span[0] <= pos < span[1]:
                st = st + hl
            sep = "  " if i == 7 else " "
            segs.append(Segment(f"{b:02x}", st))
            segs.append(Segment(sep, base))
            asc.append(Segment(chr(b) if 32 <= b < 127 else ".", st))
        segs.append(Segment("   " * (16 - len(chunk)) + (" " if len(chunk) <= 7 else "") + " ", base))
        segs.extend(asc)
        strip = Strip(segs)
        return strip.crop(round(self.scroll_x), round(self.scroll_x) + width).extend_cell_length(width, base)
