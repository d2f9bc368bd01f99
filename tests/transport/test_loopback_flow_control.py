"""A real loopback bulk transfer into a slow reader with a tiny receive buffer: zero windows,
window-full segments, zero-window probes and window updates, exactly where tshark sees them."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.transport.helpers import flag_mismatches, run_flows, stream_mismatches
from tests.transport.loopback import can_capture, free_port, tcpdump
from tests.transport.tshark_oracle import have_tshark, tshark_rows

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not (can_capture() and have_tshark()),
                                 reason="needs root, tcpdump and tshark")]

TOTAL = 200_000


def slow_transfer(port: int) -> int:
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    lst.bind(("127.0.0.1", port))
    lst.listen(1)
    c = socket.socket()
    c.settimeout(10)
    c.connect(("127.0.0.1", port))
    s, _ = lst.accept()
    s.settimeout(10)
    sender = threading.Thread(target=c.sendall, args=(b"x" * TOTAL,), daemon=True)
    sender.start()
    time.sleep(0.6)                      # the reader is busy: the window closes
    got = 0
    deadline = time.monotonic() + 20
    while got < TOTAL and time.monotonic() < deadline:
        chunk = s.recv(2048)
        if not chunk:
            break
        got += len(chunk)
        if got < TOTAL // 4:
            time.sleep(0.002)            # slow at first, then drain
    sender.join(10)
    c.close()
    s.close()
    lst.close()
    return got


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    path = tmp_path_factory.mktemp("fc") / "slow.pcap"
    port = free_port()
    with tcpdump(path, f"tcp port {port}"):
        got = slow_transfer(port)
    assert got == TOTAL
    return path, tshark_rows(path)


def test_flow_control_flags_match_tshark(capture):
    path, rows = capture
    assert stream_mismatches(path, rows) == []
    assert flag_mismatches(path, rows) == []


def test_the_capture_really_shows_flow_control(capture):
    path, rows = capture
    seen = set().union(*(r["flags"] for r in rows))
    assert {"zero_window", "window_update"} <= seen, seen
    table, _ = run_flows(path)
    flow = [f for f in table.conversations if f.transport == "tcp"][0]
    assert flow.analysis_counts["zero_window"] == sum("zero_window" in r["flags"] for r in rows)
    assert "W" in flow.history().upper()
