"""`wirelab follow`: byte for byte what `tshark -q -z follow,PROTO,MODE,N` prints."""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess

import pytest

from analyzer.cli import main
from tests.lenmsg_capture import lenmsg_capture

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
needs_tshark = pytest.mark.skipif(not shutil.which("tshark"), reason="tshark not installed")


def _tshark(path: str, proto: str, mode: str, stream: int) -> str:
    out = subprocess.run(["tshark", "-r", path, "-q", "-z", f"follow,{proto},{mode},{stream}"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _wirelab(capsys, path: str, *args: str) -> str:
    assert main(["follow", path, *args]) == 0
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    return lenmsg_capture(tmp_path_factory.mktemp("follow") / "lenmsg.pcap")


@needs_tshark
@pytest.mark.parametrize("mode, option", [("ascii", "--text"), ("hex", "--hex"), ("raw", "--raw")])
def test_follow_equals_tshark_on_crafted_capture(crafted, capsys, mode, option):
    # coalesced, split and retransmitted segments; binary length prefixes
    assert _wirelab(capsys, crafted, "--stream", "0", option) == _tshark(crafted, "tcp", mode, 0)
    assert _wirelab(capsys, crafted, "--stream", "0", "--udp", option) == _tshark(crafted, "udp", mode, 0)


@needs_tshark
@pytest.mark.slow
@pytest.mark.parametrize("name", ["auth", "bigreply", "filexfer", "sticky-sender", "udp-vs-tcp"])
def test_follow_equals_tshark_on_bundled_captures(capsys, name):
    path = os.path.join(ROOT, "captures", f"{name}.pcap")
    for mode, option in (("ascii", "--text"), ("hex", "--hex"), ("raw", "--raw")):
        assert _wirelab(capsys, path, "--stream", "0", option) == _tshark(path, "tcp", mode, 0)


def test_follow_hex_layout(crafted, capsys):
    text = _wirelab(capsys, crafted, "--stream", "0", "--hex")
    lines = text.splitlines()
    assert lines[1] == "=" * 67 and lines[2] == "Follow: tcp,hex"
    assert lines[4:6] == ["Node 0: 127.0.0.1:40000", "Node 1: 127.0.0.1:9001"]
    assert lines[6] == "00000000  00 00 00 05 68 65 6c 6c  6f                       ....hell o"
    assert lines[7].startswith("\t00000000  00 00 00 05 48 45 4c 4c")      # server: indented


def test_follow_writes_a_file(crafted, tmp_path, capsys):
    out = tmp_path / "f.txt"
    assert main(["follow", crafted, "--stream", "0", "-o", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert "hello" in out.read_text() and "Follow: tcp,ascii" in out.read_text()


@pytest.mark.parametrize("args, message", [
    (["--stream", "3"], "no tcp stream 3 (this capture has 0-0)"),
    (["--stream", "0", "--hex", "--raw"], "not allowed with"),
    (["--stream", "0", "-o", "/nonexistent/x.txt"], "cannot write /nonexistent/x.txt"),
])
def test_follow_bad_input(crafted, capsys, args, message):
    with pytest.raises(SystemExit) if "not allowed" in message else contextlib.nullcontext():
        assert main(["follow", crafted, *args]) != 0
    assert message in capsys.readouterr().err

