"""Live mode of the main screen: drain a LiveCapture into the engine, pause / resume, save
to a pcap, and ask before `q` drops packets that were never saved.

LiveActions is mixed into WirelabApp; it uses the app's `live`, `session`, `packet_list`,
`save_dir` and `refresh_counts`.
"""
from __future__ import annotations

import os
import time

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Static
from textual.worker import get_current_worker


class Loaded(Message):
    """A worker fed another batch (or finished)."""


class QuitDialog(ModalScreen[str]):
    """`q` with unsaved live packets: save and quit / quit anyway / cancel."""

    BINDINGS = [Binding("s", "choose('save')", "Save and quit"),
                Binding("q", "choose('quit')", "Quit anyway"),
                Binding("escape,c", "choose('cancel')", "Cancel")]

    def __init__(self, unsaved: int) -> None:
        super().__init__()
        self.unsaved = unsaved

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-box"):
            yield Static(f"{self.unsaved:,} captured packets are not saved.", id="quit-text")
            with Horizontal(id="quit-buttons"):
                yield Button("Save and quit (s)", id="save", variant="primary")
                yield Button("Quit anyway (q)", id="quit", variant="error")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#save", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)


class LiveActions:
    """Keys and worker of live mode (mixed into WirelabApp)."""

    saved_path: str | None = None
    saved_count = 0

    @property
    def unsaved(self) -> int:
        """Packets captured and not in any file yet (0 when -w writes them as they come)."""
        if self.live is None or self.live.write_to:
            return 0
        return max(0, self.session.count + self.live.waiting - self.saved_count)

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

    def live_status(self) -> list[str]:
        """The status-line parts about the capture."""
        state = "paused" if self.paused else ("capturing" if not self.session.done else "stopped")
        parts = [f"Live: {state}"]
        waiting = self.live.waiting
        if self.paused and waiting:
            parts.append(f"{waiting:,} waiting")
        return parts

    def action_pause(self) -> None:
        self.paused = True
        self.refresh_bindings()
        self.refresh_counts()

    def action_resume(self) -> None:
        """Resume: the packets that waited come in and the list follows them to the end."""
        self.paused = False
        pl = self.packet_list
        pl.follow_tail = True
        if pl.length:
            pl.cursor = pl.length - 1
        self.refresh_bindings()
        self.refresh_counts()

    def action_save(self) -> None:
        path = os.path.join(self.save_dir, time.strftime("wirelab-live-%Y%m%d-%H%M%S.pcap"))
        count = self.session.save_pcap(path)
        self.saved_path = path
        self.saved_count = count
        self.notify(f"saved {count} packets to {path}")
        self.refresh_counts()

    async def action_quit(self) -> None:
        """q: quit, after asking when live packets would be lost."""
        unsaved = self.unsaved
        if not unsaved:
            self.exit()
            return

        def chosen(choice: str | None) -> None:
            if choice == "save":
                self.action_save()
                self.exit()
            elif choice == "quit":
                self.exit()
        self.push_screen(QuitDialog(unsaved), chosen)
