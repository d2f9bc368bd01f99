"""What the bad-input tests share: the CLI run in a subprocess with stdin from /dev/null (a
regression that starts a server or the TUI instead of failing shows up as a timeout), the
one-error-line assertions, and a folder of broken capture files."""
from __future__ import annotations

import bz2
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD = ROOT / "captures" / "handshake.pcap"
TIMEOUT = 60


def wirelab(*args: str, cwd: Path | None = None, env: dict | None = None):
    return subprocess.run([sys.executable, "-m", "analyzer", *args], capture_output=True,
                          text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL, cwd=cwd,
                          env=env)


def assert_one_error_line(out, command: str, *words: str) -> str:
    """Exit status non-zero, exactly one stderr line `wirelab COMMAND: error: ...` holding
    every word of `words`, no traceback."""
    assert "Traceback" not in out.stderr, out.stderr
    assert out.returncode != 0, (out.stdout[-500:], out.stderr)
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, out.stderr
    line = lines[0]
    assert line.startswith(f"wirelab {command}: error: "), line
    for w in words:
        assert w in line, line
    return line


def assert_usage_error(out, *words: str) -> None:
    """argparse rejects the option: exit 2, usage then one `error:` line, no traceback."""
    assert "Traceback" not in out.stderr, out.stderr
    assert out.returncode == 2, out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert "error:" in last, out.stderr
    for w in words:
        assert w in last, last


def capture_rights() -> bool:
    try:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    except (PermissionError, AttributeError, OSError):
        return False
    s.close()
    return True


needs_capture = pytest.mark.skipif(not capture_rights(), reason="needs root/CAP_NET_RAW")


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> dict[str, Path]:
    """A folder of broken capture files, each named for what is wrong with it."""
    d = tmp_path_factory.mktemp("bad")
    good = GOOD.read_bytes()
    files = {
        "empty": b"",
        "random": bytes((i * 197 + 13) % 251 for i in range(4000)),   # not a known magic
        "trunchdr": good[:10],
        "bz2": bz2.compress(good),
    }
    version = bytearray(good)
    struct.pack_into("<H", version, 4, 9)
    files["version"] = bytes(version)
    shb = bytearray(b"\x0a\x0d\x0d\x0a" + struct.pack("<I", 28) + struct.pack("<I", 0xDEADBEEF)
                    + bytes(16) + struct.pack("<I", 28))
    files["badbom"] = bytes(shb)
    paths = {}
    for name, data in files.items():
        p = d / f"{name}.pcap"
        p.write_bytes(data)
        paths[name] = p
    (d / "adir").mkdir()
    paths["dir"] = d / "adir"
    paths["missing"] = d / "missing.pcap"
    paths["nodir"] = d / "no-such-dir" / "out.pcap"
    return paths


FILE_CASES = [
    ("missing", "no such file"),
    ("empty", "empty file"),
    ("random", "unknown file format"),
    ("trunchdr", "truncated pcap global header"),
    ("version", "unsupported pcap version"),
    ("badbom", "bad pcapng section header"),
    ("bz2", "bzip2-compressed"),
]
