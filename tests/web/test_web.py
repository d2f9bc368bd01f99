"""`wirelab web FILE` in a real headless Chromium (Debian's chromium, driven by playwright):
the page loads, the packet list shows, `/` opens the filter and a filter narrows the list.

The terminal is drawn on a canvas, so the test reads what the page received: the terminal
output arriving over the page's websocket (escape sequences stripped)."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

playwright = pytest.importorskip("playwright.sync_api")
pytest.importorskip("textual_serve")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAPTURE = os.path.join(ROOT, "captures", "handshake.pcap")
ESCAPES = re.compile(r"\x1b\[[0-9;?$]*[A-Za-z]|\x1b\][^\x07]*\x07")

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium not installed")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def server():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "analyzer", "web", CAPTURE, "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                time.sleep(0.1)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def _wait_for(page, frames: list[str], pattern: str, tries: int = 150) -> str:
    """Let the page run until the terminal output matches `pattern`; returns the match."""
    for _ in range(tries):
        page.wait_for_timeout(100)
        found = re.findall(pattern, ESCAPES.sub("", "".join(frames)))
        if found:
            return found[-1]
    raise AssertionError(f"the page never showed {pattern!r}; it showed: "
                         f"{ESCAPES.sub('', ''.join(frames))[-400:]!r}")


def test_browser_shows_the_packet_list_and_filters_it(server, tmp_path):
    frames: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"),
                                    args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("websocket", lambda ws: ws.on(
                "framereceived",
                lambda data: frames.append(data if isinstance(data, str) else data.decode("utf-8", "replace"))))
            page.goto(server)
            assert page.locator(".textual-terminal").count() == 1
            page.locator(".textual-terminal").click()
            assert _wait_for(page, frames, r"Packets: (\d+)") == "63"
            _wait_for(page, frames, r"37678 → 9000 \[SYN\]")        # rows of the packet list
            page.keyboard.press("/")
            page.keyboard.type("chat")
            page.keyboard.press("Enter")
            shown = _wait_for(page, frames, r"Displayed: (\d+) │ Loaded │ Filter: chat(?! \(scanning)")
            assert shown == "13"
            page.screenshot(path=str(tmp_path / "web.png"))
        finally:
            browser.close()
