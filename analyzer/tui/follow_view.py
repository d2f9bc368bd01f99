"""Follow stream (`f`): both directions of one conversation, shown as messages (boundaries
marked; `r` naive recv(1024) reads), as text, as a hex dump or as raw hex (`d` cycles, as
Wireshark's "Show data as"), and saved to a file in the save directory (`s`, Wireshark's
"Save as"): the raw mode saves the stream's bytes, the others the text shown (text and hex
in `tshark -z follow` form, as `wirelab follow` prints them).

    mode_lines(conv, chunks, mode, width) -> list[Text]      text / hex / raw lines
    save_bytes(conv, chunks, mode, shown) -> (bytes, suffix) what `s` writes
"""
from __future__ import annotations

import os

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from analyzer.render.conversation_text import (CLIENT_DATA, MAX_LINES, SERVER_DATA,
                                               follow_lines)
from analyzer.render.follow_text import follow_text
from analyzer.tui.lines_view import LinesView

MODES = ("messages", "text", "hex", "raw")
SERVER_INDENT = "    "
GAP_STYLE = "bold #ffd700 on #5f0000"


def _printable(data: bytes) -> str:
    return "".join(chr(b) if 32 <= b < 127 or b == 10 else "." for b in data)


def _hex_rows(data: bytes, offset: int) -> list[str]:
    rows = []
    for i in range(0, len(data), 16):
        row = data[i:i + 16]
        hexes = " ".join(f"{b:02x}" for b in row[:8]) + "  " + " ".join(f"{b:02x}" for b in row[8:])
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        rows.append(f"{offset + i:08X}  {hexes:<49} {text}")
    return rows


def mode_lines(conv, chunks, mode: str, width: int = 100) -> list[Text]:
    """Lines of the text, hex or raw view: client bytes in red, server bytes in blue and
    indented, gaps as "[N bytes missing]"."""
    lines: list[Text] = []
    raw_width = max(16, (width - len(SERVER_INDENT)) // 2 * 2)
    for ch in chunks:
        if len(lines) >= MAX_LINES:
            lines.append(Text(f"... truncated at {MAX_LINES} lines (s saves all of it)", style="bold"))
            break
        if ch.gap:
            lines.append(Text(f"[{ch.gap} bytes missing]", style=GAP_STYLE))
            continue
        indent = "" if ch.direction == "c2s" else SERVER_INDENT
        style = CLIENT_DATA if ch.direction == "c2s" else SERVER_DATA
        if mode == "text":
            rows = _printable(ch.data).removesuffix("\n").split("\n")
        elif mode == "hex":
            rows = _hex_rows(ch.data, ch.offset)
        else:
            digits = ch.data.hex()
            rows = [digits[i:i + raw_width] for i in range(0, len(digits), raw_width)]
        lines.extend(Text(indent + row, style=style) for row in rows)
    return lines


def save_bytes(conv, chunks, mode: str, shown: str) -> tuple[bytes, str]:
    """What `s` writes and the file name's ending: the stream's bytes (raw), tshark's follow
    text (text, hex), or the messages view as shown."""
    if mode == "raw":
        return b"".join(ch.data for ch in chunks if not ch.gap), ".bin"
    if mode == "messages":
        return (shown + "\n").encode("utf-8"), "-messages.txt"
    text = follow_text(conv, chunks, "ascii" if mode == "text" else "hex")
    return text.encode("utf-8"), f"-{mode}.txt"


def free_path(directory: str, stem: str, suffix: str) -> str:
    """directory/stem+suffix, or stem-2+suffix, ... : never an existing file."""
    path = os.path.join(directory, stem + suffix)
    k = 2
    while os.path.exists(path):
        path = os.path.join(directory, f"{stem}-{k}{suffix}")
        k += 1
    return path


def write_file(path: str, data: bytes) -> None:
    """Write atomically: nothing is left behind when the write fails."""
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class FollowScreen(Screen):
    """Follow stream: messages / text / hex / raw (`d`), naive reads (`r`), save (`s`)."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back"),
                Binding("r", "toggle_naive", "recv(1024) view"),
                Binding("d", "cycle_mode", "Show as"),
                Binding("s", "save", "Save")]

    def __init__(self, session, conv, save_dir: str = ".") -> None:
        super().__init__()
        self.session = session
        self.conv = conv
        self.save_dir = save_dir
        self.naive = False
        self.mode = "messages"
        self.saved_path: str | None = None
        self._generation = -1

    def compose(self) -> ComposeResult:
        yield Static(id="follow-title", classes="view-title")
        yield LinesView(id="follow")
        yield Static("", id="follow-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#follow-status").display = False
        self.reload()
        self.query_one(LinesView).focus()
        if self.session.live:
            self.set_interval(0.5, self._live_tick)

    def _live_tick(self) -> None:
        if self.session.generation != self._generation:
            self.reload(keep_position=True)

    def chunks(self) -> list:
        with self.session.lock:
            return list(self.session.engine.follow(self.conv))

    def reload(self, keep_position: bool = False) -> None:
        self._generation = self.session.generation
        try:
            self.conv = self.session.engine.conversation(self.conv.transport, self.conv.id)
        except Exception:
            pass
        view = self.query_one(LinesView)
        width = max(40, (self.app.size.width or 100) - 2)
        if self.mode == "messages":
            lines = follow_lines(self.session, self.conv, naive=self.naive, width=width)
            shown = "naive recv(1024) reads" if self.naive else "messages"
            keys = "r: naive reads  d: text/hex/raw  s: save"
        else:
            lines = mode_lines(self.conv, self.chunks(), self.mode, width)
            shown = self.mode
            keys = "d: show as  s: save"
        view.set_lines(lines, keep_position=keep_position)
        self.query_one("#follow-title", Static).update(
            Text(f"Follow {self.conv.transport.upper()} stream {self.conv.id} — showing {shown} "
                 f"({keys})", style="bold"))

    def action_toggle_naive(self) -> None:
        self.mode = "messages"
        self.naive = not self.naive
        self.reload()

    def action_cycle_mode(self) -> None:
        self.mode = MODES[(MODES.index(self.mode) + 1) % len(MODES)]
        self.reload()

    def action_save(self) -> None:
        data, suffix = save_bytes(self.conv, self.chunks(), self.mode,
                                  self.query_one(LinesView).plain_text)
        stem = f"wirelab-{self.conv.transport}-stream-{self.conv.id}"
        status = self.query_one("#follow-status", Static)
        status.display = True
        try:
            path = free_path(self.save_dir, stem, suffix)
            write_file(path, data)
        except OSError as exc:
            status.update(Text(f"Cannot save to {self.save_dir}: {exc.strerror or exc}", style="bold red"))
            return
        self.saved_path = path
        status.update(f"Saved {len(data):,} bytes ({self.mode}) to {path}")
