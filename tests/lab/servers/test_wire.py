"""The client knobs change what goes on the wire: captured with tcpdump on the test's port."""
from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from analyzer.lab import clients, start_server

pytestmark = pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed")


def capture(port: int, path: str):
    p = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-n", "-w", path, f"tcp port {port}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # wait until tcpdump is listening
    deadline = time.monotonic() + 5
    line = b""
    while time.monotonic() < deadline and b"listening" not in line:
        line = p.stderr.readline()
    return p


def c2s_data_segments(path: str, server_port: int) -> list[int]:
    from scapy.all import TCP, rdpcap
    out = []
    for pkt in rdpcap(path):
        if TCP in pkt and pkt[TCP].dport == server_port and len(pkt[TCP].payload):
            out.append(len(pkt[TCP].payload))
    return out


def _burst_segments(tmp_path, nodelay: bool, attempt: int) -> list[int]:
    path = str(tmp_path / f"c{attempt}.pcap")
    with start_server("chat") as srv:
        tcpdump = capture(srv.port, path)
        try:
            msgs = [b"round1", b"round2", b"round3", b"m1", b"m2", b"m3", b"m4"]
            replies = clients.chat_client(*srv.address, msgs, wait=False, rounds=3, nodelay=nodelay)
            assert b"".join(replies) == b"".join(msgs).upper()
            time.sleep(1.0)
        finally:
            tcpdump.terminate()
            tcpdump.wait(5)
    segs = c2s_data_segments(path, srv.port)
    assert segs[:3] == [6, 6, 6]
    assert sum(segs[3:]) == 8
    return segs[3:]


@pytest.mark.parametrize("nodelay", [False, True])
def test_burst_after_rounds_coalesces_only_with_nagle(tmp_path, nodelay):
    """Nagle: m2..m4 wait for the ACK of m1, then go together; TCP_NODELAY: one segment per
    send.  Both are timing phenomena: on a loaded machine the sender can be descheduled long
    enough for the ACK to come back (no coalescing with Nagle), or the kernel can autocork two
    sends with NODELAY, so the phenomenon must show in one of three connections."""
    bursts = []
    for attempt in range(3):
        burst = _burst_segments(tmp_path, nodelay, attempt)
        bursts.append(burst)
        if (burst == [2, 2, 2, 2]) if nodelay else (len(burst) < 4):
            return
    pytest.fail(f"phenomenon not seen in 3 connections (nodelay={nodelay}): bursts {bursts}")
