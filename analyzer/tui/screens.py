"""The TUI's secondary views: conversations, follow stream, ladder, explain, help."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Static

from analyzer.render.explain import explain_conversation, explain_packet
from analyzer.tui.lines_view import LinesView
from analyzer.render.conversation_text import follow_lines, ladder_lines

CONV_COLUMNS = ("ID", "Proto", "Client", "Server", "State", "History", "Protocol",
                "Packets", "Bytes", "Messages", "Coalesced")
MAX_CONV_ROWS = 20000


class ConversationsScreen(Screen):
    """Every conversation; Enter filters the packet list to the highlighted one."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back"),
                Binding("f", "follow", "Follow"), Binding("l", "ladder", "Ladder"),
                Binding("e", "explain", "Explain")]

    def __init__(self, session) -> None:
        super().__init__()
        self.session = session
        self.convs = session.conversations()[:MAX_CONV_ROWS]

    def compose(self) -> ComposeResult:
        total = len(self.session.conversations())
        note = f" (first {MAX_CONV_ROWS} of {total})" if total > MAX_CONV_ROWS else ""
        yield Static(Text(f"Conversations: {total}{note}   Enter: filter the packet list to it", style="bold"),
                     classes="view-title")
        yield DataTable(id="conversations", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*CONV_COLUMNS)
        for c in self.convs:
            table.add_row(str(c.id), c.transport.upper(), c.client, c.server, c.state, c.history,
                          c.protocol or "-", str(c.packets), str(c.bytes_c2s + c.bytes_s2c),
                          str(len(c.messages)), str(len(c.coalesced_packets)), key=f"{c.transport}:{c.id}")
        table.focus()

    @property
    def current(self):
        table = self.query_one(DataTable)
        if not self.convs or table.cursor_row < 0:
            return None
        return self.convs[min(table.cursor_row, len(self.convs) - 1)]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        conv = self.current
        if conv is not None:
            self.dismiss(conv)

    def action_follow(self) -> None:
        if self.current is not None:
            self.app.push_screen(FollowScreen(self.session, self.current))

    def action_ladder(self) -> None:
        if self.current is not None:
            self.app.push_screen(LadderScreen(self.session, self.current))

    def action_explain(self) -> None:
        if self.current is not None:
            self.app.push_screen(ExplainScreen(self.session, None, self.current))


class FollowScreen(Screen):
    """Follow stream: both directions, message and packet boundaries, gaps; `r` naive reads."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back"),
                Binding("r", "toggle_naive", "recv(1024) view")]

    def __init__(self, session, conv) -> None:
        super().__init__()
        self.session = session
        self.conv = conv
        self.naive = False
        self._generation = -1

    def compose(self) -> ComposeResult:
        yield Static(id="follow-title", classes="view-title")
        yield LinesView(id="follow")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one(LinesView).focus()
        if self.session.live:
            self.set_interval(0.5, self._live_tick)

    def _live_tick(self) -> None:
        if self.session.generation != self._generation:
            self.reload(keep_position=True)

    def reload(self, keep_position: bool = False) -> None:
        self._generation = self.session.generation
        try:
            self.conv = self.session.engine.conversation(self.conv.transport, self.conv.id)
        except Exception:
            pass
        view = self.query_one(LinesView)
        width = max(40, (self.app.size.width or 100) - 2)
        view.set_lines(follow_lines(self.session, self.conv, naive=self.naive, width=width),
                       keep_position=keep_position)
        mode = "naive recv(1024) reads" if self.naive else "messages"
        self.query_one("#follow-title", Static).update(
            Text(f"Follow {self.conv.transport.upper()} stream {self.conv.id} — showing {mode} "
                 f"(r: toggle)", style="bold"))

    def action_toggle_naive(self) -> None:
        self.naive = not self.naive
        self.reload()


class LadderScreen(Screen):
    """Ladder diagram: one arrow per packet between client and server."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back")]

    def __init__(self, session, conv) -> None:
        super().__init__()
        self.session = session
        self.conv = conv

    def compose(self) -> ComposeResult:
        yield Static(Text(f"Ladder: {self.conv.transport.upper()} stream {self.conv.id}  "
                          f"{self.conv.client} ⇄ {self.conv.server}", style="bold"), classes="view-title")
        yield LinesView(id="ladder")
        yield Footer()

    def on_mount(self) -> None:
        view = self.query_one(LinesView)
        view.set_lines(ladder_lines(self.session, self.conv))
        view.focus()


class ExplainScreen(ModalScreen):
    """Plain sentences about the selected packet and/or its conversation."""

    BINDINGS = [Binding("escape,q,e", "app.pop_screen", "Close")]

    def __init__(self, session, number: int | None, conv=None) -> None:
        super().__init__()
        self.session = session
        self.number = number
        self.conv = conv

    def sentences(self) -> Text:
        text = Text()
        with self.session.lock:
            eng = self.session.engine
            if self.number is not None:
                text.append(f"Packet {self.number}\n", style="bold underline")
                for s in explain_packet(eng, self.number):
                    text.append("• " + s + "\n")
            if self.conv is not None:
                text.append(f"\nConversation {self.conv.transport.upper()} {self.conv.id}\n", style="bold underline")
                for s in explain_conversation(eng, self.conv):
                    text.append("• " + s + "\n")
        return text

    def compose(self) -> ComposeResult:
        with Vertical(id="explain-box"):
            yield Static(Text("Explain   (Esc to close)", style="bold"), classes="view-title")
            yield Static(self.sentences(), id="explain")


class HelpScreen(ModalScreen):
    """`?`: every key of every view."""

    BINDINGS = [Binding("escape,q,question_mark", "app.pop_screen", "Close")]

    KEYS = (
        ("Main screen", (
            ("/", "edit the display filter (Enter applies it)"),
            ("escape", "leave the filter bar (the applied filter stays)"),
            ("↑ ↓ PgUp PgDn", "move in the packet list (also j/k)"),
            ("Home / End", "first / last packet (also g/G)"),
            ("Tab / Shift+Tab", "move between list, detail tree, hex view"),
            ("c", "conversations"),
            ("f", "follow the selected packet's stream"),
            ("l", "ladder diagram of the selected packet's conversation"),
            ("e", "explain the selected packet and its conversation"),
            ("x", "clear the display filter"),
            ("space", "live: pause / resume"),
            ("w", "live: save the packets so far to a pcap"),
            ("?", "this help"),
            ("q", "quit"),
        )),
        ("Conversations", (("Enter", "filter the packet list to this conversation"),
                           ("f / l / e", "follow / ladder / explain it"), ("Esc", "back"))),
        ("Follow stream", (("r", "toggle messages / naive recv(1024) reads"), ("Esc", "back"))),
        ("Ladder, Explain", (("Esc", "back"),)),
    )

    def compose(self) -> ComposeResult:
        text = Text()
        for title, keys in self.KEYS:
            text.append(title + "\n", style="bold underline")
            for key, what in keys:
                text.append(f"  {key:<18}", style="bold #ffd75f")
                text.append(what + "\n")
            text.append("\n")
        text.append("Filter examples: ", style="bold")
        text.append('tcp.port == 9001   tcp.flags.syn   ip.addr == 127.0.0.1   msg.coalesced\n'
                    '  tcp.analysis.retransmission   conv.state == "SF"   lenmsg and not tcp.len == 0\n')
        with Vertical(id="help-box"):
            yield Static(Text("Keys   (Esc to close)", style="bold"), classes="view-title")
            yield Static(text, id="help")
