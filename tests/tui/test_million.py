"""A generated 1M-packet capture: the first screen is drawn at once while the engine indexes
in its worker, End reaches the last packet of the file, and no widget is built per row."""
from __future__ import annotations

import os
import re
import struct
import subprocess
import sys

import pytest

from analyzer.tui.packet_list import PacketList
from analyzer.tui.screenshot import screen_text
from tests.tui.conftest import make_app, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = "/tmp/wirelab-tui/million.pcap"


def million_pcap() -> str:
    """benchmarks/gen_capture.py output, cached under /tmp (deterministic: seed 1)."""
    if os.path.exists(CACHE) and os.path.getsize(CACHE) > 100_000_000:
        return CACHE
    os.makedirs(os.path.dirname(CACHE), exist_ok=True)
    tmp = f"{CACHE}.{os.getpid()}.tmp"
    subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "gen_capture.py"),
                    "-n", "1000000", "-o", tmp], check=True, capture_output=True, timeout=300)
    os.replace(tmp, CACHE)
    return CACHE


def count_and_last_record(path: str) -> tuple[int, bytes]:
    """An independent walk over the classic pcap's record headers."""
    with open(path, "rb") as f:
        buf = f.read()
    assert buf[:4] == b"\xd4\xc3\xb2\xa1"
    pos, n, last = 24, 0, b""
    while pos + 16 <= len(buf):
        caplen = struct.unpack_from("<I", buf, pos + 8)[0]
        last = buf[pos + 16:pos + 16 + caplen]
        pos += 16 + caplen
        n += 1
    return n, last


@pytest.mark.slow
async def test_million_packets_first_screen_and_end():
    path = million_pcap()
    total, last_bytes = count_and_last_record(path)
    assert total > 1_000_000
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        pl = app.query_one(PacketList)
        assert await wait_for(pilot, lambda: pl.first_row_at is not None, timeout=30)
        await pilot.pause()
        text = screen_text(app)
        assert re.search(r"^ +1 +0\.000000 127\.0\.0\.1 ", text, re.M)   # row 1 is on screen
        assert not app.session.done                            # ... long before the engine is done
        # End goes to the last packet of the file once it has been located
        assert await wait_for(pilot, lambda: app.session.total == total, timeout=60)
        app.refresh_counts()
        await pilot.press("end")
        await pilot.pause()
        assert pl.selected_number == total
        text = screen_text(app)
        assert f"Frame {total}:" in text
        assert app.query_one("HexView").data == last_bytes
        # the engine keeps indexing in its worker; the list shows how far it got
        before = app.session.count
        assert await wait_for(pilot, lambda: app.session.count > before, timeout=30)
        assert "Loading" in screen_text(app)
        # rows are drawn from the index on demand: a few screens' worth, no widget per row
        assert pl.rows_rendered < 500
        assert not list(pl.query("*"))
        await pilot.press("home")
        assert pl.selected_number == 1
        assert "Frame 1:" in screen_text(app)
