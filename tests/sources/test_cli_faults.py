"""Faults 1-7 end to end through `wirelab summary --json`: one error line or kept packets."""
from __future__ import annotations

import json
import struct
import subprocess
import sys

import pytest

from tests.sources import craft


def _wirelab(*args):
    return subprocess.run([sys.executable, "-m", "analyzer", *args], capture_output=True,
                          text=True, timeout=120)


def _files(tmp_path):
    fr = craft.frames(3)
    full = craft.pcap_bytes([(1, 0, f) for f in fr])
    ng = craft.shb() + craft.idb("<", 1) + b"".join(craft.epb("<", 0, i, f) for i, f in enumerate(fr))
    return {
        "empty": b"",
        "short_header": full[:11],
        "bad_magic": b"\x00\x01\x02\x03" + bytes(60),
        "bad_shb": ng[:8] + b"\xde\xad\xbe\xef" + ng[12:],
        "trunc_body": full[:-5],
        "trunc_header": full[:len(full) - len(fr[2]) - 9],
        "huge_caplen": full + struct.pack("<IIII", 1, 0, 0xFFFFFFF0, 0xFFFFFFF0) + bytes(40),
        "ng_zero_block": ng + struct.pack("<II", 6, 0) + bytes(40),
        "ng_trailer": ng[:-4] + struct.pack("<I", 16),
        "linktype_147": craft.pcap_bytes([(1, 0, f) for f in fr], linktype=147),
    }


@pytest.mark.parametrize("name,text", [
    ("empty", "empty file"), ("short_header", "truncated pcap global header (11 of 24 bytes)"),
    ("bad_magic", "unknown file format: not a known capture format (magic 0x00010203)"),
    ("bad_shb", "bad pcapng section header: unknown byte-order magic")])
def test_fatal_inputs_one_line_nonzero(tmp_path, name, text):
    path = craft.write(tmp_path, name + ".cap", _files(tmp_path)[name])
    r = _wirelab("summary", "--json", path)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and text in lines[0]


@pytest.mark.parametrize("name,kept,text", [
    ("trunc_body", 2, "truncated record at offset"),
    ("trunc_header", 2, "truncated record header at offset"),
    ("huge_caplen", 3, "caplen 4294967280 exceeds snaplen"),
    ("ng_zero_block", 3, "block length 0 (< 12)"),
    ("ng_trailer", 2, "trailing block length 16 differs"),
    ("linktype_147", 3, "unsupported linktype 147"),
])
def test_damaged_inputs_keep_earlier_packets(tmp_path, name, kept, text):
    path = craft.write(tmp_path, name + ".cap", _files(tmp_path)[name])
    r = _wirelab("summary", "--json", path)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    out = json.loads(r.stdout)
    assert out["packets"] == kept
    assert any(text in w for w in out["warnings"])
