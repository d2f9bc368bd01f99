"""Socket helpers of the lab programs: addresses as "ip:port" and send/recv that record the
application I/O sidecar (analyzer.sources.sidecar) when a writer is given."""
from __future__ import annotations

import re
import socket
import struct

from analyzer.sources.sidecar import AppIOWriter

# the two byte orders of a 4-byte length prefix (dissectors' "network" and "native" variants)
_LENGTH = {"network": struct.Struct("!I"), "native": struct.Struct("<i")}
_ORDER_WORDS = {"network": "a network-order (big-endian) length, as struct.pack('!I', n) writes",
                "native": "a little-endian length, as struct.pack('i', n) writes on x86"}
_BAD_LENGTH = re.compile(r"(?:too large: |negative length )(-?[0-9]+)")
_DECODE_AS_CLAUSE = re.compile(r" \([^()]*--decode-as[^()]*\)")   # the analyzer's hint in a codec error
_DECODE_AS_TRY = re.compile(r":? try --decode-as [^)]*")


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

    def recv(self, n: int, flags: int = 0) -> bytes:
        data = self.sock.recv(n, flags)
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


def other_byte_order(n: int, variant: str, limit: int) -> tuple[str, int] | None:
    """When the length `n` (read as `variant`) read the other way round is a plausible
    length (0..limit): (the other variant, that length); else None."""
    other = "native" if variant == "network" else "network"
    try:
        raw = _LENGTH[variant].pack(n)
    except struct.error:
        return None
    (m,) = _LENGTH[other].unpack(raw)
    return (other, m) if 0 <= m <= limit else None


def length_error_text(error: str, variant: str, limit: int, protocol: str, side: str = "server") -> str:
    """A codec error as a server or client says it: the analyzer's --decode-as advice replaced
    by what to run when the length looks like the other byte order."""
    hint = byte_order_hint(error, variant, limit, protocol, side)
    if hint:
        return _DECODE_AS_CLAUSE.sub("", error) + hint
    return _DECODE_AS_TRY.sub("", error)


def byte_order_hint(error: str, variant: str, limit: int, protocol: str, side: str = "server") -> str:
    """For a codec error about an implausible length prefix ("frame too large: 83886080 ..."):
    a clause saying it looks like the other byte order and what to run; else ''."""
    m = _BAD_LENGTH.search(error)
    found = other_byte_order(int(m.group(1)), variant, limit) if m else None
    if found is None:
        return ""
    other, length = found
    if side == "server":
        return (f" (it looks like {_ORDER_WORDS[other]}: {length}; for such clients run "
                f"`wirelab serve {protocol} --variant {other}`, or make the client use --variant {variant})")
    return (f" (the server seems to use the other byte order, {_ORDER_WORDS[other]}: {length}; "
            f"try `wirelab client {protocol} --variant {other}`)")
