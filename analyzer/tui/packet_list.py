"""The packet list: a line-API ScrollView over the engine's index (no widget per row).

Only visible rows are rendered (`render_line`), each built from `engine.row(n)` and kept in a
small LRU.  The list shows either every packet fed so far or a filtered view (an array of
packet numbers that a filter worker fills in).  Row colours come from Row.tags, styled by the
component classes in wirelab.tcss.
"""
from __future__ import annotations

import time
from array import array
from collections import OrderedDict

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from analyzer.tui.columns import ColumnFit, column_widths, format_row, header_text

# tag -> component class, in priority order (first match colours the row)
TAG_CLASSES = (
    ("malformed", "packet-list--malformed"),
    ("rst", "packet-list--rst"),
    ("retransmission", "packet-list--bad"),
    ("out_of_order", "packet-list--bad"),
    ("lost_segment", "packet-list--bad"),
    ("dup_ack", "packet-list--bad"),
    ("coalesced", "packet-list--coalesced"),
    ("split", "packet-list--split"),
    ("handshake", "packet-list--handshake"),
    ("teardown", "packet-list--teardown"),
    ("loopback_duplicate", "packet-list--dup"),
    ("pending", "packet-list--pending"),
)


class PacketHeader(Widget):
    """The column titles above the list, at the widths the list last drew with."""

    DEFAULT_CSS = "PacketHeader { height: 1; }"
    widths: reactive[tuple] = reactive(tuple)

    def render(self) -> Text:
        widths = list(self.widths) or column_widths(self.size.width, ColumnFit())
        return Text(header_text(widths)[: self.size.width], style="bold")


