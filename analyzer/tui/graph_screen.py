"""The graph view (`i`): Wireshark's I/O graph and Stevens sequence graph drawn in the
terminal with textual-plotext, from analyzer.render.graph_data.

    io_plot(eng, interval, keep, stream) -> list[Series]    packets and bytes per interval
    seq_plot(eng, conv, direction)       -> list[Series]    sequence number vs time

The I/O graph covers the whole capture, the displayed packets (the applied display filter)
or the selected conversation (`a` cycles); `+` / `-` change the interval.  The sequence
graph shows one direction's data segments, its retransmissions (red x), and the receiver's
ack line (`w` adds the ack + window line, whose scale often dwarfs the data); `d` switches
the direction, as Wireshark's graph dialog does.
"""
from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual_plotext import PlotextPlot

from analyzer.filters.display_filter import compile_filter
from analyzer.render.graph_data import io_series, seq_series

INTERVALS = (0.001, 0.01, 0.1, 1.0, 10.0, 60.0, 600.0)
TARGET_BINS = 100           # the first interval giving at most this many is the default


@dataclass
class Series:
    label: str
    xs: list[float]
    ys: list[float]
    style: str = "line"     # "line" | "points"
    color: str = "blue"
    marker: str = "braille"
    yside: str = "left"


def default_interval(duration: float) -> float:
    for interval in INTERVALS:
        if duration / interval < TARGET_BINS:
            return interval
    return INTERVALS[-1]


def io_plot(eng, interval: float, keep=None, stream=None) -> list[Series]:
    s = io_series(eng, interval, keep=keep, stream=stream)
    return [Series("packets", s.times, s.packets, color="green"),
            Series("bytes", s.times, s.bytes, color="orange", yside="right")]


def seq_plot(eng, conv, direction: str, window: bool = False) -> list[Series]:
    d = seq_series(eng, conv)[direction]
    series = [
        Series(f"{direction} segments", [t for t, _s, _e in d.segments],
               [s for _t, s, _e in d.segments], style="points", color="blue", marker="dot"),
        Series("retransmissions", [t for t, _s, _e in d.retransmissions],
               [s for _t, s, _e in d.retransmissions], style="points", color="red", marker="x"),
        Series("ack", [t for t, _a in d.acks], [a for _t, a in d.acks], color="green"),
    ]
    if window:
        series.append(Series("window", [t for t, _w in d.windows], [w for _t, w in d.windows],
                             color="orange"))
    return series


def busier_direction(conv) -> str:
    return "s2c" if conv.bytes_s2c > conv.bytes_c2s else "c2s"


