"""Memory amplification: connections that each hold most of a 16 MiB lenmsg frame must not
grow `wirelab serve lenmsg` past its buffer budget, and the memory goes back to the system
once they close.  The server runs as its own process; its RSS is read from /proc."""
from __future__ import annotations

import socket
import struct
import threading
import time

import pytest

from tests.lab.servers.hostile import raise_fd_limit, rss_bytes
from tests.lab.servers.test_cli import serve, stop

MIB = 1 << 20


def hold_partial_frames(port: int, count: int, nbytes: int) -> list[socket.socket]:
    """`count` connections, each sending `nbytes` of a declared 16 MiB frame (never finished)."""
    payload = struct.pack("!I", 16 * MIB) + b"p" * nbytes
    socks = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(count)]

    def send(s):
        try:
            s.sendall(payload)
        except OSError:          # closed by the server: over the budget
            pass

    threads = [threading.Thread(target=send, args=(s,)) for s in socks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return socks


def settled_rss(pid: int, rounds: int = 20) -> int:
    """RSS once it stops changing (the server has read what the kernel held)."""
    last = rss_bytes(pid)
    for _ in range(rounds):
        time.sleep(0.1)
        now = rss_bytes(pid)
        if abs(now - last) < MIB:
            return now
        last = now
    return last


def measure(count: int, nbytes: int, *extra: str) -> tuple[int, int, int, str]:
    raise_fd_limit(count + 256)
    p, port = serve("lenmsg", "--quiet", *extra)
    try:
        before = settled_rss(p.pid)
        socks = hold_partial_frames(int(port), count, nbytes)
        held = settled_rss(p.pid)
        for s in socks:
            s.close()
        time.sleep(0.5)
        after = settled_rss(p.pid)
    finally:
        out, _ = stop(p)
    return before, held, after, out


def test_8_connections_holding_15_mib_each_stay_within_a_32_mib_budget():
    before, held, after, out = measure(8, 15 * MIB, "--buffer-budget", "32M")
    assert held - before <= 60 * MIB, (before, held)
    assert after - before <= 20 * MIB, (before, after)
    assert "closed over the buffer budget" in out and "0 closed over" not in out


@pytest.mark.slow
def test_64_connections_holding_15_mib_each_grow_rss_by_at_most_100_mb():
    before, held, after, out = measure(64, 15 * MIB)
    assert held - before <= 100 * 1000 * 1000, (before, held)
    assert after - before <= 20 * MIB, (before, after)
