"""Fault 14 on a real file: snaplen cuts payloads; tshark and wirelab agree it is not malformed."""
from __future__ import annotations

import subprocess

from scapy.all import IP, TCP, Ether, raw

from analyzer.decode import decode_frame
from analyzer.sources.open import open_capture
from analyzer.sources.pcapwriter import PcapWriter


def test_snaplen_cut_payload_is_size_limited_not_malformed(tmp_path):
    path = str(tmp_path / "snap.pcap")
    frames = [raw(Ether(dst="00:00:00:00:00:01") / IP(src="127.0.0.1", dst="127.0.0.1") /
                  TCP(sport=40000, dport=9001, seq=1 + 300 * i, flags="PA") / (b"m" * 300))
              for i in range(3)]
    with PcapWriter(path, snaplen=96) as w:
        for i, f in enumerate(frames):
            w.write(1.0 + i, f)
    src = open_capture(path)
    recs = list(src)
    assert src.warnings == [] and all(len(r.data) == 96 and r.origlen == 354 for r in recs)
    for r in recs:
        d = decode_frame(r.linktype, r.data, r.origlen)
        assert d.malformed is None and d.transport == "tcp"
        assert (d.payload_len, d.captured_payload_len) == (300, 96 - 54)
    out = subprocess.run(["tshark", "-n", "-r", path, "-T", "fields", "-e", "tcp.len",
                          "-e", "_ws.malformed", "-e", "_ws.expert.message"],
                         capture_output=True, text=True, timeout=60).stdout
    lines = [ln.split("\t") for ln in out.splitlines()]
    assert [ln[0] for ln in lines] == ["300"] * 3
    assert all(ln[1] == "" for ln in lines)          # tshark: not malformed either