class GraphScreen(Screen):
    """I/O graph (whole capture / displayed / conversation) and the TCP sequence graph."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back"),
                Binding("i", "show('io')", "I/O"),
                Binding("s", "show('seq')", "Sequence"),
                Binding("a", "scope", "Scope"),
                Binding("plus,equals_sign", "interval(1)", "Longer"),
                Binding("minus", "interval(-1)", "Shorter"),
                Binding("d", "direction", "Direction"),
                Binding("w", "window", "Window")]

    def __init__(self, session, conv=None, display_filter: str = "", kind: str = "io",
                 scope: str = "capture") -> None:
        super().__init__()
        self.session = session
        self.conv = conv
        self.display_filter = display_filter
        self.kind = kind
        self.scope = scope
        self.direction = busier_direction(conv) if conv is not None else "c2s"
        self.window = False
        with session.lock:
            eng = session.engine
            ts = eng.index.ts
            duration = (max(ts) - ts[0]) if eng.packet_count else 0.0
        self.interval = default_interval(duration)
        self.series: list[Series] = []        # what the graph shows now
        self.caption = ""

    def compose(self) -> ComposeResult:
        yield Static(id="graph-title", classes="view-title")
        yield PlotextPlot(id="graph")
        yield Static("", id="graph-caption")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#graph-title", Static).update(Text("Graph: computing...", style="bold"))
        self.compute()

    # -- keys -------------------------------------------------------------------------------
    def scopes(self) -> list[str]:
        out = ["capture"]
        if self.display_filter:
            out.append("displayed")
        if self.conv is not None:
            out.append("conversation")
        return out

    def action_show(self, kind: str) -> None:
        if kind == "seq" and (self.conv is None or self.conv.transport != "tcp"):
            self.notify("The sequence graph needs a TCP conversation: select one of its packets",
                        severity="warning")
            return
        self.kind = kind
        self.compute()

    def action_scope(self) -> None:
        scopes = self.scopes()
        self.scope = scopes[(scopes.index(self.scope) + 1) % len(scopes)] if self.scope in scopes else "capture"
        self.kind = "io"
        self.compute()

    def action_direction(self) -> None:
        self.direction = "s2c" if self.direction == "c2s" else "c2s"
        if self.kind == "seq":
            self.compute()

    def action_window(self) -> None:
        self.window = not self.window
        if self.kind == "seq":
            self.compute()

    def action_interval(self, step: int) -> None:
        i = INTERVALS.index(self.interval) if self.interval in INTERVALS else 3
        self.interval = INTERVALS[max(0, min(len(INTERVALS) - 1, i + step))]
        if self.kind == "io":
            self.compute()

    # -- data -------------------------------------------------------------------------------
    def heading(self) -> str:
        if self.kind == "seq":
            c = self.conv
            sender = c.client if self.direction == "c2s" else c.server
            return f"Sequence graph (Stevens): TCP stream {c.id}, data sent by {sender}"
        where = {"capture": "whole capture", "displayed": f"displayed packets ({self.display_filter})",
                 "conversation": f"{self.conv.transport.upper()} stream {self.conv.id}"
                 if self.conv is not None else ""}[self.scope]
        return f"I/O graph: {where}, interval {self.interval:g} s"

    def _build(self) -> tuple[list[Series], str]:
        """The series and the caption of the current kind/scope (engine lock held)."""
        eng = self.session.engine
        if self.kind == "seq":
            series = seq_plot(eng, self.conv, self.direction, self.window)
            caption = (f"{len(series[0].xs)} segments, {len(series[1].xs)} retransmissions, "
                       f"{len(series[2].xs)} acks" + (", window line" if self.window else ""))
            return series, caption
        keep, stream = None, None
        if self.scope == "displayed":
            flt = compile_filter(self.display_filter)
            keep = lambda n: flt.matches(eng, n)    # noqa: E731
        elif self.scope == "conversation" and self.conv is not None:
            stream = (self.conv.transport, self.conv.id)
        series = io_plot(eng, self.interval, keep, stream)
        caption = (f"{len(series[0].xs)} intervals, {sum(series[0].ys):,} packets, "
                   f"{sum(series[1].ys):,} bytes")
        return series, caption

    @work(thread=True, exclusive=True, group="graph")
    def compute(self) -> None:
        try:
            with self.session.lock:
                series, caption = self._build()
        except ValueError as exc:            # too many intervals for the capture's length
            self.app.call_from_thread(self.notify, str(exc), severity="warning")
            return
        self.app.call_from_thread(self.draw, series, caption)

    def draw(self, series: list[Series], caption: str) -> None:
        self.series = series
        self.caption = caption
        self.query_one("#graph-title", Static).update(
            Text(self.heading(), style="bold"))
        self.query_one("#graph-caption", Static).update(caption)
        widget = self.query_one(PlotextPlot)
        plt = widget.plt
        plt.clear_figure()
        for s in series:
            if not s.xs:
                continue
            draw = plt.scatter if s.style == "points" else plt.plot
            draw(s.xs, s.ys, label=s.label, color=s.color, marker=s.marker, yside=s.yside)
        plt.xlabel("time (s)")
        plt.ylabel("sequence number" if self.kind == "seq" else "packets")
        if self.kind == "io":
            plt.ylabel("bytes", yside="right")
        widget.refresh()
