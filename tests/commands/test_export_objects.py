"""`wirelab export-objects FILE DIR`: files out of a capture, named from their headers, sha256
checked, unsafe names refused as the filexfer server refuses them, nothing overwritten."""
from __future__ import annotations

import hashlib
import json
import os
import struct

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

from analyzer.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _upload(name: str, content: bytes, sha256: str | None = None) -> bytes:
    header = {"filename": name, "filesize": len(content)}
    if sha256 is not None:
        header["sha256"] = sha256
    raw = json.dumps(header).encode()
    return struct.pack("!I", len(raw)) + raw + content


def _capture(path, uploads: list[bytes]) -> str:
    """One filexfer conversation per upload (port 9002), each: handshake, the upload, FIN."""
    pkts, t = [], 1764090000.0
    for i, data in enumerate(uploads):
        cport = 41000 + i

        def p(sport, dport, flags, seq, ack, payload=b""):
            nonlocal t
            t += 0.001
            pk = Ether() / IP(src="127.0.0.1", dst="127.0.0.1") / TCP(
                sport=sport, dport=dport, flags=flags, seq=seq, ack=ack) / payload
            pk.time = t
            return pk
        pkts += [p(cport, 9002, "S", 100, 0), p(9002, cport, "SA", 500, 101),
                 p(cport, 9002, "A", 101, 501), p(cport, 9002, "PA", 101, 501, data),
                 p(9002, cport, "A", 501, 101 + len(data)),
                 p(cport, 9002, "FA", 101 + len(data), 501),
                 p(9002, cport, "FA", 501, 102 + len(data)), p(cport, 9002, "A", 102 + len(data), 502)]
    wrpcap(str(path), pkts)
    return str(path)


def test_bundled_filexfer_upload_is_saved_with_its_checked_sha(tmp_path, capsys):
    out = tmp_path / "objects"
    assert main(["export-objects", os.path.join(ROOT, "captures", "filexfer.pcap"), str(out)]) == 0
    text = capsys.readouterr().out
    assert "'notes.txt' -> saved, sha256 ok" in text
    data = (out / "notes.txt").read_bytes()
    assert len(data) == 20000
    assert data.startswith(b"line 00000")


def test_bundled_bigreply_reports_are_saved(tmp_path, capsys):
    assert main(["export-objects", os.path.join(ROOT, "captures", "bigreply.pcap"), str(tmp_path)]) == 0
    assert sorted(os.listdir(tmp_path)) == ["inventory.txt", "small.txt", "status.txt"]
    assert os.path.getsize(tmp_path / "inventory.txt") == 6000


@pytest.mark.parametrize("name, reason", [
    ("../../etc/passwd", "path separator"), ("/etc/passwd", "path separator"),
    ("..\\x", "path separator"), ("C:x", "drive prefix"), ("a\x00b", "NUL"),
    ("", "bad filename"), (".", "bad filename"), ("x" * 300, "longer than 255"),
    ("gpj\u202e.exe", "bidirectional"), (".wirelab-upload-x", "temp-file prefix"),
])
def test_unsafe_names_are_refused_like_the_server(tmp_path, capsys, name, reason):
    cap = _capture(tmp_path / "x.pcap", [_upload(name, b"data")])
    out = tmp_path / "out"
    assert main(["export-objects", cap, str(out)]) == 0
    assert reason in capsys.readouterr().out
    assert os.listdir(out) == []


def test_sha_mismatch_is_refused_and_good_files_kept(tmp_path, capsys):
    good, bad = b"good content\n", b"tampered\n"
    cap = _capture(tmp_path / "x.pcap", [
        _upload("a.txt", good, hashlib.sha256(good).hexdigest()),
        _upload("b.txt", bad, hashlib.sha256(b"original\n").hexdigest()),
        _upload("c.txt", b"no digest")])
    out = tmp_path / "out"
    assert main(["export-objects", cap, str(out)]) == 0
    text = capsys.readouterr().out
    assert "'a.txt' -> saved, sha256 ok" in text
    assert "'b.txt' -> refused: sha256 mismatch" in text
    assert "'c.txt' -> saved\n" in text
    assert sorted(os.listdir(out)) == ["a.txt", "c.txt"]
    assert (out / "a.txt").read_bytes() == good


def test_existing_files_are_never_overwritten(tmp_path, capsys):
    cap = _capture(tmp_path / "x.pcap", [_upload("a.txt", b"new")])
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_bytes(b"mine")
    assert main(["export-objects", cap, str(out)]) == 0
    assert "skipped: a file of that name exists" in capsys.readouterr().out
    assert (out / "a.txt").read_bytes() == b"mine" and os.listdir(out) == ["a.txt"]


def test_short_upload_is_reported_incomplete(tmp_path, capsys):
    data = _upload("a.txt", b"0123456789")[:-4]          # FIN before the last 4 bytes
    cap = _capture(tmp_path / "x.pcap", [data])
    out = tmp_path / "out"
    assert main(["export-objects", cap, str(out)]) == 0
    assert "incomplete: 6 of 10 bytes" in capsys.readouterr().out
    assert os.listdir(out) == []


def test_directory_that_is_a_file_is_an_error(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["export-objects", os.path.join(ROOT, "captures", "filexfer.pcap"), str(f)]) != 0
    assert "not a directory" in capsys.readouterr().err
