"""The TUI's secondary views: conversations, ladder, explain, help (follow stream in
follow_view, graphs in graph_screen)."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Static

from analyzer.render.explain import auth_text, explain_conversation, explain_packet, teardown_text
from analyzer.render.conversation_text import ladder_lines
from analyzer.tui.follow_view import FollowScreen
from analyzer.tui.graph_screen import GraphScreen
from analyzer.tui.lines_view import LinesView

CONV_COLUMNS = ("ID", "Proto", "Client", "Server", "State", "Teardown", "Auth", "Protocol",
                "Packets", "Bytes", "Messages", "Coalesced", "History")
MAX_CONV_ROWS = 20000


def conversation_notes(session, conv) -> Text:
    """What the highlighted conversation's Teardown and Auth cells mean, in plain words."""
    text = Text()
    kind = (conv.teardown or {}).get("kind")
    if kind:
        text.append("Teardown ", style="bold")
        text.append(f"{kind}: {teardown_text(kind)}.")
    if (conv.protocol or "").split(":")[0] == "auth":
        with session.lock:
            sentence = auth_text(session.engine, conv, session.secret)
        if sentence:
            text.append(("\n" if text.plain else "") + sentence)
    return text


def auth_cell(session, conv) -> str:
    if (conv.protocol or "").split(":")[0] != "auth":
        return "-"
    with session.lock:
        got = session.auth.verdict(session.engine, conv)
    return got.verdict if got is not None else "-"


class ConversationsScreen(Screen):
    """Every conversation; Enter filters the packet list to the highlighted one.  Under the
    table, the highlighted conversation's teardown and auth verdict in plain words."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back"),
                Binding("f", "follow", "Follow"), Binding("l", "ladder", "Ladder"),
                Binding("e", "explain", "Explain"), Binding("i", "graph", "Graph")]

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
        yield Static("", id="conv-notes")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*CONV_COLUMNS)
        for c in self.convs:
            table.add_row(str(c.id), c.transport.upper(), c.client, c.server, c.state,
                          (c.teardown or {}).get("kind") or "-", auth_cell(self.session, c),
                          c.protocol or "-", str(c.packets), str(c.bytes_c2s + c.bytes_s2c),
                          str(len(c.messages)), str(len(c.coalesced_packets)), c.history,
                          key=f"{c.transport}:{c.id}")
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        conv = self.current
        notes = self.query_one("#conv-notes", Static)
        notes.update(conversation_notes(self.session, conv) if conv is not None else "")

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
            self.app.push_screen(FollowScreen(self.session, self.current, self.app.save_dir))

    def action_ladder(self) -> None:
        if self.current is not None:
            self.app.push_screen(LadderScreen(self.session, self.current))

    def action_explain(self) -> None:
        if self.current is not None:
            self.app.push_screen(ExplainScreen(self.session, None, self.current))

    def action_graph(self) -> None:
        if self.current is not None:
            kind = "seq" if self.current.transport == "tcp" else "io"
            self.app.push_screen(GraphScreen(self.session, self.current, kind=kind,
                                             scope="conversation"))


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
        # the arrows take what the screen has beside the time column and a notes column
        arrow = max(48, min(100, (self.app.size.width or 80) - 37))
        view.set_lines(ladder_lines(self.session, self.conv, arrow_width=arrow))
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
                for s in explain_packet(eng, self.number, self.session.secret):
                    text.append("• " + s + "\n")
            if self.conv is not None:
                text.append(f"\nConversation {self.conv.transport.upper()} {self.conv.id}\n", style="bold underline")
                for s in explain_conversation(eng, self.conv, self.session.secret):
                    text.append("• " + s + "\n")
        return text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="explain-box"):
            yield Static(Text("Explain   (↑↓ scroll, Esc to close)", style="bold"), classes="view-title")
            yield Static(self.sentences(), id="explain")

    def on_mount(self) -> None:
        self.query_one("#explain-box").focus()


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
            ("i", "graphs: I/O graph, sequence graph of the selected conversation"),
            ("a", "apply the highlighted detail-tree field as the display filter"),
            ("A", "... and the applied filter (`and` selected)"),
            ("ctrl+g", "go to packet number"),
            ("ctrl+f", "find a string or hex bytes (00:01:02) in the packet bytes"),
            ("n", "next match of the last find (wraps around)"),
            ("N", "previous match of the last find"),
            ("x", "clear the display filter"),
            ("space", "live: pause"),
            ("w", "live: save the packets so far to a pcap"),
            ("h", "hex view: show it instead of the tree (short terminal) / hide it"),
            ("space", "live: resume (the footer says Resume while paused)"),
            ("?", "this help"),
            ("q", "quit (live, with unsaved packets: asks save / quit anyway / cancel)"),
            ("ctrl+c", "quit at once, from any view"),
        )),
        ("Conversations", (("Enter", "filter the packet list to this conversation"),
                           ("f / l / e / i", "follow / ladder / explain / graph it"), ("Esc", "back"))),
        ("Follow stream", (("r", "toggle messages / naive recv(1024) reads"),
                           ("d", "show data as messages / text / hex / raw"),
                           ("s", "save (raw: the bytes; else the text) in the save directory"),
                           ("Esc", "back"))),
        ("Graphs", (("i / s", "I/O graph / sequence graph (Stevens)"),
                    ("a", "I/O graph of: whole capture / displayed packets / conversation"),
                    ("+ / -", "longer / shorter interval"),
                    ("d", "sequence graph: the other direction's data"), ("Esc", "back"))),
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
        with VerticalScroll(id="help-box"):
            yield Static(Text("Keys   (↑↓ scroll, Esc to close)", style="bold"), classes="view-title")
            yield Static(text, id="help")

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()
