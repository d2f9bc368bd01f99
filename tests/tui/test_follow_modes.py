"""Pilot tests of follow stream's `d` (messages / text / hex / raw) and `s` (save) keys at
80x24 and 200x50: what is shown, and the file written (bytes checked; text against tshark)."""
from __future__ import annotations

import os
import shutil
import struct
import subprocess

import pytest

from analyzer.tui.follow_view import FollowScreen
from analyzer.tui.lines_view import LinesView
from analyzer.tui.screenshot import screen_text
from tests.tui.conftest import make_app, wait_for, wait_loaded

SIZES = [(80, 24), (200, 50)]


def lm(text: bytes) -> bytes:
    return struct.pack("!I", len(text)) + text


# both directions' bytes of the lenmsg capture's TCP stream, in delivery order
STREAM = (lm(b"hello") + lm(b"HELLO") + lm(b"one") + lm(b"two") + lm(b"ONE") + lm(b"TWO")
          + lm(b"split-across-two-segments") + lm(b"SPLIT-ACROSS-TWO-SEGMENTS"))


async def open_follow(pilot, app) -> FollowScreen:
    await wait_loaded(pilot, app)
    await pilot.press("down", "down", "down", "f")      # packet 4: the TCP stream
    assert isinstance(app.screen, FollowScreen)
    return app.screen


@pytest.mark.parametrize("size", SIZES)
async def test_show_as_cycles_text_hex_raw(lenmsg_pcap, tmp_path, size):
    app = make_app(lenmsg_pcap, save_dir=str(tmp_path))
    async with app.run_test(size=size) as pilot:
        screen = await open_follow(pilot, app)
        view = screen.query_one(LinesView)
        assert screen.mode == "messages"
        await pilot.press("d")
        assert screen.mode == "text"
        assert "showing text" in screen_text(app)
        lines = view.plain_text.split("\n")
        assert lines[0] == "....hello"                 # the length prefix shown as dots
        assert lines[1] == "    ....HELLO"             # the server's bytes indented
        await pilot.press("d")
        assert screen.mode == "hex"
        text = screen_text(app)
        assert "00000000  00 00 00 05 68 65 6c 6c  6f" in text
        assert "showing hex" in text
        await pilot.press("d")
        assert screen.mode == "raw"
        assert view.plain_text.split("\n")[0] == "0000000568656c6c6f"
        assert "0000000568656c6c6f" in screen_text(app)
        await pilot.press("d")
        assert screen.mode == "messages"
        await pilot.press("r")                         # naive reads come from the messages view
        assert screen.naive and "naive recv(1024) reads" in screen_text(app)


@pytest.mark.parametrize("size", SIZES)
async def test_save_raw_writes_the_stream_bytes(lenmsg_pcap, tmp_path, size):
    app = make_app(lenmsg_pcap, save_dir=str(tmp_path))
    async with app.run_test(size=size) as pilot:
        screen = await open_follow(pilot, app)
        await pilot.press("d", "d", "d", "s")          # raw, save
        path = str(tmp_path / "wirelab-tcp-stream-0.bin")
        assert screen.saved_path == path
        with open(path, "rb") as f:
            assert f.read() == STREAM                  # the retransmission is not repeated
        assert await wait_for(pilot, lambda: f"Saved {len(STREAM)} bytes (raw) to" in screen_text(app))
        await pilot.press("s")                         # never overwrites: a second name
        assert screen.saved_path == str(tmp_path / "wirelab-tcp-stream-0-2.bin")
        assert sorted(os.listdir(tmp_path)) == ["wirelab-tcp-stream-0-2.bin", "wirelab-tcp-stream-0.bin"]


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is the oracle")
async def test_save_text_and_hex_equal_tshark_follow(lenmsg_pcap, tmp_path):
    app = make_app(lenmsg_pcap, save_dir=str(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_follow(pilot, app)
        await pilot.press("d", "s")
        assert screen.saved_path == str(tmp_path / "wirelab-tcp-stream-0-text.txt")
        await pilot.press("d", "s")
        assert screen.saved_path == str(tmp_path / "wirelab-tcp-stream-0-hex.txt")
    for mode, name in (("ascii", "text"), ("hex", "hex")):
        want = subprocess.run(["tshark", "-q", "-z", f"follow,tcp,{mode},0", "-r", lenmsg_pcap],
                              capture_output=True, text=True, check=True).stdout
        with open(tmp_path / f"wirelab-tcp-stream-0-{name}.txt", encoding="utf-8") as f:
            assert f.read() == want, mode


async def test_save_messages_view_and_bad_dir(lenmsg_pcap, tmp_path):
    app = make_app(lenmsg_pcap, save_dir=str(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_follow(pilot, app)
        await pilot.press("s")
        with open(tmp_path / "wirelab-tcp-stream-0-messages.txt", encoding="utf-8") as f:
            saved = f.read()
        assert saved == screen.query_one(LinesView).plain_text + "\n"
        assert "hello" in saved and "HELLO" in saved
        # a save directory that is gone: one red line, no file, no crash
        screen.save_dir = str(tmp_path / "gone")
        await pilot.press("s")
        assert await wait_for(pilot, lambda: "Cannot save to" in screen_text(app))
        assert not os.path.exists(tmp_path / "gone")
        assert os.listdir(tmp_path) == ["wirelab-tcp-stream-0-messages.txt"]
