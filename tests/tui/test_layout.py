"""The main screen at an 80x24 terminal and at 200x50: what is visible, on the bundled
sticky-sender capture (its first coalesced packet carries three chat messages)."""
from __future__ import annotations

import os

import pytest
from textual.widgets import Tree

from analyzer.engine import analyze_file
from analyzer.render.rows import row
from analyzer.tui.columns import column_widths
from analyzer.tui.hexview import HexView
from analyzer.tui.lines_view import LinesView
from analyzer.tui.packet_list import PacketList
from analyzer.tui.screens import ExplainScreen, LadderScreen
from analyzer.tui.screenshot import screen_text
from tests.tui.conftest import make_app, wait_for, wait_loaded

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STICKY = os.path.join(ROOT, "captures", "sticky-sender.pcap")
SIZES = [(80, 24), (200, 50)]

pytestmark = pytest.mark.skipif(not os.path.exists(STICKY), reason="bundled capture missing")


def coalesced_packet() -> int:
    eng = analyze_file(STICKY)
    return min(c.coalesced_packets[0] for c in eng.conversations if c.coalesced_packets)


def visible(region, screen_size) -> bool:
    return region.height > 0 and region.y + region.height <= screen_size[1]


@pytest.mark.parametrize("size", SIZES)
async def test_info_column_gets_the_width_left_and_shows_the_messages(size):
    n = coalesced_packet()
    app = make_app(STICKY, select=n)
    async with app.run_test(size=size) as pilot:
        await wait_loaded(pilot, app)
        assert await wait_for(pilot, lambda: app.query_one(PacketList).selected_number == n)
        await pilot.pause()
        pl = app.query_one(PacketList)
        width = pl.scrollable_content_region.width
        widths = column_widths(width, pl.fit)
        info_at, info_w = sum(widths[:6]), widths[6]
        assert info_w == width - sum(widths[:6])
        assert info_w >= (30 if size[0] == 80 else 130)
        info = row(app.session.engine, n).info
        assert "msg 2" in info[: info_w - 1]
        line = next(l for l in screen_text(app).splitlines() if l.lstrip().startswith(f"{n} "))
        assert line[info_at:info_at + info_w - 1].rstrip() == info[: info_w - 1].rstrip()
        # the header's titles sit over the same columns
        header = screen_text(app).splitlines()[1]
        assert header[info_at:].startswith("Info")


@pytest.mark.parametrize("size", SIZES)
async def test_detail_tree_shows_at_least_five_rows(size):
    app = make_app(STICKY, select=coalesced_packet())
    async with app.run_test(size=size) as pilot:
        await wait_loaded(pilot, app)
        await pilot.pause()
        tree = app.query_one(Tree)
        assert tree.display and tree.scrollable_content_region.height >= 5
        text = screen_text(app)
        for label in ("Frame ", "Ethernet II", "Internet Protocol Version 4",
                      "Transmission Control Protocol", "Messages in this packet: 3"):
            assert label in text
        # the list keeps at least eight rows of packets
        assert app.query_one(PacketList).scrollable_content_region.height >= 8


async def test_80x24_h_switches_the_bottom_pane_between_tree_and_hex():
    app = make_app(STICKY, select=coalesced_packet())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot, app)
        await pilot.pause()
        tree, hexv = app.query_one(Tree), app.query_one(HexView)
        assert tree.display and not hexv.display
        await pilot.press("h")
        await pilot.pause()
        assert hexv.display and not tree.display
        assert hexv.scrollable_content_region.height >= 5
        assert "6d 73 67 20 32 0a" in screen_text(app)          # "msg 2\n" in hex
        await pilot.press("h")
        await pilot.pause()
        assert tree.display and not hexv.display


async def test_200x50_tree_and_hex_side_by_side_h_hides_hex():
    app = make_app(STICKY, select=coalesced_packet())
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_loaded(pilot, app)
        await pilot.pause()
        tree, hexv = app.query_one(Tree), app.query_one(HexView)
        t, h = tree.region, hexv.region
        assert tree.display and hexv.display
        assert h.x >= t.x + t.width and h.y == t.y              # beside, not below
        assert t.height >= 20 and t.width >= 100
        assert "6d 73 67 20 32 0a" in screen_text(app)
        await pilot.press("h")
        await pilot.pause()
        assert not hexv.display and tree.region.width == 200


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("where", ["list", "filter", "ladder"])
async def test_ctrl_c_quits_from_anywhere(size, where):
    app = make_app(STICKY)
    async with app.run_test(size=size) as pilot:
        await wait_loaded(pilot, app)
        if where == "filter":
            await pilot.press("slash", "t", "c")
        elif where == "ladder":
            await pilot.press("l")
            assert isinstance(app.screen, LadderScreen)
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert app._exit                                    # the app is quitting
        assert app.return_code == 0


@pytest.mark.parametrize("size", SIZES)
async def test_open_on_a_packet_with_its_explanation(size):
    n = coalesced_packet()
    app = make_app(STICKY, select=n, explain=True)
    async with app.run_test(size=size) as pilot:
        await wait_loaded(pilot, app)
        assert await wait_for(pilot, lambda: isinstance(app.screen, ExplainScreen))
        await pilot.pause()
        text = screen_text(app)
        assert f"Packet {n}" in text and "3 application messages" in text
        await pilot.press("escape")
        await pilot.pause()
        line = next(l for l in screen_text(app).splitlines() if l.lstrip().startswith(f"{n} "))
        assert "msg 2" in line                                # its row is in view, selected
        assert app.query_one(PacketList).selected_number == n


@pytest.mark.parametrize("size", SIZES)
async def test_ladder_shows_payload_text_on_data_arrows(size):
    n = coalesced_packet()
    app = make_app(STICKY, select=n)
    async with app.run_test(size=size) as pilot:
        await wait_loaded(pilot, app)
        assert await wait_for(pilot, lambda: app.query_one(PacketList).selected_number == n)
        await pilot.press("l")
        await pilot.pause()
        lines = app.screen.query_one(LinesView).plain_text.splitlines()
        arrow = next(l for l in lines if l.lstrip().startswith(f"{n} "))
        assert "msg 2|msg 3|msg 4" in arrow and "─>|" in arrow and "coalesced" in arrow
        assert any("ping 0" in l for l in lines)
        syn = next(l for l in lines if "SYN Seq=0" in l)
        assert "|" not in syn.split("Len=0")[1].split("─")[0]     # no payload, no text
        shown = screen_text(app)
        assert "msg 2|msg 3|msg 4" in shown                   # visible without scrolling
