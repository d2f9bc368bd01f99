"""Live mode: real loopback traffic captured on lo (filtered on this test's own ports) appears
in the list while it runs; pause/resume; save to pcap; follow stream updates live."""
from __future__ import annotations

import os
import socket
import threading

import pytest

from analyzer.engine import analyze_file
from analyzer.tui.app import WirelabApp
from analyzer.tui.lines_view import LinesView
from analyzer.tui.packet_list import PacketList
from analyzer.tui.screens import FollowScreen
from analyzer.tui.screenshot import screen_text
from analyzer.tui.session import live_session
from analyzer.render.rows import row
from analyzer.render.packet_json import packet_json
from tests.tui.conftest import wait_for

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(os.geteuid() != 0, reason="live capture needs root")]


def udp_pair():
    """A bound UDP 'server' socket on a free port and a client socket."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    cli.bind(("127.0.0.1", 0))
    return srv, cli


def send_datagrams(srv, cli, texts):
    for t in texts:
        cli.sendto(t, srv.getsockname())
        data, addr = srv.recvfrom(2048)
        srv.sendto(data.upper(), addr)
        cli.recvfrom(2048)


async def test_live_packets_appear_pause_resume_and_save(tmp_path):
    from analyzer.sources.live import LiveCapture
    srv, cli = udp_pair()
    sport, cport = srv.getsockname()[1], cli.getsockname()[1]
    cap = LiveCapture("lo", f"udp and port {sport} and port {cport}")
    cap.start()
    session = live_session()
    app = WirelabApp(session, live=cap, save_dir=str(tmp_path))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            pl = app.query_one(PacketList)
            send_datagrams(srv, cli, [b"one", b"two"])
            assert await wait_for(pilot, lambda: pl.total == 4, timeout=10)
            await pilot.pause()
            text = screen_text(app)
            assert "Live: capturing" in text and "space Pause" in text and "w Save" in text
            assert pl.selected_number == 4              # the list follows the newest packet
            # pause: new packets wait in the capture queue, the list stays as it is
            await pilot.press("space")
            await pilot.pause()
            assert app.paused and "Live: paused" in screen_text(app)
            send_datagrams(srv, cli, [b"three"])
            await pilot.pause(0.5)
            assert pl.total == 4
            await pilot.press("space")
            assert await wait_for(pilot, lambda: pl.total == 6, timeout=10)
            # save what was captured so far
            await pilot.press("w")
            assert app.saved_path and os.path.exists(app.saved_path)
            saved = analyze_file(app.saved_path)
            assert saved.packet_count == 6
            assert saved.frame_bytes(5) == session.engine.frame_bytes(5)
            assert abs(row(saved, 6).time - row(session.engine, 6).time) < 2e-6
            assert abs(packet_json(saved, 1)["epoch"] - packet_json(session.engine, 1)["epoch"]) < 2e-6
            # follow stream updates live
            await pilot.press("f")
            assert isinstance(app.screen, FollowScreen)
            view = app.screen.query_one(LinesView)
            assert "THREE" in view.plain_text
            send_datagrams(srv, cli, [b"four"])
            assert await wait_for(pilot, lambda: "FOUR" in view.plain_text, timeout=10)
            await pilot.press("escape")
            assert pl.total == 8
    finally:
        cap.stop()
        srv.close()
        cli.close()


async def test_live_tcp_conversation_with_handshake(tmp_path):
    from analyzer.sources.live import LiveCapture
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    port = lsock.getsockname()[1]
    cap = LiveCapture("lo", f"tcp port {port}")
    cap.start()
    app = WirelabApp(live_session(), live=cap, save_dir=str(tmp_path))

    def serve():
        conn, _ = lsock.accept()
        with conn:
            data = conn.recv(1024)
            conn.sendall(data.upper())
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            c = socket.create_connection(("127.0.0.1", port), timeout=5)
            c.sendall(b"hello\n")
            c.recv(1024)
            c.close()
            t.join(5)
            pl = app.query_one(PacketList)
            assert await wait_for(pilot, lambda: pl.total >= 8, timeout=10)   # 3 + data/acks + 4
            await pilot.press("home")
            text = screen_text(app)
            assert "[SYN]" in text and "[SYN, ACK]" in text
            convs = app.session.conversations()
            assert len(convs) == 1 and convs[0].handshake["complete"]
    finally:
        cap.stop()
        lsock.close()
