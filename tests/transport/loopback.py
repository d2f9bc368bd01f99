"""Real loopback traffic captured by tcpdump on the exact ports of a throwaway test."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager


def can_capture() -> bool:
    return shutil.which("tcpdump") is not None and os.geteuid() == 0


def free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_END = b"wirelab-test-end-of-capture"


def _read(path) -> bytes:
    with open(path, "rb") as f:
        return f.read()


@contextmanager
def tcpdump(path, bpf: str, settle: float = 0.1, startup: float = 1.0):
    """Capture `bpf` on lo into `path` for the duration of the with-block.

    tcpdump says "listening" a little before its filter really sees packets, so we also
    capture one extra UDP port and send probe datagrams to it until the first one is in the
    file: the capture then starts with one udp conversation of probes (udp.stream 0).  At
    the end one more probe (an end marker) is sent and awaited in the file, so a slow
    tcpdump on a loaded machine loses nothing.
    """
    probe_port = free_port(socket.SOCK_DGRAM)
    proc = subprocess.Popen(["tcpdump", "-U", "-n", "-i", "lo",
                             "-w", str(path), f"({bpf}) or (udp dst port {probe_port})"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        deadline = time.monotonic() + 10
        while not (os.path.exists(path) and os.path.getsize(path) > 24):
            if time.monotonic() > deadline or proc.poll() is not None:
                err = proc.stderr.read1(4096) if proc.poll() is not None else b""
                raise RuntimeError(f"tcpdump did not start capturing: {err!r}")
            probe.sendto(b"probe", ("127.0.0.1", probe_port))
            time.sleep(0.05)
        time.sleep(startup)
        yield
        # the end marker reaches the file after every packet sent before it
        deadline = time.monotonic() + 15
        probe.sendto(_END, ("127.0.0.1", probe_port))
        while _END not in _read(path):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("tcpdump did not write the end marker in time")
            time.sleep(0.05)
        time.sleep(settle)
    finally:
        probe.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        proc.stderr.close()
