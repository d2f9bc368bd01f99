"""Socket helpers of the lab programs: addresses as "ip:port" and send/recv that record the
application I/O sidecar (analyzer.sources.sidecar) when a writer is given."""
from __future__ import annotations

import socket

from analyzer.sources.sidecar import AppIOWriter


def addr_text(addr) -> str:
    """('127.0.0.1', 9000) -> '127.0.0.1:9000'; IPv6 -> '[::1]:9000'."""
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def family_of(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


class AppSocket:
    """A connected TCP socket whose send_all()/recv() calls are recorded in the sidecar.

    side: "client" or "server" (the program that owns this end).
    """

    def __init__(self, sock: socket.socket, side: str, appio: AppIOWriter | None = None,
                 transport: str = "tcp"):
        self.sock = sock
        self.side = side
        self.appio = appio
        self.transport = transport
        local, peer = addr_text(sock.getsockname()), addr_text(sock.getpeername())
        self.client, self.server = (local, peer) if side == "client" else (peer, local)
        self._out_dir, self._in_dir = ("c2s", "s2c") if side == "client" else ("s2c", "c2s")
        self.sent = 0       # stream offset of the next byte we send
        self.received = 0   # stream offset of the next byte we receive

    def _record(self, op: str, direction: str, offset: int, length: int) -> None:
        if self.appio is not None:
            self.appio.record(client=self.client, server=self.server, side=self.side, op=op,
                              direction=direction, offset=offset, length=length,
                              transport=self.transport)

    def send_all(self, data: bytes, flags: int = 0) -> None:
        """sendall() as ONE application send (one sidecar record)."""
        if not data:
            return
        self.sock.sendall(data, flags)
        self._record("send", self._out_dir, self.sent, len(data))
        self.sent += len(data)

    def recv(self, n: int) -> bytes:
        data = self.sock.recv(n)
        if data:
            self._record("recv", self._in_dir, self.received, len(data))
            self.received += len(data)
        return data

    def recv_exact(self, n: int, bufsize: int = 65536) -> bytes:
        """Read until n bytes arrived or the peer closed (then fewer)."""
        parts, have = [], 0
        while have < n:
            chunk = self.recv(min(bufsize, n - have))
            if not chunk:
                break
            parts.append(chunk)
            have += len(chunk)
        return b"".join(parts)

    def settimeout(self, t: float | None) -> None:
        self.sock.settimeout(t)

    def set_nodelay(self, on: bool) -> None:
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1 if on else 0)

    def shutdown_write(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def connect(host: str, port: int, *, timeout: float = 10.0, nodelay: bool | None = None,
            appio: AppIOWriter | None = None) -> AppSocket:
    """A connected client AppSocket (TCP_NODELAY set only when nodelay is not None)."""
    sock = socket.socket(family_of(host), socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        if nodelay is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1 if nodelay else 0)
        sock.connect((host, port))
    except BaseException:
        sock.close()
        raise
    return AppSocket(sock, "client", appio)
