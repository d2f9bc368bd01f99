"""`wirelab open` / `wirelab live`: bad input gives one clear line and a non-zero exit."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def wirelab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analyzer.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("make, expected", [
    (lambda p: None, "no such file"),
    (lambda p: p.write_bytes(b""), "empty file"),
    (lambda p: p.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n"), "unknown file format"),
])
def test_open_bad_files(tmp_path, make, expected):
    path = tmp_path / "x.pcap"
    make(path)
    r = wirelab("open", str(path))
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wirelab open: error:") and expected in lines[0]
    assert "Traceback" not in r.stderr


def test_open_bad_display_filter(lenmsg_pcap):
    r = wirelab("open", "-Y", "tcp.prot == 1", lenmsg_pcap)
    assert r.returncode != 0
    assert r.stderr.strip() == ("wirelab open: error: bad display filter: unknown field 'tcp.prot'; "
                                "did you mean 'tcp.port'? (at column 1)")


@pytest.mark.skipif(os.geteuid() != 0, reason="live capture needs root")
@pytest.mark.parametrize("args, expected", [
    (["-f", "tcp port ((("], "bad capture filter"),
    (["-i", "nosuch0"], "no such interface"),
    (["-Y", "tcp and"], "bad display filter"),
])
def test_live_bad_arguments(args, expected):
    r = wirelab("live", *args)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in r.stderr


def _one_error(r, command: str, *words: str) -> None:
    assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"wirelab {command}: error: "), r.stderr
    for w in words:
        assert w in lines[0], lines[0]


def test_open_without_a_terminal_refuses():
    """stdin is /dev/null and stdout a pipe: one line, not a TUI running until killed."""
    _one_error(wirelab("open", os.path.join(ROOT, "captures", "handshake.pcap")), "open",
               "needs a terminal")


@pytest.mark.skipif(os.geteuid() != 0, reason="live capture needs root")
def test_live_without_a_terminal_refuses():
    _one_error(wirelab("live", "-f", "tcp port 1"), "live", "needs a terminal")


def test_live_save_dir_must_exist(tmp_path):
    _one_error(wirelab("live", "--save-dir", str(tmp_path / "nope")), "live", "--save-dir",
               "no such directory")


def test_open_in_a_terminal_runs_the_tui_and_quits_on_q():
    """In a real pseudo-terminal `wirelab open` still runs the TUI; 'q' quits with 0."""
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:  # child: wirelab open with a terminal on stdin/stdout
        os.environ["TERM"] = "xterm-256color"
        os.environ["COLUMNS"], os.environ["LINES"] = "120", "40"
        os.chdir(ROOT)
        os.execv(sys.executable, [sys.executable, "-m", "analyzer", "open",
                                  os.path.join("captures", "handshake.pcap")])
    out = b""
    deadline = time.monotonic() + 60
    sent_q = False
    status = -1
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
            if not sent_q and b"Filter:" in screen:
                time.sleep(0.5)
                os.write(fd, b"q")
                sent_q = True
        end = time.monotonic() + 20
        while True:                  # reap it (killed if it does not quit)
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > end:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                status = -1
                break
            time.sleep(0.05)
    finally:
        os.close(fd)
    assert b"needs a terminal" not in out
    assert sent_q, out[-2000:]
    assert status != -1 and os.waitstatus_to_exitcode(status) == 0
