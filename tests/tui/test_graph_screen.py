"""Pilot tests of the graph view (`i`) at 80x24 and 200x50 over the crafted lenmsg capture:
the I/O graph's series (whole capture, displayed packets, conversation; interval keys) and
the Stevens sequence graph's series (per direction, retransmission marked)."""
from __future__ import annotations

import pytest
from textual_plotext import PlotextPlot

from analyzer.tui.graph_screen import GraphScreen, default_interval
from analyzer.tui.screenshot import screen_text
from tests.tui.conftest import make_app, wait_for, wait_loaded

SIZES = [(80, 24), (200, 50)]
# frame lengths of the capture: packets 1-3 54 bytes, 4-5 63, 6-7 68, 8 64, 9 73, 10 83,
# 11 83 (retransmission), 12-15 54, 16-17 46 (UDP)
FRAME_LENS = [54, 54, 54, 63, 63, 68, 68, 64, 73, 83, 83, 54, 54, 54, 54, 46, 46]


def series(screen) -> dict[str, tuple[list, list]]:
    return {s.label: (s.xs, s.ys) for s in screen.series}


async def open_graph(pilot, app, *keys) -> GraphScreen:
    await wait_loaded(pilot, app)
    await pilot.press(*keys, "i")
    assert isinstance(app.screen, GraphScreen)
    screen = app.screen
    assert await wait_for(pilot, lambda: screen.series)
    return screen


def test_default_interval():
    assert default_interval(0.233) == 0.01
    assert default_interval(0.0) == 0.001
    assert default_interval(50.0) == 1.0
    assert default_interval(10 ** 9) == 600.0


@pytest.mark.parametrize("size", SIZES)
async def test_io_graph_whole_capture(lenmsg_pcap, size):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=size) as pilot:
        screen = await open_graph(pilot, app)
        # 0.233 s from first to last packet, 0.01 s intervals: 24 points per series
        xs, packets = series(screen)["packets"]
        _, sizes = series(screen)["bytes"]
        assert len(xs) == len(packets) == len(sizes) == 24
        assert xs[:3] == [0.0, 0.01, 0.02]
        assert sum(packets) == 17 and sum(sizes) == sum(FRAME_LENS)
        assert packets[0] == 10 and sizes[0] == sum(FRAME_LENS[:10])    # packets 1-10
        assert packets[20:] == [1, 4, 1, 1]         # 11 at 0.209 s; 12-15; 16; 17 at 0.233 s
        text = screen_text(app)
        assert "I/O graph: whole capture, interval 0.01 s" in text
        assert "24 intervals, 17 packets, 1,035 bytes" in text
        assert "packets" in text and "bytes" in text and "time (s)" in text   # plot legend/axes
        await pilot.press("plus")                                        # 0.1 s: 3 intervals
        assert await wait_for(pilot, lambda: len(series(screen)["packets"][0]) == 3)
        assert series(screen)["packets"][1] == [10, 0, 7]
        await pilot.press("minus", "minus")                              # 0.001 s
        assert await wait_for(pilot, lambda: len(series(screen)["packets"][0]) == 234)
        assert screen.interval == 0.001
        await pilot.press("escape")
        assert not isinstance(app.screen, GraphScreen)


async def test_io_graph_scopes(lenmsg_pcap):
    app = make_app(lenmsg_pcap, initial_filter="tcp.len > 0")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot, app)
        assert await wait_for(pilot, lambda: app._filter_done)
        screen = await open_graph(pilot, app)
        assert screen.scope == "capture" and sum(series(screen)["packets"][1]) == 17
        await pilot.press("a")                                           # displayed packets
        assert await wait_for(pilot, lambda: screen.scope == "displayed"
                              and sum(series(screen)["packets"][1]) == 8)
        assert "displayed packets (tcp.len > 0)" in screen_text(app)
        await pilot.press("a")                                           # the conversation
        assert await wait_for(pilot, lambda: screen.scope == "conversation"
                              and sum(series(screen)["packets"][1]) == 15)
        assert "TCP stream 0" in screen_text(app)
        await pilot.press("a")
        assert await wait_for(pilot, lambda: screen.scope == "capture"
                              and sum(series(screen)["packets"][1]) == 17)


@pytest.mark.parametrize("size", SIZES)
async def test_sequence_graph_per_direction(lenmsg_pcap, size):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=size) as pilot:
        screen = await open_graph(pilot, app, "down", "down", "down")    # packet 4's stream
        await pilot.press("s")
        assert await wait_for(pilot, lambda: screen.kind == "seq" and "ack" in series(screen))
        # the server sent more: its data first. Segments 2 (SYN), 5, 7, 10, 14 (FIN); packet
        # 11 repeats 10 and is marked as a retransmission; packets 3-15 of the client ack
        got = series(screen)
        assert screen.direction == "s2c"
        assert got["s2c segments"][1] == [0, 1, 10, 24, 53]
        assert got["retransmissions"] == ([0.209], [24])
        assert len(got["ack"][0]) == 8
        assert "window" not in got
        text = screen_text(app)
        assert "Sequence graph (Stevens): TCP stream 0, data sent by 127.0.0.1:9001" in text
        assert "5 segments, 1 retransmissions, 8 acks" in text
        await pilot.press("d")                                           # the client's data
        assert await wait_for(pilot, lambda: "c2s segments" in series(screen))
        got = series(screen)
        assert got["c2s segments"][1] == [0, 1, 10, 24, 34, 53]          # 1, 4, 6, 8, 9, 13
        assert got["retransmissions"] == ([], [])
        await pilot.press("w")                                           # the window line
        assert await wait_for(pilot, lambda: "window" in series(screen))
        acks, windows = series(screen)["ack"][1], series(screen)["window"][1]
        assert [w - a for a, w in zip(acks, windows)] == [65495] * len(acks)
        plot = screen.query_one(PlotextPlot)
        assert plot.size.width >= size[0] - 2


async def test_sequence_graph_needs_tcp(lenmsg_pcap):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = await open_graph(pilot, app, "end")                     # a UDP packet
        await pilot.press("s")
        assert await wait_for(pilot, lambda: "needs a TCP" in screen_text(app))
        assert screen.kind == "io"
        await pilot.press("a")                                           # its UDP stream
        assert await wait_for(pilot, lambda: screen.scope == "conversation"
                              and sum(series(screen)["packets"][1]) == 2)


async def test_graph_from_conversations(lenmsg_pcap):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot, app)
        await pilot.press("c", "i")                                      # TCP stream 0
        assert isinstance(app.screen, GraphScreen)
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.series)
        assert screen.kind == "seq" and screen.scope == "conversation"
