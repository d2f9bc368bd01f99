"""Hostile clients for the reference servers, bounded in count and time, loopback only.

Used by tests/lab/servers/test_hostile*.py and benchmarks/bench_servers.py:
  * Crowd: N connections that stay silent, or trickle one byte of a never-finished message
    every `interval` seconds (slowloris);
  * real_request(): one real client of a protocol (what must still be served);
  * rss_bytes(): a process's resident memory, from /proc.
"""
from __future__ import annotations

import json
import resource
import socket
import struct
import threading
import time

from analyzer.lab import clients

SECRET = b"hostile-test-secret"

# the start of a message that is never finished, per protocol (sent one byte at a time)
NEVER_ENDING = {
    "chat": b"x" * 4096,      # chat has no messages: every byte is answered (see the manual)
    "lenmsg": struct.pack("!I", 1 << 20) + b"y" * 4096,
    "filexfer": None,         # built below: a header then content that never completes
    "auth": b"z" * 16,        # half an answer
    "bigreply": b"GET " + b"a" * 200,
}
_HEADER = json.dumps({"filename": "slow.bin", "filesize": 1 << 30}).encode()
NEVER_ENDING["filexfer"] = struct.pack("!I", len(_HEADER)) + _HEADER[:-1]


def raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


def rss_bytes(pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


class Crowd:
    """`count` open connections to `address`: silent, or trickling (mode="trickle") one byte
    of NEVER_ENDING[protocol] to each every `interval` seconds.  Context manager."""

    def __init__(self, address, protocol: str, count: int, mode: str = "silent", interval: float = 5.0):
        self.address, self.protocol, self.mode, self.interval = address, protocol, mode, interval
        self.socks: list[socket.socket] = []
        self._pos: list[int] = []
        self._stop = threading.Event()
        self._thread = None
        for _ in range(count):
            s = socket.create_connection(address, timeout=10)
            s.setblocking(False)
            self.socks.append(s)
            self._pos.append(0)

    def __enter__(self) -> "Crowd":
        if self.mode == "trickle":
            self.trickle_once()            # every connection has begun its message
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def trickle_once(self) -> None:
        data = NEVER_ENDING[self.protocol]
        for i, s in enumerate(self.socks):
            try:
                s.send(data[self._pos[i] % len(data):][:1])
                self._pos[i] += 1
                if self.protocol == "chat":
                    s.recv(65536)          # drop the echo
            except OSError:
                pass

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.trickle_once()

    def closed_count(self, wait: float = 0.0) -> int:
        """How many of the connections the server has closed (EOF or reset)."""
        closed = 0
        for s in self.socks:
            s.settimeout(wait)
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        closed += 1
                        break
            except (socket.timeout, BlockingIOError):
                pass
            except OSError:
                closed += 1
            s.setblocking(False)
        return closed

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        for s in self.socks:
            s.close()


def real_request(protocol: str, address, timeout: float = 30.0, upload_name: str = "real.txt") -> bool:
    """One real client exchange; True when it got the right answer."""
    host, port = address
    if protocol == "chat":
        return clients.chat_client(host, port, [b"real"], timeout=timeout) == [b"REAL"]
    if protocol == "lenmsg":
        return clients.lenmsg_client(host, port, [b"real"], timeout=timeout) == [b"REAL"]
    if protocol == "auth":
        return clients.auth_client(host, port, SECRET, [b"real"], timeout=timeout) == [b"REAL"]
    if protocol == "bigreply":
        return clients.bigreply_client(host, port, ["small"], timeout=timeout)[0].startswith(b"REPORT small")
    if protocol == "filexfer":
        return clients.upload_bytes(host, port, upload_name, b"real data", timeout=timeout)["ok"]
    raise ValueError(protocol)


def timed_request(protocol: str, address, timeout: float = 30.0, upload_name: str = "real.txt") -> float:
    """Seconds one real exchange took (benchmarks only: tests never assert times)."""
    t0 = time.perf_counter()
    if not real_request(protocol, address, timeout, upload_name):
        raise AssertionError(f"{protocol}: wrong answer")
    return time.perf_counter() - t0
