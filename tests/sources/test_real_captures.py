"""Real loopback captures written by tcpdump (pcap) and dumpcap (pcapng) read like tshark reads them."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from analyzer.decode import decode_frame
from analyzer.sources.open import open_capture

pytestmark = pytest.mark.live


def _traffic(port_holder: dict, ready: threading.Event) -> None:
    """A lenmsg-ish echo exchange over a real loopback TCP connection."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", port_holder["port"]))
    srv.listen(1)
    ready.set()
    cli = socket.create_connection(("127.0.0.1", port_holder["port"]), timeout=5)
    conn, _ = srv.accept()
    conn.settimeout(5)
    for i in range(5):
        msg = (b"m%d" % i) * (i * 300 + 1)
        cli.sendall(len(msg).to_bytes(4, "big") + msg)
        got = b""
        while len(got) < 4 + len(msg):
            got += conn.recv(65536)
        conn.sendall(got.upper())
        back = b""
        while len(back) < len(got):
            back += cli.recv(65536)
    cli.close()
    conn.close()
    srv.close()


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _wait_for_file(path: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.path.exists(path) and os.path.getsize(path) >= 24:
            return
        time.sleep(0.05)
    raise AssertionError(f"capture {path} never started")


def _fields(path: str) -> list[tuple]:
    out = subprocess.run(
        ["tshark", "-n", "-r", path, "-o", "tcp.relative_sequence_numbers:FALSE", "-T", "fields",
         "-e", "frame.time_epoch", "-e", "frame.len", "-e", "ip.src", "-e", "tcp.srcport",
         "-e", "tcp.dstport", "-e", "tcp.seq_raw", "-e", "tcp.len", "-e", "tcp.flags"],
        capture_output=True, text=True, timeout=60).stdout
    rows = []
    for line in out.splitlines():
        t, ln, src, sp, dp, seq, tl, fl = line.split("\t")
        rows.append((round(float(t), 6), int(ln), src, int(sp), int(dp), int(seq), int(tl),
                     int(fl, 16)))
    return rows


def _ours(path: str) -> list[tuple]:
    src = open_capture(path)
    rows = []
    for r in src:
        d = decode_frame(r.linktype, r.data, r.origlen)
        assert d.malformed is None
        rows.append((round(r.ts, 6), r.origlen, d.src, d.sport, d.dport, d.seq, d.payload_len,
                     d.flags))
    assert src.warnings == []
    return rows


def test_tcpdump_and_dumpcap_captures(tmp_path):
    port = _free_port()
    pcap, pcapng = str(tmp_path / "td.pcap"), str(tmp_path / "dc.pcapng")
    anyc = str(tmp_path / "any.pcap")                   # tcpdump -i any: Linux SLL2
    flt = f"tcp port {port}"
    procs = [subprocess.Popen(["tcpdump", "-U", "-n", "-i", "lo", "-w", pcap, flt],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
             subprocess.Popen(["dumpcap", "-q", "-i", "lo", "-f", flt, "-w", pcapng],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
             subprocess.Popen(["tcpdump", "-U", "-n", "-i", "any", "-w", anyc, flt],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        _wait_for_file(pcap)
        _wait_for_file(pcapng)
        _wait_for_file(anyc)
        time.sleep(0.5)
        ready = threading.Event()
        _traffic({"port": port}, ready)
        time.sleep(1.0)
    finally:
        for p in procs:
            p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
    assert open_capture(pcap).format == "pcap" and open_capture(pcapng).format == "pcapng"
    a, b = _ours(pcap), _ours(pcapng)
    assert a == _fields(pcap)
    assert b == _fields(pcapng)
    assert len(a) >= 15                     # handshake, 10 messages + acks, teardown
    assert [r[1:] for r in a] == [r[1:] for r in b]   # both tools saw the same packets
    c = _ours(anyc)
    assert c == _fields(anyc)
    assert {r.linktype for r in open_capture(anyc)} == {276}
    assert [r[2:] for r in c] == [r[2:] for r in a]   # same packets, other link header
