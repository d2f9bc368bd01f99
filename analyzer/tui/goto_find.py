"""Go to packet (ctrl+g) and find in the frame bytes (ctrl+f, n / N), as Wireshark's
"Go to Packet" and "Find Packet" by string or hex value.

    parse_pattern('hello')          -> b'hello'          a string, searched as its UTF-8 bytes
    parse_pattern('00:01:02')       -> b'\\x00\\x01\\x02'   hex bytes with : - or space between
    parse_pattern('0x000102')       -> b'\\x00\\x01\\x02'   or a 0x prefix
    parse_pattern('"00:01"')        -> b'00:01'          quotes force a string

GotoFindActions is mixed into WirelabApp; it uses the app's `session`, `packet_list`,
`filter_status` and `show_packet`.  The search covers the displayed packets, starting after
the selected one and wrapping around, in a worker thread; the match is highlighted in the
hex view.
"""
from __future__ import annotations

import re
import time
from typing import Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static
from textual.worker import get_current_worker

HEX_SEPARATED = re.compile(r"^[0-9a-fA-F]{2}([:\- ][0-9a-fA-F]{2})+$")
HEX_PREFIXED = re.compile(r"^0[xX]([0-9a-fA-F]{2})+$")
MAX_PATTERN = 4096
BATCH = 1000           # packets searched per hold of the engine lock


def parse_pattern(text: str) -> bytes:
    """The bytes a find pattern stands for; ValueError with the reason when it is empty."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    elif HEX_SEPARATED.match(text):
        return bytes.fromhex(re.sub(r"[:\- ]", "", text))
    elif HEX_PREFIXED.match(text):
        return bytes.fromhex(text[2:])
    if not text:
        raise ValueError("type a string or hex bytes such as 00:01:02")
    data = text.encode("utf-8")
    if len(data) > MAX_PATTERN:
        raise ValueError(f"at most {MAX_PATTERN} bytes")
    return data


class PromptScreen(ModalScreen):
    """A one-line input over the main screen: Enter submits (when `check` finds no error),
    Esc cancels.  Dismisses with the text, or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, value: str = "", placeholder: str = "",
                 check: Callable[[str], str | None] = lambda _text: None,
                 integer: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.check = check
        self.integer = integer

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Static(Text(self.title_text, style="bold"), classes="view-title")
            yield Input(self.value, placeholder=self.placeholder, id="prompt",
                        type="integer" if self.integer else "text")
            yield Static("", id="prompt-error")

    def on_mount(self) -> None:
        self.query_one("#prompt-error").display = False
        self.query_one("#prompt", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        error = self.check(event.value)
        if error:
            err = self.query_one("#prompt-error", Static)
            err.update(error)
            err.display = True
            self.app.bell()
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _check_number(text: str) -> str | None:
    return None if text.strip().isdigit() and int(text) > 0 else "type a packet number (1, 2, ...)"


def _check_pattern(text: str) -> str | None:
    try:
        parse_pattern(text)
    except ValueError as exc:
        return str(exc)
    return None


class GotoFindActions:
    """ctrl+g, ctrl+f, n, N on the main screen (mixed into WirelabApp)."""

    find_text = ""                                  # the last pattern, as typed
    find_match: tuple[int, int, int] | None = None  # (packet, start, end) of the last match
    _find_token = 0

    # -- go to packet -------------------------------------------------------------------
    def action_goto(self) -> None:
        def done(text: str | None) -> None:
            if text:
                self.goto_packet(int(text))
        self.push_screen(PromptScreen("Go to packet", placeholder="packet number",
                                      check=_check_number, integer=True), done)

    def goto_packet(self, number: int) -> bool:
        pl = self.packet_list
        if number > self.session.total:
            self.notify(f"Packet {number} is not in this capture ({self.session.total:,} packets)",
                        severity="warning")
            return False
        if not pl.scroll_to_number(number):
            self.notify(f"Packet {number} is not displayed ({self.filter_status()})",
                        severity="warning")
            return False
        pl.focus()
        return True

    # -- find -----------------------------------------------------------------------------
    def action_find(self) -> None:
        def done(text: str | None) -> None:
            if text:
                self.find_text = text
                self.find(1)
        self.push_screen(PromptScreen("Find in packet bytes   (a string, or hex: 00:01:02)",
                                      value=self.find_text, placeholder='hello  or  00:00:00:05',
                                      check=_check_pattern), done)

    def action_find_next(self) -> None:
        if self.find_text:
            self.find(1)
        else:
            self.action_find()

    def action_find_previous(self) -> None:
        if self.find_text:
            self.find(-1)
        else:
            self.action_find()

    def find(self, step: int) -> None:
        """Search the displayed packets after (step 1) or before (step -1) the selected one."""
        pl = self.packet_list
        if not pl.length:
            self.notify("No packets to search", severity="warning")
            return
        start = pl.cursor if pl.cursor >= 0 else -step
        self._find_token += 1
        self._search(parse_pattern(self.find_text), start, step, self._find_token)

    def find_span(self, number: int) -> tuple[int, int] | None:
        """The bytes of packet `number` the last find matched (for the hex view)."""
        m = self.find_match
        return (m[1], m[2]) if m is not None and m[0] == number else None

    @work(thread=True, exclusive=True, group="find")
    def _search(self, needle: bytes, start: int, step: int, token: int) -> None:
        worker = get_current_worker()
        pl = self.packet_list
        session = self.session
        length = pl.length
        k = 1
        while k <= length:
            if worker.is_cancelled or token != self._find_token:
                return
            hit = None
            with session.lock:
                for k in range(k, min(length, k + BATCH - 1) + 1):
                    n = pl.number_at((start + step * k) % length)
                    pos = session.engine_for(n).frame_bytes(n).find(needle)
                    if pos >= 0:
                        hit = (n, pos)
                        break
            if hit is not None:      # the UI thread may be waiting for the lock: call it after
                self.call_from_thread(self._found, token, hit[0], hit[1], hit[1] + len(needle))
                return
            k += 1
            time.sleep(0.0005)       # let the UI thread take the lock (locks are not fair)
        self.call_from_thread(self._not_found, token)

    def _found(self, token: int, number: int, start: int, end: int) -> None:
        if token != self._find_token:
            return
        self.find_match = (number, start, end)
        self.packet_list.scroll_to_number(number)      # show_packet highlights find_span
        self.notify(f"Found {self.find_text!r} in packet {number}, bytes {start}-{end}")

    def _not_found(self, token: int) -> None:
        if token == self._find_token:
            self.find_match = None
            self.notify(f"Not found: {self.find_text!r}", severity="warning")
