"""The display-filter bar of the main screen: check as you type, apply on Enter, and a
worker that scans the packets into the list's filtered view.

FilterActions is mixed into WirelabApp; it uses the app's `_q` (main-screen query),
`packet_list`, `session` and `refresh_counts`.
"""
from __future__ import annotations

import time
from array import array

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from analyzer.filters.display_filter import FilterError, compile_filter

PLACEHOLDER = "display filter, e.g. tcp.port == 9001 and msg.coalesced   (/ to edit)"


def compose_filter_bar() -> ComposeResult:
    with Horizontal(id="filter-bar"):
        yield Static("Filter:", id="filter-label")
        yield Input(placeholder=PLACEHOLDER, id="filter")
    yield Static("", id="filter-error")


class FilterProgress(Message):
    def __init__(self, token: int, length: int, done: bool) -> None:
        super().__init__()
        self.token = token
        self.length = length
        self.done = done


class FilterActions:
    """The filter bar's keys, handlers and scanning worker (mixed into WirelabApp)."""

    _filter_token = 0
    _filter_view: array | None = None
    _filter_text_applied = ""
    _filter_done = True

    def action_focus_filter(self) -> None:
        self._q("#filter", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self._check_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter" and self.apply_filter(event.value):
            self.packet_list.focus()

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

    def apply_filter(self, text: str) -> bool:
        """Compile `text` and start filtering; False (and the reason shown in red) when bad."""
        if not self._check_filter(text):
            self.bell()
            return False
        flt = compile_filter(text)
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

    def filter_status(self) -> str:
        """The status-line part about the applied filter ("" when none)."""
        if not self._filter_text_applied:
            return ""
        return f"Filter: {self._filter_text_applied}" + ("" if self._filter_done else " (scanning...)")

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