class PacketList(ScrollView, can_focus=True):
    """Virtual list of packets; `cursor` is an index into the current view."""

    COMPONENT_CLASSES = {cls for _, cls in TAG_CLASSES} | {"packet-list--cursor"}
    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
    ]

    cursor = reactive(-1, always_update=True, repaint=False)

    class Selected(Message):
        """The cursor moved onto packet `number`."""

        def __init__(self, number: int) -> None:
            super().__init__()
            self.number = number

    class ColumnsChanged(Message):
        """The column widths changed (the header redraws with them)."""

        def __init__(self, widths: list[int]) -> None:
            super().__init__()
            self.widths = widths

    def __init__(self, session, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.view: array | None = None      # None: all packets 1..total
        self.view_len = 0
        self.total = 0
        self.follow_tail = False            # live: keep the cursor on the newest packet
        # a filter being applied: the packet selected before, to select again when the
        # filter lets it through (Wireshark keeps the selection), and where we put the cursor
        self._keep_pending: int | None = None
        self._keep_cursor = -1
        self._cache: OrderedDict = OrderedDict()
        self.rows_rendered = 0              # rows built from the engine (tests/bench)
        self.first_row_at: float | None = None   # time.monotonic() of the first row drawn
        self.fit = ColumnFit()              # what the rows seen so far need (column widths)
        self.widths: list[int] = []

    # -- data -------------------------------------------------------------------------
    @property
    def length(self) -> int:
        return self.total if self.view is None else self.view_len

    def number_at(self, index: int) -> int:
        return index + 1 if self.view is None else self.view[index]

    def index_of(self, number: int) -> int | None:
        """Index in the current view of packet `number` (None when filtered out)."""
        if self.view is None:
            return number - 1 if 1 <= number <= self.total else None
        import bisect
        i = bisect.bisect_left(self.view, number, 0, self.view_len)
        return i if i < self.view_len and self.view[i] == number else None

    @property
    def selected_number(self) -> int | None:
        if 0 <= self.cursor < self.length:
            return self.number_at(self.cursor)
        return None

    def set_total(self, total: int, invalidate: bool = True) -> None:
        """More packets were indexed (or their rows changed)."""
        self.total = total
        if invalidate:
            self._cache.clear()
        if len(str(total)) != len(str(self.fit.count)):
            self._set_fit(ColumnFit(total, self.fit.addr, self.fit.proto))
        self._resize()

    def set_view(self, view: array | None, view_len: int = 0, keep: int | None = None) -> None:
        """Show only the packet numbers in `view[:view_len]` (None: all packets)."""
        keep = self.selected_number if keep is None else keep
        self.view = view
        self.view_len = view_len if view is not None else 0
        self._resize()
        idx = self.index_of(keep) if keep and self.length else None
        if self.length:
            if idx is None:
                import bisect
                idx = 0 if self.view is None or not keep else min(
                    bisect.bisect_left(self.view, keep, 0, self.view_len), self.view_len - 1)
            self.cursor = idx
        else:
            self.cursor = -1
        # a view still being filled may let the kept packet through later
        self._keep_pending = keep if view is not None and keep and idx is None else None
        self._keep_cursor = self.cursor
        self.refresh()

    def grow_view(self, view_len: int) -> None:
        self.view_len = view_len
        self._resize()
        if self.cursor < 0 and self.length:
            self.cursor = 0
        keep = self._keep_pending
        if keep is not None and self.length:
            if self.cursor not in (self._keep_cursor, 0):
                self._keep_pending = None            # the user moved meanwhile
            else:
                idx = self.index_of(keep)
                if idx is not None:
                    self.cursor = idx
                if idx is not None or self.view[self.view_len - 1] > keep:
                    self._keep_pending = None        # found, or filtered out
                self._keep_cursor = self.cursor
        self.refresh()

    def _resize(self) -> None:
        self.virtual_size = Size(self.size.width or 80, self.length)
        if self.follow_tail and self.length:
            self.cursor = self.length - 1
        elif self.cursor < 0 and self.length:
            self.cursor = 0

    # -- cursor ------------------------------------------------------------------------
    def validate_cursor(self, value: int) -> int:
        if self.length == 0:
            return -1
        return max(0, min(value, self.length - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        if new < 0:
            return
        self.session.touch()
        self._scroll_to_cursor()
        self.refresh()
        # posted even when unchanged: the row's packet may have been analyzed since
        self.post_message(self.Selected(self.number_at(new)))

    def _scroll_to_cursor(self) -> None:
        new = self.cursor
        height = max(1, self.scrollable_content_region.height)
        top = round(self.scroll_y)
        # force: right after the list grew, the scrollbar (which allows scrolling) is not
        # laid out yet, and an unforced scroll would be dropped
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True, force=True)
        elif new >= top + height:
            self.scroll_to(y=new - height + 1, animate=False, immediate=True, force=True)

    def action_cursor_up(self) -> None:
        self.follow_tail = False
        self.cursor -= 1

    def action_cursor_down(self) -> None:
        self.cursor += 1

    def action_page_up(self) -> None:
        self.follow_tail = False
        self.cursor -= max(1, self.scrollable_content_region.height - 1)

    def action_page_down(self) -> None:
        self.cursor += max(1, self.scrollable_content_region.height - 1)

    def action_first(self) -> None:
        self.follow_tail = False
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = self.length - 1

    def on_click(self, event) -> None:
        self.follow_tail = False
        self.cursor = round(self.scroll_y) + event.y

    def on_resize(self) -> None:
        self._cache.clear()
        self._resize()
        self._set_widths()
        if self.cursor >= 0:
            self._scroll_to_cursor()     # the cursor row may have left a shorter window

    def _set_fit(self, fit: ColumnFit) -> None:
        self.fit = fit
        self._cache.clear()
        self._set_widths()
        self.refresh()

    def _set_widths(self) -> None:
        width = self.scrollable_content_region.width
        if not width:
            return
        widths = column_widths(width, self.fit)
        if widths != self.widths:
            self.widths = widths
            self.post_message(self.ColumnsChanged(widths))

    # -- rendering ----------------------------------------------------------------------
    def _row_strip(self, number: int, width: int) -> Strip:
        key = (number, width)
        strip = self._cache.get(key)
        if strip is not None:
            self._cache.move_to_end(key)
            return strip
        try:
            row = self.session.row(number)
            fit = self.fit.grown(row.src, row.dst, row.protocol)
            if fit is not self.fit:
                self._set_fit(fit)
            text = format_row(row, column_widths(width, self.fit))
            tags = row.tags
        except Exception as exc:  # a broken row must not break the list
            text = f"{number:>6} <row unavailable: {type(exc).__name__}>"
            tags = frozenset({"malformed"})
        self.rows_rendered += 1
        style = self.rich_style
        for tag, cls in TAG_CLASSES:
            if tag in tags:
                style = style + self.get_component_rich_style(cls)
                break
        strip = Strip([Segment(text[:width].ljust(width), style)], width)
        self._cache[key] = strip
        if len(self._cache) > 1000:
            self._cache.popitem(last=False)
        return strip

    def _prefetch(self, top: int, width: int) -> None:
        """Build every visible row that is not cached under one lock acquisition."""
        height = self.scrollable_content_region.height
        end = min(self.length, top + height)
        with self.session.lock:
            for i in range(max(0, top), end):
                number = self.number_at(i)
                if (number, width) not in self._cache:
                    self._row_strip(number, width)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        top = round(self.scroll_y)
        index = top + y
        if index >= self.length or index < 0:
            return Strip.blank(width, self.rich_style)
        number = self.number_at(index)
        if (number, width) not in self._cache:
            self._prefetch(top, width)
        strip = self._row_strip(number, width)
        if self.first_row_at is None:
            self.first_row_at = time.monotonic()
        if index == self.cursor:
            cur = self.get_component_rich_style("packet-list--cursor")
            if not self.has_focus:
                cur = Style(reverse=True) if cur is None else cur + Style(dim=False)
            strip = strip.apply_style(cur)
        return strip

    def scroll_to_number(self, number: int) -> bool:
        idx = self.index_of(number)
        if idx is None:
            return False
        self.follow_tail = False
        self.cursor = idx
        return True

    def visible_region(self) -> Region:
        return self.scrollable_content_region
