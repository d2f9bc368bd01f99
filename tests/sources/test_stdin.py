"""`-r -`: a capture piped into summary/packets reads as the file itself does."""
from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from analyzer.sources import stdin_spool
from analyzer.sources.open import open_capture

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "captures" / "handshake.pcap"


@pytest.fixture
def capture(tmp_path) -> Path:
    """A private copy of a bundled capture (the bundled one may be regenerated meanwhile)."""
    path = tmp_path / "h.pcap"
    path.write_bytes(BUNDLED.read_bytes())
    return path


def _wirelab(*args, stdin: bytes | None = None):
    return subprocess.run([sys.executable, "-m", "analyzer", *args], input=stdin,
                          capture_output=True, timeout=120, cwd=ROOT)


def test_spooled_stdin_is_a_capture_with_random_access(capture):
    data = capture.read_bytes()
    before = set(os.listdir(tempfile.gettempdir()))
    try:
        assert stdin_spool.spool_stdin(io.BytesIO(data)) == "-"
        src = open_capture("-")
        recs = list(src)
        want = list(open_capture(str(capture)))
        assert [r.data for r in recs] == [r.data for r in want]
        assert src.read_frame(recs[-1].offset, len(recs[-1].data)) == recs[-1].data
        src.close()
        assert set(os.listdir(tempfile.gettempdir())) == before     # the copy has no name
    finally:
        stdin_spool.forget()


@pytest.mark.parametrize("command", ["packets", "summary"])
def test_cli_reads_a_pipe_as_the_file(command, capture):
    from_file = _wirelab(command, str(capture), "--json")
    piped = _wirelab(command, "-r", "-", "--json", stdin=capture.read_bytes())
    assert piped.returncode == 0, piped.stderr
    assert from_file.stdout.replace(str(capture).encode(), b"-") == piped.stdout


def test_tcpdump_pipe_and_a_compressed_pipe(capture):
    tcpdump = subprocess.run(["tcpdump", "-r", str(capture), "-w", "-"], capture_output=True)
    out = _wirelab("packets", "-r", "-", stdin=tcpdump.stdout)
    gz = _wirelab("packets", "-r", "-", stdin=gzip.compress(capture.read_bytes()))
    plain = _wirelab("packets", str(capture))
    assert out.returncode == 0 and out.stdout == plain.stdout == gz.stdout


def test_stdin_that_is_not_a_capture_is_one_line():
    out = _wirelab("packets", "-r", "-", stdin=b"hello\n")
    lines = out.stderr.decode().strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1
    assert "-: unknown file format: text" in lines[0]
    out = _wirelab("summary", "-r", "-", stdin=b"")
    assert out.returncode == 2 and "empty file" in out.stderr.decode()
