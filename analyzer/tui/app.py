"""The wirelab terminal UI: packet list, detail tree, hex view, display filter, go to / find,
and the conversations / follow / ladder / explain / graph views.

    app = WirelabApp(session, loader=records_iterable)     # file: a worker feeds it
    app = WirelabApp(session, live=live_capture)           # live: drains a LiveCapture
"""
from __future__ import annotations

import time

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Footer, Input, Static, Tree
from textual.worker import get_current_worker

from analyzer.tui.detail import Node, build_detail
from analyzer.tui.field_filter import FieldFilterActions
from analyzer.tui.filter_bar import FilterActions, compose_filter_bar
from analyzer.tui.goto_find import GotoFindActions
from analyzer.tui.hexview import HexView, byte_kinds
from analyzer.tui.live_mode import LiveActions, Loaded
from analyzer.tui.packet_list import PacketHeader, PacketList
from analyzer.tui.view_actions import ViewActions


class LazyLoaded(Message):
    def __init__(self, node, children: list[Node]) -> None:
        super().__init__()
        self.node = node
        self.children = children


class WirelabApp(FilterActions, FieldFilterActions, GotoFindActions, LiveActions, ViewActions, App):
    CSS_PATH = "wirelab.tcss"
    TITLE = "wirelab"
    ENABLE_COMMAND_PALETTE = False      # its footer entry would cost the keys room at 80 columns
    # screen classes that wirelab.tcss lays the panes out by: below 32 rows the detail tree
    # and the hex view share one pane (h switches); from 160 columns they sit side by side
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (160, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = [
        Binding("ctrl+c", "quit_now", "Quit", show=False, priority=True),
        Binding("slash", "focus_filter", "Filter"),
        Binding("c", "conversations", "Convs"),
        Binding("f", "follow", "Follow"),
        Binding("l", "ladder", "Ladder"),
        Binding("l", "ladder('live')", "Ladder", show=False),
        Binding("e", "explain", "Explain"),
        Binding("h", "toggle_hex", "Hex"),
        Binding("i", "graph", "Graph"),
        Binding("i", "graph('live')", "Graph", show=False),
        Binding("a", "apply_field", "Apply as filter", show=False),
        Binding("A", "apply_field(True)", "...and selected", show=False),
        Binding("ctrl+g", "goto", "Go to packet", show=False),
        Binding("ctrl+f", "find", "Find", show=False),
        Binding("n", "find_next", "Find next", show=False),
        Binding("N", "find_previous", "Find previous", show=False),
        Binding("x", "clear_filter", "Clear filter", show=False),
        Binding("escape", "leave_filter", "Back to the list", show=False),
        Binding("space", "pause", "Pause"),
        Binding("space", "resume", "Resume"),
        Binding("w", "save", "Save"),
        Binding("question_mark", "help", "Keys"),
        Binding("q", "quit", "Quit"),
    ]

    paused = reactive(False)

    def __init__(self, session, loader=None, live=None, initial_filter: str = "",
                 save_dir: str = ".", select: int | None = None, explain: bool = False) -> None:
        """`select`: the packet to put the cursor on once analyzed (with `explain`, its
        explanation opens over it)."""
        super().__init__()
        self.session = session
        self.loader = loader
        self.live = live
        self.initial_filter = initial_filter
        self.save_dir = save_dir
        self.select = select
        self.explain_selected = explain
        self._last_post = 0.0
        self.first_paint_at: float | None = None
        name = session.path or ("live capture" if live is not None else "capture")
        self.sub_title = name

    def on_key(self, event) -> None:
        """Any key: analysis in the background yields to the UI for a moment."""
        self.session.touch()

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield from compose_filter_bar()
        with Vertical(id="list-pane"):
            yield PacketHeader(id="packet-header")
            yield PacketList(self.session, id="packets")
        with Container(id="bottom"):
            tree: Tree = Tree("packet", id="detail")
            tree.show_root = False
            yield tree
            yield HexView(id="hex")
        yield Static("", id="status")
        yield Footer(compact=True)

    def _q(self, selector, expect_type=None):
        """Query the main screen (always the bottom of the stack), whatever is on top."""
        main = self.screen_stack[0] if self.screen_stack else self.screen
        return main.query_one(selector, expect_type) if expect_type else main.query_one(selector)

    @property
    def packet_list(self) -> PacketList:
        return self._q(PacketList)

    MAIN_ONLY = {"focus_filter", "leave_filter", "conversations", "follow", "ladder", "explain",
                 "clear_filter", "toggle_hex", "graph", "apply_field", "goto", "find", "find_next",
                 "find_previous"}
    LIVE_ONLY = {"save"}

    def check_action(self, action: str, parameters) -> bool | None:
        if action in self.MAIN_ONLY and len(self.screen_stack) > 1:
            return False
        if action in self.LIVE_ONLY and self.live is None:
            return False
        if action in ("pause", "resume"):
            return self.live is not None and self.paused == (action == "resume")
        if action in ("ladder", "graph"):
            # live mode needs the footer's room at 80 columns for Pause and Save: the same
            # keys there, through the binding the footer does not show
            return (self.live is not None) == bool(parameters)
        return True

    def on_mount(self) -> None:
        self.packet_list.focus()
        self.packet_list.follow_tail = self.live is not None
        self._q("#filter-error").display = False
        if self.initial_filter:
            self._q("#filter", Input).value = self.initial_filter
            self.apply_filter(self.initial_filter)
        if self.live is not None:
            self.feed_live()
        elif self.loader is not None:
            self.feed_file()       # the quick index starts once the first rows are drawn
        else:
            self.session.done = True
        self.refresh_counts()
        self.set_interval(0.25, self._tick)

    def action_quit_now(self) -> None:
        """Ctrl+C: quit at once, from any view (as less and termshark do)."""
        self.exit()

    def action_toggle_hex(self) -> None:
        """h: on a short terminal switch the bottom pane between tree and hex; else show or
        hide the hex view."""
        self.screen_stack[0].toggle_class("-hex-toggled")

    def on_packet_list_columns_changed(self, event: PacketList.ColumnsChanged) -> None:
        self._q(PacketHeader).widths = tuple(event.widths)

    # -- loading ----------------------------------------------------------------------------
    def _post_loaded(self) -> None:
        now = time.monotonic()
        if now - self._last_post >= 0.05 or self.session.done:
            self._last_post = now
            self.post_message(Loaded())

    @work(thread=True, exclusive=True, group="loader")
    def feed_file(self) -> None:
        worker = get_current_worker()
        self.session.feed(self.loader, batch=1000, on_batch=self._post_loaded,
                          cancelled=lambda: worker.is_cancelled,
                          paused=self.session.feeding_held)

    @work(thread=True, exclusive=True, group="quick")
    def scan_quick(self) -> None:
        """Locate every packet fast, so the list (and End) covers the whole file at once."""
        worker = get_current_worker()
        # the engine waits meanwhile: the scan takes a second or two alone, much longer
        # when both fight over the GIL
        self.session.hold_feed = True
        try:
            self.session.quick.scan(cancelled=lambda: worker.is_cancelled)
        finally:
            self.session.hold_feed = False
        self.post_message(Loaded())

    def on_loaded(self, _: Loaded) -> None:
        self.refresh_counts()
        self._open_selected()

    def _open_selected(self) -> None:
        """Put the cursor on `select` once the engine has analyzed it (and explain it)."""
        n = self.select
        if n is None or (self.session.count < n and not self.session.done):
            return
        self.select = None
        if not self.packet_list.scroll_to_number(n):
            self.notify(f"Packet {n} is not in this capture", severity="warning")
            return
        if self.explain_selected and len(self.screen_stack) == 1:
            self.action_explain()

    def _tick(self) -> None:
        self.refresh_counts()

    def refresh_counts(self) -> None:
        if not self.screen_stack or not self.is_running:
            return                 # shutting down: a late timer or message
        s = self.session
        pl = self.packet_list
        analyzed = s.count
        if s.quick is not None and not self._quick_started and pl.first_row_at is not None:
            self._quick_started = True
            self.scan_quick()
        count = s.total
        now = time.monotonic()
        if count != pl.total or s.generation != self._seen_generation:
            # rows may change as the engine learns more: redraw them at most once a second
            # while loading (always when it is done)
            stale = s.done or now - self._last_invalidate >= 1.0
            if stale:
                self._last_invalidate = now
                self._seen_generation = s.generation
            pl.set_total(count, invalidate=stale)
            if pl.selected_number is not None and pl.view is None and pl.cursor == 0 and not self._detail_shown:
                self.show_packet(pl.selected_number)
        parts = [f"Packets: {count:,}"]
        if pl.view is not None:
            parts.append(f"Displayed: {pl.view_len:,}")
        if s.live:
            parts.extend(self.live_status())
        elif not s.done:
            parts.append(f"Loading {s.progress * 100:.0f}% (analyzed {analyzed:,})")
        else:
            parts.append("Loaded")
        if self.filter_status():
            parts.append(self.filter_status())
        if s.error:
            parts.append(f"[{s.error}]")
        warnings = s.engine.warnings
        if s.done and warnings:
            more = f" (+{len(warnings) - 1} more)" if len(warnings) > 1 else ""
            parts.append(f"Warning: {warnings[0]}{more}")
        if self.saved_path:
            parts.append(f"Saved {self.saved_path}")
        self._q("#status", Static).update(" │ ".join(parts))

    _detail_shown = False
    _quick_started = False
    _seen_generation = -1
    _last_invalidate = 0.0

    # -- selection -> detail + hex -------------------------------------------------------------
    @on(PacketList.Selected)
    def _on_selected(self, event: PacketList.Selected) -> None:
        self.show_packet(event.number)

    def show_packet(self, number: int) -> None:
        self.session.touch()
        tree = self._q(Tree)
        hexv = self._q(HexView)
        tree.clear()
        try:
            nodes = build_detail(self.session, number)
            with self.session.lock:
                eng = self.session.engine_for(number)
                data = eng.frame_bytes(number)
                d = eng.decoded(number)
                slices = list(eng.message_slices(number))
        except Exception as exc:
            tree.root.add_leaf(Text(f"packet {number}: detail unavailable ({type(exc).__name__}: {exc})"))
            hexv.show(b"", bytearray())
            return
        self._detail_shown = True
        self._add_nodes(tree.root, nodes)
        hexv.show(data, byte_kinds(len(data), d.payload_offset if d.payload_offset >= 0 else len(data), slices))
        hexv.set_highlight(self.find_span(number))

    def _add_nodes(self, parent, nodes: list[Node]) -> None:
        for node in nodes:
            if node.children or node.lazy:
                tn = parent.add(Text(node.label), data=node, expand=node.expand)
                self._add_nodes(tn, node.children)
                if node.lazy:
                    tn.allow_expand = True
            else:
                parent.add_leaf(Text(node.label), data=node)

    @on(Tree.NodeHighlighted)
    def _on_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        node = event.node.data
        self._q(HexView).set_highlight(node.span if isinstance(node, Node) else None)

    @on(Tree.NodeExpanded)
    def _on_node_expanded(self, event: Tree.NodeExpanded) -> None:
        node = event.node.data
        if isinstance(node, Node) and node.lazy is not None and not event.node.children:
            lazy, node.lazy = node.lazy, None
            placeholder = event.node.add_leaf(Text("loading...", style="italic"))
            self._run_lazy(event.node, lazy, placeholder)

    @work(thread=True, group="lazy")
    def _run_lazy(self, tnode, lazy, placeholder) -> None:
        try:
            children = lazy()
        except Exception as exc:
            children = [Node(f"failed: {type(exc).__name__}: {exc}")]
        self.post_message(LazyLoaded((tnode, placeholder), children))

    def on_lazy_loaded(self, msg: LazyLoaded) -> None:
        tnode, placeholder = msg.node
        try:
            placeholder.remove()
        except Exception:
            pass
        self._add_nodes(tnode, msg.children)

    def on_unmount(self) -> None:
        if self.live is not None:
            try:
                self.live.stop()
            except Exception:
                pass
