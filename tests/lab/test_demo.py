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
    assert len(reports) == 10 and all(r["ok"] and not r["live"] for r in reports)


def _run_in_pty(args, steps, size=(80, 24), timeout=90):
    """Run `wirelab demo ARGS` in a pseudo-terminal of `size`; `steps` is a list of
    (bytes that must appear in the output, bytes to type then).  Returns (output, exit code
    or None when it had to be killed, index of the first step never reached)."""
    import os
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:  # child: the demo with a terminal on stdin/stdout
        os.environ["TERM"] = "xterm-256color"
        os.environ["COLUMNS"], os.environ["LINES"] = str(size[0]), str(size[1])
        os.execv(sys.executable, [sys.executable, "-m", "analyzer", "demo", *args])
    import fcntl
    import struct
    import termios
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    out = b""
    step = 0
    deadline = time.monotonic() + timeout
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
            if step < len(steps) and steps[step][0] in out:
                time.sleep(0.5)
                os.write(fd, steps[step][1])
                out += b"<<sent>>"
                step += 1
        end = time.monotonic() + 20
        code = None
        while True:                  # reap the demo (killed if it does not quit)
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > end:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                break
            time.sleep(0.05)
    finally:
        os.close(fd)
    return out, code, step


def _coalesced_packet() -> int:
    from analyzer.commands.demo import captures_dir, first_coalesced
    from analyzer.engine import analyze_file
    pcap = f"{captures_dir()}/sticky-sender.pcap"
    eng = analyze_file(pcap)
    first = min(c.coalesced_packets[0] for c in eng.conversations if c.coalesced_packets)
    assert first_coalesced(pcap, None) == first
    return first


@pytest.mark.slow
@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
def test_demo_in_a_terminal_pauses_then_opens_the_coalesced_packet_explained(size):
    """In a terminal the demo prints a few lines (not the tour's reports), asks for Enter
    naming the coalesced packet, opens the TUI on it with the explanation shown; Ctrl-C quits
    the TUI and the demo exits 0."""
    n = _coalesced_packet()
    prompt = f"Press Enter to open packet {n}, the coalesced one".encode()
    out, code, reached = _run_in_pty(["--replay"], [
        (prompt, b"\r"),
        (b"Explain", b"\x03"),               # Ctrl-C in the TUI
    ], size=size)
    assert reached == 2, out[-3000:]
    before = out[: out.find(prompt)]
    assert b"== sticky-sender:" not in before and b"What the analysis found" not in before
    assert len(before.decode(errors="replace").splitlines()) < 20
    screen = out[out.find(b"<<sent>>"):]
    assert f"Packet {n}".encode() in screen and b"application messages" in screen
    assert code == 0


@pytest.mark.slow
def test_demo_in_a_terminal_enter_can_be_declined_with_ctrl_c():
    out, code, reached = _run_in_pty(["--replay"], [(b"Press Enter", b"\x03")])
    assert reached == 1 and code == 0
    assert b"\x1b[?1049h" not in out                  # the TUI never started
    assert b"Traceback" not in out


@pytest.mark.slow
def test_demo_no_tui_in_a_terminal_prints_the_tour():
    out, code, _ = _run_in_pty(["--replay", "--no-tui"], [])
    assert code == 0
    for name in TOUR:
        assert f"== {name}:".encode() in out
    assert b"Press Enter" not in out and b"\x1b[?1049h" not in out
