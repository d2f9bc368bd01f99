"""The wirelab terminal UI: packet list, detail tree, hex view, display filter, and the
conversations / follow / ladder / explain views.

    app = WirelabApp(session, loader=records_iterable)     # file: a worker feeds it
    app = WirelabApp(session, live=live_capture)           # live: drains a LiveCapture
"""
from __future__ import annotations

import time
from array import array

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Footer, Input, Static, Tree
from textual.worker import get_current_worker

from analyzer.filters.display_filter import FilterError, compile_filter
from analyzer.tui.detail import Node, build_detail
from analyzer.tui.hexview import HexView, byte_kinds
from analyzer.tui.packet_list import PacketHeader, PacketList
from analyzer.tui.screens import (ConversationsScreen, ExplainScreen, FollowScreen, HelpScreen,
                                  LadderScreen)


class Loaded(Message):
    """The worker fed another batch (or finished)."""


class FilterProgress(Message):
    def __init__(self, token: int, length: int, done: bool) -> None:
        super().__init__()
        self.token = token
        self.length = length
        self.done = done


class LazyLoaded(Message):
    def __init__(self, node, children: list[Node]) -> None:
        super().__init__()
        self.node = node
        self.children = children


class WirelabApp(App):
    CSS_PATH = "wirelab.tcss"
    TITLE = "wirelab"
    BINDINGS = [
        Binding("slash", "focus_filter", "Filter"),
        Binding("c", "conversations", "Convs"),
        Binding("f", "follow", "Follow"),
        Binding("l", "ladder", "Ladder"),
        Binding("e", "explain", "Explain"),
        Binding("x", "clear_filter", "Clear filter", show=False),
        Binding("escape", "leave_filter", "Back to the list", show=False),
        Binding("space", "pause", "Pause"),
        Binding("w", "save", "Save"),
        Binding("question_mark", "help", "Keys"),
        Binding("q", "quit", "Quit"),
    ]

    filter_text = reactive("")
    paused = reactive(False)

    def __init__(self, session, loader=None, live=None, initial_filter: str = "",
                 save_dir: str = ".") -> None:
        super().__init__()
        self.session = session
        self.loader = loader
        self.live = live
        self.initial_filter = initial_filter
        self.save_dir = save_dir
        self._filter = compile_filter("")
        self._filter_token = 0
        self._filter_view: array | None = None
        self._last_post = 0.0
        self.first_paint_at: float | None = None
        self.saved_path: str | None = None
        name = session.path or ("live capture" if live is not None else "capture")
        self.sub_title = name

    def on_key(self, event) -> None:
        """Any key: analysis in the background yields to the UI for a moment."""
        self.session.touch()

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="filter-bar"):
            yield Static("Filter:", id="filter-label")
            yield Input(placeholder="display filter, e.g. tcp.port == 9001 and msg.coalesced   (/ to edit)",
                        id="filter")
        yield Static("", id="filter-error")
        with Vertical(id="list-pane"):
            yield PacketHeader(id="packet-header")
            yield PacketList(self.session, id="packets")
        tree: Tree = Tree("packet", id="detail")
        tree.show_root = False
        yield tree
        yield HexView(id="hex")
        yield Static("", id="status")
        yield Footer()

    def _q(self, selector, expect_type=None):
        """Query the main screen (always the bottom of the stack), whatever is on top."""
        main = self.screen_stack[0] if self.screen_stack else self.screen
        return main.query_one(selector, expect_type) if expect_type else main.query_one(selector)

    @property
    def packet_list(self) -> PacketList:
        return self._q(PacketList)

    MAIN_ONLY = {"focus_filter", "leave_filter", "conversations", "follow", "ladder", "explain", "clear_filter"}
    LIVE_ONLY = {"pause", "save"}

    def check_action(self, action: str, parameters) -> bool | None:
        if action in self.MAIN_ONLY and len(self.screen_stack) > 1:
            return False
        if action in self.LIVE_ONLY and self.live is None:
            return False
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

    @work(thread=True, exclusive=True, group="loader")
    def feed_live(self) -> None:
        """Drain the live capture into the engine in batches until it stops or the app exits."""
        worker = get_current_worker()
        cap = self.live
        session = self.session
        try:
            while not worker.is_cancelled:
                if self.paused:
                    time.sleep(0.05)
                    continue
                batch = cap.drain()
                if batch:
                    session.feed(batch, batch=len(batch), finish=False)
                    self.post_message(Loaded())
                elif not cap.running:
                    break
                else:
                    time.sleep(0.05)
        except Exception as exc:
            session.error = f"live capture stopped: {exc}"
        with session.lock:
            try:
                session.engine.finish()
            except Exception:
                pass
            session.generation += 1
        session.done = True
        self.post_message(Loaded())

    def on_loaded(self, _: Loaded) -> None:
        self.refresh_counts()

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
            self._q(PacketHeader).count = count
            if pl.selected_number is not None and pl.view is None and pl.cursor == 0 and not self._detail_shown:
                self.show_packet(pl.selected_number)
        parts = [f"Packets: {count:,}"]
        if pl.view is not None:
            parts.append(f"Displayed: {pl.view_len:,}")
        if s.live:
            state = "paused" if self.paused else ("capturing" if not s.done else "stopped")
            parts.append(f"Live: {state}")
            waiting = self.live.waiting
            if self.paused and waiting:
                parts.append(f"{waiting:,} waiting")
        elif not s.done:
            parts.append(f"Loading {s.progress * 100:.0f}% (analyzed {analyzed:,})")
        else:
            parts.append("Loaded")
        if self._filter_text_applied:
            parts.append(f"Filter: {self._filter_text_applied}"
                         + ("" if self._filter_done else " (scanning...)"))
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
    _filter_text_applied = ""
    _filter_done = True

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

    # -- filter ------------------------------------------------------------------------------
    def action_focus_filter(self) -> None:
        self._q("#filter", Input).focus()

    @on(Input.Changed, "#filter")
    def _on_filter_changed(self, event: Input.Changed) -> None:
        self._check_filter(event.value)

    def _check_filter(self, text: str) -> bool:
        err = self._q("#filter-error", Static)
        inp = self._q("#filter", Input)
        try:
            compile_filter(text)
        except FilterError as exc:
            inp.add_class("-bad")
            inp.remove_class("-good")
            caret = " " * (len("Filter: ") + exc.position) + "^"
            err.update(Text(f"{caret} {exc.message}"))
            err.display = True
            return False
        inp.remove_class("-bad")
        inp.set_class(bool(text.strip()), "-good")
        err.display = False
        return True

    @on(Input.Submitted, "#filter")
    def _on_filter_submitted(self, event: Input.Submitted) -> None:
        if self.apply_filter(event.value):
            self.packet_list.focus()

    def apply_filter(self, text: str) -> bool:
        """Compile `text` and start filtering; False (and the reason shown in red) when bad."""
        if not self._check_filter(text):
            self.bell()
            return False
        flt = compile_filter(text)
        self._filter = flt
        self._filter_token += 1
        self._filter_text_applied = text.strip()
        pl = self.packet_list
        if flt.is_empty:
            self._filter_view = None
            self._filter_done = True
            pl.set_view(None)
        else:
            self._filter_view = array("I")
            self._filter_done = False
            pl.set_view(self._filter_view, 0)
            self.run_filter(flt, self._filter_token, self._filter_view)
        self.refresh_counts()
        return True

    def action_leave_filter(self) -> None:
        """Esc in the filter bar: back to the packet list (the applied filter stays)."""
        self.packet_list.focus()

    def action_clear_filter(self) -> None:
        self._q("#filter", Input).value = ""
        self.apply_filter("")

    @work(thread=True, exclusive=True, group="filter")
    def run_filter(self, flt, token: int, out: array) -> None:
        """Scan packets 1..count (and new ones while loading) into `out`, posting progress."""
        worker = get_current_worker()
        session = self.session
        n = 1
        last_post = 0.0
        while not worker.is_cancelled and token == self._filter_token:
            count = session.count
            if n > count:
                if session.done and n > session.count:
                    break
                time.sleep(0.05)
                continue
            if time.monotonic() < session.ui_busy_until:
                time.sleep(0.02)          # the user is moving around: UI first
                continue
            end = min(count, n + 1999)
            with session.lock:
                eng = session.engine
                for k in range(n, end + 1):
                    if flt.matches(eng, k):
                        out.append(k)
            n = end + 1
            time.sleep(0.0005)            # let the UI thread take the lock
            now = time.monotonic()
            if now - last_post > 0.1:
                last_post = now
                self.post_message(FilterProgress(token, len(out), False))
        self.post_message(FilterProgress(token, len(out), True))

    def on_filter_progress(self, msg: FilterProgress) -> None:
        if msg.token != self._filter_token:
            return
        self._filter_done = msg.done
        self.packet_list.grow_view(msg.length)
        self.refresh_counts()

    # -- views ---------------------------------------------------------------------------------
    def _selected_conv(self):
        n = self.packet_list.selected_number
        if n is None:
            return None, None
        if self.session.pending(n):
            self.notify(f"Packet {n} is not analyzed yet (the engine is at {self.session.count:,})",
                        severity="warning")
            return None, None
        with self.session.lock:
            eng = self.session.engine
            sid = eng.stream_of(n)
            if sid is None:
                return n, None
            try:
                return n, eng.conversation(eng.decoded(n).transport, sid)
            except Exception:
                return n, None

    def action_conversations(self) -> None:
        def done(conv) -> None:
            if conv is not None:
                text = f"{conv.transport}.stream == {conv.id}"
                self._q("#filter", Input).value = text
                self.apply_filter(text)
        self.push_screen(ConversationsScreen(self.session), done)

    def action_follow(self) -> None:
        n, conv = self._selected_conv()
        if conv is None:
            self.notify("Select a TCP or UDP packet to follow its stream", severity="warning")
            return
        self.push_screen(FollowScreen(self.session, conv))

    def action_ladder(self) -> None:
        n, conv = self._selected_conv()
        if conv is None:
            self.notify("Select a TCP or UDP packet to draw its ladder", severity="warning")
            return
        self.push_screen(LadderScreen(self.session, conv))

    def action_explain(self) -> None:
        n, conv = self._selected_conv()
        if n is None:
            self.notify("No packet selected", severity="warning")
            return
        self.push_screen(ExplainScreen(self.session, n, conv))

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    # -- live --------------------------------------------------------------------------------
    def action_pause(self) -> None:
        if self.live is None:
            return
        self.paused = not self.paused
        self.refresh_counts()

    def action_save(self) -> None:
        if self.live is None:
            self.notify("Saving is for live captures (the file is already on disk)")
            return
        import os
        path = os.path.join(self.save_dir, time.strftime("wirelab-live-%Y%m%d-%H%M%S.pcap"))
        count = self.session.save_pcap(path)
        self.saved_path = path
        self.notify(f"saved {count} packets to {path}")
        self.refresh_counts()

    def on_unmount(self) -> None:
        if self.live is not None:
            try:
                self.live.stop()
            except Exception:
                pass
