"""The main screen's keys that open another view over the selected packet's conversation:
conversations (c), follow (f), ladder (l), explain (e), graphs (i), help (?).

ViewActions is mixed into WirelabApp; it uses the app's `session`, `packet_list`, `_q`,
`save_dir`, `apply_filter` and the applied filter text.
"""
from __future__ import annotations

from textual.widgets import Input

from analyzer.tui.follow_view import FollowScreen
from analyzer.tui.graph_screen import GraphScreen
from analyzer.tui.screens import ConversationsScreen, ExplainScreen, HelpScreen, LadderScreen


class ViewActions:
    """c / f / l / e / i / ? on the main screen (mixed into WirelabApp)."""

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
        self.push_screen(FollowScreen(self.session, conv, self.save_dir))

    def action_ladder(self, _mode: str = "") -> None:
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

    def action_graph(self, _mode: str = "") -> None:
        """i: the I/O graph of the whole capture; the selected packet's conversation is the
        graph view's other scope and the subject of its sequence graph."""
        _n, conv = self._selected_conv()
        self.push_screen(GraphScreen(self.session, conv, self._filter_text_applied))

    def action_help(self) -> None:
        self.push_screen(HelpScreen())
