"""Small loopback peers the scenarios drive step by step, recording every send()/recv().

Scenarios use the reference servers (Lab.reference_server) where their behaviour
fits; the peers here are for what needs every call at a known moment (a think time before
every read in a child process, four sends back to back, a close before or after the peer's).
"""
from __future__ import annotations

import json
import os
import socket
import struct
import threading
import time

from analyzer.lab.netio import addr_text as addr

IO_TIMEOUT = 10.0


class BufferedAppIO:
    """The sidecar writer of the lab: same lines as analyzer.appio.AppIOWriter, but kept in
    memory until flush(), so recording a send() costs no write() between two sends."""

    def __init__(self, path: str):
        self.path = path
        self._lines: list[str] = []
        self._lock = threading.Lock()

    def record(self, *, client: str, server: str, side: str, op: str, direction: str,
               offset: int, length: int, transport: str = "tcp") -> None:
        rec = {"client": client, "server": server, "transport": transport, "side": side,
               "op": op, "dir": direction, "offset": offset, "length": length,
               "time": time.time()}
        with self._lock:
            self._lines.append(json.dumps(rec))

    def flush(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
        if lines:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write("".join(line + "\n" for line in lines))

    def close(self) -> None:
        self.flush()


class AppConn:
    """A connected TCP socket whose send()/recv() calls go into the sidecar."""

    def __init__(self, sock: socket.socket, side: str, appio,
                 nodelay: bool = False):
        self.sock = sock
        self.side = side
        self.appio = appio
        sock.settimeout(IO_TIMEOUT)
        if nodelay:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        local, peer = addr(sock.getsockname()), addr(sock.getpeername())
        self.client, self.server = (local, peer) if side == "client" else (peer, local)
        self.sent = 0
        self.received = 0
        self.reads: list[bytes] = []

    @classmethod
    def connect(cls, port: int, appio=None, nodelay: bool = False, host: str = "127.0.0.1"):
        s = socket.create_connection((host, port), timeout=IO_TIMEOUT)
        return cls(s, "client", appio, nodelay)

    def _dir(self, op: str) -> str:
        sending_c2s = self.side == "client"
        return ("c2s" if sending_c2s else "s2c") if op == "send" else ("s2c" if sending_c2s else "c2s")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)
        if self.appio is not None and data:
            self.appio.record(client=self.client, server=self.server, side=self.side, op="send",
                              direction=self._dir("send"), offset=self.sent, length=len(data))
        self.sent += len(data)

    def recv(self, n: int = 65536) -> bytes:
        data = self.sock.recv(n)
        if self.appio is not None and data:
            self.appio.record(client=self.client, server=self.server, side=self.side, op="recv",
                              direction=self._dir("recv"), offset=self.received, length=len(data))
        self.received += len(data)
        if data:
            self.reads.append(data)
        return data

    def recv_exactly(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.recv(n - len(buf))
            if not chunk:
                break
            buf += chunk
        return buf

    def recv_until_eof(self, n: int = 65536, limit: int = 1 << 24) -> bytes:
        buf = b""
        while len(buf) < limit:
            chunk = self.recv(n)
            if not chunk:
                break
            buf += chunk
        return buf

    def shutdown_write(self) -> None:
        self.sock.shutdown(socket.SHUT_WR)

    def abort(self) -> None:
        """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def upper_echo(first_read_delay: float = 0.0, recv_size: int = 65536, close_first: bool = False,
               read_delay: float = 0.0):
    """A chat server handler: answers each read upper-cased until the client closes.

    first_read_delay: sleep once before the first recv(); read_delay: before every recv()."""
    def handler(conn: AppConn) -> None:
        if first_read_delay:
            time.sleep(first_read_delay)
        while True:
            if read_delay:
                time.sleep(read_delay)
            data = conn.recv(recv_size)
            if not data:
                break
            conn.send(data.upper())
            if close_first:
                break
    return handler


class ForkedServer:
    """Serves `max_conns` connections one after another in a CHILD process.

    A server thread in the client's process takes the GIL every time a segment arrives and
    answers before the client's next send() can run, so "four sends back to back" would
    never be back to back.  In its own process the server competes for nothing.
    """

    def __init__(self, listener: socket.socket, handler, sidecar: str | None, max_conns: int):
        self.port = listener.getsockname()[1]
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - runs in the child
            code = 0
            try:
                appio = BufferedAppIO(sidecar) if sidecar else None
                listener.settimeout(IO_TIMEOUT)
                for _ in range(max_conns):
                    s, _ = listener.accept()
                    conn = AppConn(s, "server", appio)
                    try:
                        handler(conn)
                    finally:
                        conn.close()
                if appio is not None:
                    appio.close()
            except BaseException:
                code = 1
            finally:
                os._exit(code)

    def join(self, timeout: float = 10.0) -> bool:
        """Wait for the child; kill it after `timeout`.  True when it exited cleanly."""
        if self.pid <= 0:
            return True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.pid = 0
                return os.waitstatus_to_exitcode(status) == 0
            time.sleep(0.01)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        self.pid = 0
        return False

    def stop(self) -> None:
        self.join(0.5)
