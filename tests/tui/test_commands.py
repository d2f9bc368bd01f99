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
