"""Live mode at 80x24 and 200x50 on real loopback traffic: the footer says Resume while
paused, resumed packets scroll into view, and `q` with unsaved packets asks first."""
from __future__ import annotations

import os
from contextlib import contextmanager

import pytest

from analyzer.engine import analyze_file
from analyzer.sources.live import LiveCapture
from analyzer.tui.app import WirelabApp
from analyzer.tui.graph_screen import GraphScreen
from analyzer.tui.live_mode import QuitDialog
from analyzer.tui.packet_list import PacketList
from analyzer.tui.screens import LadderScreen
from analyzer.tui.screenshot import screen_text
from analyzer.tui.session import live_session
from tests.tui.conftest import wait_for
from tests.tui.test_live import send_datagrams, udp_pair

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(os.geteuid() != 0, reason="live capture needs root")]
SIZES = [(80, 24), (200, 50)]


def footer(app) -> str:
    return screen_text(app).splitlines()[-1]


@contextmanager
def live_app(tmp_path, write_to=None):
    """A live-mode app capturing a UDP socket pair on lo: (app, server, client); the capture
    stopped and the sockets closed afterwards."""
    srv, cli = udp_pair()
    sport, cport = srv.getsockname()[1], cli.getsockname()[1]
    cap = LiveCapture("lo", f"udp and port {sport} and port {cport}", write_to=write_to)
    cap.start()
    try:
        yield WirelabApp(live_session(), live=cap, save_dir=str(tmp_path)), srv, cli
    finally:
        cap.stop()
        srv.close()
        cli.close()


@pytest.mark.parametrize("size", SIZES)
async def test_pause_says_resume_and_resumed_packets_scroll_into_view(tmp_path, size):
    with live_app(tmp_path) as (app, srv, cli):
        async with app.run_test(size=size) as pilot:
            pl = app.query_one(PacketList)
            send_datagrams(srv, cli, [b"first"])
            assert await wait_for(pilot, lambda: pl.total == 2)
            await pilot.pause()
            assert "Pause" in footer(app) and "Resume" not in footer(app)
            await pilot.press("space")
            await pilot.pause()
            assert "Resume" in footer(app) and "Pause" not in footer(app)
            assert "Live: paused" in screen_text(app)
            # more packets than the list has rows arrive while paused; the user looks at the top
            many = pl.scrollable_content_region.height + 6
            send_datagrams(srv, cli, [f"m{i}".encode() for i in range(many)])
            await pilot.press("home")
            await pilot.pause(0.3)
            assert pl.total == 2
            await pilot.press("space")
            total = 2 + 2 * many
            assert await wait_for(pilot, lambda: pl.total == total)
            await pilot.pause()
            assert "Pause" in footer(app) and "Resume" not in footer(app)
            rows = [l.split()[0] for l in screen_text(app).splitlines()
                    if l.strip() and l.split()[0].isdigit()]
            assert str(total) in rows                 # the newest packet is on screen
            assert pl.selected_number == total


@pytest.mark.parametrize("size", SIZES)
async def test_q_with_unsaved_packets_asks_save_quit_or_cancel(tmp_path, size):
    with live_app(tmp_path) as (app, srv, cli):
        async with app.run_test(size=size) as pilot:
            pl = app.query_one(PacketList)
            send_datagrams(srv, cli, [b"one", b"two"])
            assert await wait_for(pilot, lambda: pl.total == 4)
            await pilot.press("q")
            await pilot.pause()
            assert isinstance(app.screen, QuitDialog)
            text = screen_text(app)
            assert "4 captured packets are not saved" in text
            assert "Save and quit" in text and "Quit anyway" in text and "Cancel" in text
            await pilot.press("escape")                  # cancel: back to the capture
            await pilot.pause()
            assert not isinstance(app.screen, QuitDialog) and app.is_running
            await pilot.press("q")
            await pilot.pause()
            await pilot.press("s")                       # save and quit
            await pilot.pause()
            assert app._exit
        assert app.saved_path and os.path.dirname(app.saved_path) == str(tmp_path)
        assert analyze_file(app.saved_path).packet_count == 4


async def test_q_after_saving_or_with_w_quits_at_once(tmp_path):
    with live_app(tmp_path, write_to=str(tmp_path / "all.pcap")) as (app, srv, cli):
        async with app.run_test(size=(80, 24)) as pilot:
            pl = app.query_one(PacketList)
            send_datagrams(srv, cli, [b"one"])
            assert await wait_for(pilot, lambda: pl.total == 2)
            await pilot.press("q")                       # -w already writes every packet
            await pilot.pause()
            assert app._exit and not isinstance(app.screen, QuitDialog)
    with live_app(tmp_path) as (app, srv, cli):
        async with app.run_test(size=(80, 24)) as pilot:
            pl = app.query_one(PacketList)
            send_datagrams(srv, cli, [b"one"])
            assert await wait_for(pilot, lambda: pl.total == 2)
            await pilot.press("w")
            await pilot.pause()
            await pilot.press("q")
            await pilot.pause()
            assert app._exit and not isinstance(app.screen, QuitDialog)


async def test_quit_anyway_and_ctrl_c_do_not_save(tmp_path):
    for keys in (("q", "q"), ("ctrl+c",)):
        with live_app(tmp_path) as (app, srv, cli):
            async with app.run_test(size=(200, 50)) as pilot:
                pl = app.query_one(PacketList)
                send_datagrams(srv, cli, [b"one"])
                assert await wait_for(pilot, lambda: pl.total == 2)
                for k in keys:
                    await pilot.press(k)
                    await pilot.pause()
                assert app._exit
            assert app.saved_path is None
    assert not list(tmp_path.iterdir())


async def test_footer_at_80_columns_keeps_keys_and_quit_and_l_i_still_work(tmp_path):
    """Live mode adds Pause and Save to the footer: Ladder and Graph leave it at every width
    (their keys still work, `?` lists them) so `? Keys` and `q Quit` stay on an 80x24 screen."""
    with live_app(tmp_path) as (app, srv, cli):
        async with app.run_test(size=(80, 24)) as pilot:
            pl = app.query_one(PacketList)
            send_datagrams(srv, cli, [b"one"])
            assert await wait_for(pilot, lambda: pl.total == 2)
            await pilot.pause()
            text = footer(app)
            assert "? Keys" in text and "q Quit" in text and "w Save" in text
            assert "Ladder" not in text and "Graph" not in text
            await pilot.press("l")
            await pilot.pause()
            assert isinstance(app.screen, LadderScreen)
            await pilot.press("escape")
            await pilot.press("i")
            await pilot.pause()
            assert isinstance(app.screen, GraphScreen)
