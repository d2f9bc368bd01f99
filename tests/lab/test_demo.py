"""`wirelab demo` without a terminal: prints the reports and exits 0 (live as root, replayed
from the bundled captures without capture rights)."""
import json
import shutil
import subprocess
import sys

import pytest

from analyzer.commands.demo import TOUR
from analyzer.sources.live import capture_rights


def _demo(*args, prefix=None):
    cmd = [sys.executable, "-m", "analyzer", "demo", *args]
    if prefix:
        cmd = [*prefix, " ".join(cmd)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


@pytest.mark.slow
@pytest.mark.skipif(not capture_rights(), reason="needs root/CAP_NET_RAW")
def test_demo_live_piped_prints_reports_and_exits_0():
    out = _demo()
    assert out.returncode == 0, out.stderr
    assert "live on loopback" in out.stdout
    for name in TOUR:
        assert f"== {name}:" in out.stdout
    assert out.stdout.count("the phenomenon was reproduced") == len(TOUR)
    assert "Traceback" not in out.stderr


@pytest.mark.skipif(shutil.which("capsh") is None, reason="capsh not installed")
def test_demo_without_capture_rights_replays_bundled_captures():
    out = _demo(prefix=["capsh", "--drop=cap_net_raw", "--", "-c"])
    assert out.returncode == 0, out.stderr
    assert "replaying the bundled captures" in out.stdout
    assert out.stdout.count("replayed from the file") == len(TOUR)
    assert out.stdout.count("the phenomenon was reproduced") == len(TOUR)


def test_demo_replay_json_all():
    out = _demo("--replay", "--json", "--all")
    assert out.returncode == 0, out.stderr
    reports = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(reports) == 9 and all(r["ok"] and not r["live"] for r in reports)


def test_demo_in_a_terminal_opens_the_tui_and_quits_on_q():
    """In a real pseudo-terminal the demo prints its reports, then runs the Textual TUI on
    the sticky-sender capture (its CHAT rows on screen); 'q' quits it and the demo exits 0."""
    import os
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:  # child: the demo with a terminal on stdin/stdout
        os.environ["TERM"] = "xterm-256color"
        os.environ["COLUMNS"], os.environ["LINES"] = "120", "40"
        os.execv(sys.executable, [sys.executable, "-m", "analyzer", "demo", "--replay"])
    out = b""
    deadline = time.monotonic() + 90
    sent_q = False
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            screen = out[out.find(b"\x1b[?1049h"):] if b"\x1b[?1049h" in out else b""
            if not sent_q and b"Filter:" in screen and b"CHAT" in screen:
                time.sleep(0.5)
                os.write(fd, b"q")
                sent_q = True
        end = time.monotonic() + 20
        while True:                  # reap the demo (killed if it does not quit)
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > end:
                os.kill(pid, 9)
                _, status = os.waitpid(pid, 0)
                status = -1
                break
            time.sleep(0.05)
    finally:
        os.close(fd)
    assert b"== sticky-sender:" in out              # the reports came first
    assert sent_q, out[-2000:]                        # the TUI took over the screen
    assert status != -1 and os.waitstatus_to_exitcode(status) == 0
