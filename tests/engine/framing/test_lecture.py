"""Issue 13.3: a lecture-style upload (native 4-byte header length + JSON dict + body) on a
port with no codec is chosen by evidence (a length that runs into text is rejected), the
guess and its confidence are shown, and an implausible length says what it looks like."""
from __future__ import annotations

import json
import struct
import subprocess
import sys

from analyzer.engine.framing import THRESHOLD
from dissectors import filexfer
from analyzer.render.summary_json import summary_json
from tests.engine.framing.wire import TcpConv, engine_of, write_pcap


def _upload(keys=("file_name", "file_size"), port=7005, reply=b"upload ok") -> TcpConv:
    body = b"lane " * 1500
    head = json.dumps({keys[0]: "notes.txt", keys[1]: len(body), "md5": "0" * 32}).encode()
    segs = [struct.pack("i", len(head)), head] + [body[i:i + 1000]
                                                 for i in range(0, len(body), 1000)]
    return TcpConv(sport=port).open().send(0, segs).send(1, [reply]).close()


def test_lecture_upload_is_inferred_not_lenmsg():
    conv = summary_json(engine_of([_upload()]))["conversations"][0]
    assert conv["protocol"] == "inferred"
    assert not conv["malformed"]
    f = conv["framing"]["c2s"]
    assert f["framing"] == "lenjson:4:le:file_size" and f["confidence"] >= THRESHOLD
    assert "JSON header" in f["text"]
    assert conv["framing"]["s2c"]["framing"] is None
    assert "too short" in conv["framing"]["s2c"]["text"]
    assert conv["protocol_choice"]["by"] == "inference"
    assert any(r.startswith("filexfer:") for r in conv["protocol_choice"]["rejected"])
    assert [m["length"] for m in conv["messages"]] == [4 + len(json.dumps(
        {"file_name": "notes.txt", "file_size": 7500, "md5": "0" * 32})) + 7500]


def test_filexfer_by_probe_when_both_directions_agree():
    status = filexfer.Connection(filexfer.SERVER, variant="native").send(
        filexfer.Status.make(ok=True, stored="notes.txt", size=7500, sha256="0" * 64))
    conv = summary_json(engine_of([_upload(("filename", "filesize"), reply=status)])
                        )["conversations"][0]
    assert conv["protocol"] == "filexfer" and not conv["malformed"]
    assert conv["protocol_choice"]["by"] == "probe"


def test_stated_lenmsg_says_what_the_length_looks_like():
    conv = summary_json(engine_of([_upload()], {7005: "lenmsg"}))["conversations"][0]
    assert conv["protocol"] == "lenmsg"
    bad = conv["malformed"][0]
    assert bad.startswith("c2s") and "frame too large" in bad and "try --decode-as 7005=lenmsg:native" in bad
    native = summary_json(engine_of([_upload()], {7005: "lenmsg:native"}))["conversations"][0]
    assert "look like text" in native["malformed"][0]
    assert "try --decode-as 7005=infer" in native["malformed"][0]


def test_summary_text_shows_guess_and_confidence(tmp_path):
    pcap = str(tmp_path / "lecture.pcap")
    write_pcap(pcap, [_upload()])
    out = subprocess.run([sys.executable, "-m", "analyzer", "summary", pcap], text=True,
                         capture_output=True, timeout=120, env={"COLUMNS": "80", "PATH": ""})
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "(inferred)" in text
    assert "framing c2s: 4-byte little-endian header length, JSON header" in " ".join(
        text.split())
    assert "confidence 1.00" in text or "confidence 0.9" in text
    assert "rejected: filexfer: header has no string 'filename'" in " ".join(text.split())
    assert all(len(line) <= 80 for line in text.splitlines())
