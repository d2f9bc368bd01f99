"""The client side of one netem workload, run inside the client's namespace:

    ip netns exec NS python3 -m tests.netem.peer WORKLOAD HOST PORT [SCALE]

Uses the lab's reference clients (analyzer.lab.clients); the slow reader is a plain socket
that asks the lenmsg server for a big echo and reads it in small, slow pieces so the
receive window fills (zero window, window updates).  Exit 0 when the exchange completed.
"""
from __future__ import annotations

import os
import socket
import struct
import sys
import threading
import time

from analyzer.lab import clients


def echo(host: str, port: int, scale: float) -> None:
    messages = [b"m%05d " % i + b"x" * (i % 700) for i in range(int(4000 * scale))]
    for k in range(0, len(messages), 800):         # one connection per batch: the replies
        batch = messages[k:k + 800]                # of a batch fit the socket buffers
        replies = clients.lenmsg_client(host, port, batch, pipeline=True, timeout=30)
        assert replies == [m.upper() for m in batch]


def upload(host: str, port: int, scale: float) -> None:
    data = os.urandom(int(3_000_000 * scale))
    status = clients.upload_bytes(host, port, "netem.bin", data, timeout=60)
    assert status, status


def slow_reader(host: str, port: int, scale: float) -> None:
    size = int(1_000_000 * scale)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(60)
    sock.connect((host, port))
    sender = threading.Thread(target=sock.sendall, args=(struct.pack("!I", size) + b"s" * size,),
                              daemon=True)
    sender.start()
    got = 0
    want = 4 + size
    while got < want:
        chunk = sock.recv(2048)
        if not chunk:
            raise SystemExit(f"server closed after {got} of {want} bytes")
        got += len(chunk)
        time.sleep(0.0005)
    sender.join(60)
    sock.shutdown(socket.SHUT_WR)
    while sock.recv(4096):
        pass
    sock.close()


def chat(host: str, port: int, scale: float) -> None:
    messages = [b"line %04d of the netem chat\n" % i for i in range(int(700 * scale))]
    clients.chat_client(host, port, messages, wait=True, timeout=30)


def udp(host: str, port: int, scale: float) -> None:
    messages = [b"d%05d " % i + b"u" * (i % 1200) for i in range(int(800 * scale))]
    clients.udpecho_client(host, port, messages, timeout=0.05)


WORKLOADS = {"echo": echo, "upload": upload, "slow_reader": slow_reader, "chat": chat,
             "udp": udp}


def main(argv: list[str]) -> int:
    workload, host, port = argv[0], argv[1], int(argv[2])
    scale = float(argv[3]) if len(argv) > 3 else 1.0
    WORKLOADS[workload](host, port, scale)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
