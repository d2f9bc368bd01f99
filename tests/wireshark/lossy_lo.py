"""Real kernel TCP retransmissions: a bulk lenmsg transfer over a rate-limited, tiny-queue
loopback inside a PRIVATE network namespace (so nobody else's traffic is touched).

    unshare -n python3 -m tests.wireshark.lossy_lo OUT.pcap      # prints the server port

Inside the new namespace: lo up, a tbf qdisc (rate limit + small queue: tail drops), tcpdump
-U on lo, a lenmsg echo server and a client sending a few hundred KB.  Dropped segments are
never captured (the tap sees packets after the qdisc), so the capture shows real
retransmissions, duplicate ACKs and "previous segment not captured".
"""
from __future__ import annotations

import socket
import subprocess
import sys
import threading

from tests.wireshark import traffic


def _sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, timeout=10)


def main(out: str) -> int:
    _sh("ip", "link", "set", "lo", "mtu", "1500", "up")
    _sh("tc", "qdisc", "add", "dev", "lo", "root", "tbf", "rate", "20mbit", "burst", "16kb",
        "limit", "24kb")
    srv = traffic.Server(traffic.lenmsg_server())
    with traffic.Tcpdump(out, f"tcp port {srv.port}"):
        srv.start()
        with traffic.client(srv.port) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
            payload = bytes(range(256)) * 1024                   # 256 KB per message
            reader = threading.Thread(target=traffic.recv_exact, args=(s, 2 * (4 + len(payload))),
                                      daemon=True)
            reader.start()
            for _ in range(2):
                s.sendall(traffic.frame(payload))
            reader.join(traffic.TIMEOUT * 4)
            s.shutdown(socket.SHUT_WR)
            traffic.recv_until_eof(s)
        srv.join()
    print(srv.port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
