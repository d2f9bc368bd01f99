"""Real loopback traffic for the Wireshark interop tests: plain-socket peers writing the wire
formats of docs/protocols.md, captured with tcpdump -U on the exact ports used.

Every server binds port 0 (a free port); every loop is bounded in count and time.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import select
import signal
import socket
import struct
import subprocess
import threading
import time

TIMEOUT = 5.0
PAUSE = 0.06          # between the pieces of a split message (long enough to flush a segment)


# ------------------------------------------------------------------ capture

class Tcpdump:
    """`tcpdump -i lo -U -w PATH <filter>` for the duration of a with-block."""

    def __init__(self, path: str, bpf: str):
        self.path, self.bpf = path, bpf
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Tcpdump":
        self.proc = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-n", "-s", "0", "-w", self.path, self.bpf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + TIMEOUT
        buf = b""
        while b"listening on" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self._stop()
                raise RuntimeError(f"tcpdump did not start: {buf.decode(errors='replace')}")
            r, _, _ = select.select([self.proc.stderr], [], [], left)
            if r:
                chunk = os.read(self.proc.stderr.fileno(), 4096)
                if not chunk:
                    continue
                buf += chunk
        return self

    def _stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(TIMEOUT)
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()

    def __exit__(self, *exc) -> None:
        time.sleep(0.8)   # let tcpdump write the last packets
        self._stop()


def port_filter(tcp_ports=(), udp_ports=()) -> str:
    parts = [f"tcp port {p}" for p in tcp_ports] + [f"udp port {p}" for p in udp_ports]
    return " or ".join(parts)


# ------------------------------------------------------------------ helpers

def recv_exact(sock: socket.socket, n: int) -> bytes:
    out = bytearray()
    deadline = time.monotonic() + TIMEOUT
    while len(out) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"wanted {n} bytes, got {len(out)}")
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError(f"EOF after {len(out)} of {n} bytes")
        out += chunk
    return bytes(out)


def recv_until_eof(sock: socket.socket, limit: int = 1 << 22) -> bytes:
    out = bytearray()
    while len(out) < limit:
        chunk = sock.recv(65536)
        if not chunk:
            break
        out += chunk
    return bytes(out)


def send_pieces(sock: socket.socket, data: bytes, pieces: int) -> None:
    """Send `data` in `pieces` parts with pauses: one message over several segments."""
    step = max(1, -(-len(data) // pieces))
    for i in range(0, len(data), step):
        sock.sendall(data[i:i + step])
        time.sleep(PAUSE)


def send_corked(sock: socket.socket, *parts: bytes) -> None:
    """Several messages in ONE segment (MSG_MORE on all but the last)."""
    for p in parts[:-1]:
        sock.send(p, socket.MSG_MORE)
    sock.sendall(parts[-1])


def frame(payload: bytes, variant: str = "network") -> bytes:
    return struct.pack("!I" if variant == "network" else "<i", len(payload)) + payload


class Server:
    """A one-port TCP or UDP server on 127.0.0.1:0 running `handler` per connection."""

    def __init__(self, handler, transport: str = "tcp", connections: int = 1):
        self.handler, self.transport = handler, transport
        kind = socket.SOCK_STREAM if transport == "tcp" else socket.SOCK_DGRAM
        self.sock = socket.socket(socket.AF_INET, kind)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.errors: list[BaseException] = []
        self.connections = connections
        if transport == "tcp":
            self.sock.listen(8)
        self.sock.settimeout(TIMEOUT)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "Server":
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            if self.transport == "udp":
                self.handler(self.sock)
                return
            for _ in range(self.connections):
                conn, _ = self.sock.accept()
                conn.settimeout(TIMEOUT)
                with conn:
                    self.handler(conn)
        except BaseException as exc:  # reported by join()
            self.errors.append(exc)

    def join(self) -> None:
        self.thread.join(TIMEOUT * 2)
        self.sock.close()
        if self.errors:
            raise self.errors[0]


def client(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


# ------------------------------------------------------------------ protocols

def lenmsg_server(variant: str = "network"):
    fmt = "!I" if variant == "network" else "<i"

    def handler(conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            head = conn.recv(4, socket.MSG_WAITALL)
            if len(head) < 4:
                return
            (n,) = struct.unpack(fmt, head)
            conn.sendall(frame(recv_exact(conn, n).upper(), variant))
    return handler


def lenmsg_client(port: int, variant: str = "network") -> None:
    with client(port) as s:
        for word in (b"hello", b"world", b""):                     # request/reply rounds
            s.sendall(frame(word, variant))
            recv_exact(s, 4 + len(word))
        send_corked(s, frame(b"abc", variant), frame(b"defgh", variant), frame(b"i", variant))
        recv_exact(s, 4 * 3 + 9)                                   # three messages, one segment
        big = frame(bytes(range(256)) * 20, variant)               # 5124 bytes
        send_pieces(s, big, 3)                                     # one message, 3 segments
        recv_exact(s, len(big))
        s.shutdown(socket.SHUT_WR)
        recv_until_eof(s)


def chat_server(conn: socket.socket) -> None:
    while True:
        data = conn.recv(65536)
        if not data:
            return
        conn.sendall(data.upper())


def chat_client(port: int) -> None:
    with client(port) as s:
        s.sendall(b"hello there\n")
        recv_exact(s, 12)
        send_corked(s, b"one\n", b"two\n", b"three\n")             # three lines, one segment
        recv_exact(s, 14)
        send_pieces(s, b"a line that arrives in pieces\n", 3)     # one line, 3 segments
        recv_exact(s, 30)
        s.shutdown(socket.SHUT_WR)
        recv_until_eof(s)


def filexfer_server(variant: str = "network"):
    fmt = "!I" if variant == "network" else "<i"
    store: dict[str, bytes] = {}

    def status(obj: dict) -> bytes:
        return frame(json.dumps(obj).encode(), variant)

    def handler(conn: socket.socket) -> None:
        while True:
            head = conn.recv(4, socket.MSG_WAITALL)
            if len(head) < 4:
                return
            (h,) = struct.unpack(fmt, head)
            info = json.loads(recv_exact(conn, h))
            if info.get("op") == "get":
                data = store.get(info["filename"], b"")
                conn.sendall(status({"ok": True, "size": len(data),
                                     "sha256": hashlib.sha256(data).hexdigest()}) + data)
                continue
            data = recv_exact(conn, info["filesize"])
            store[info["filename"]] = data
            conn.sendall(status({"ok": True, "stored": info["filename"], "size": len(data),
                                 "sha256": hashlib.sha256(data).hexdigest()}))
    return handler


def filexfer_client(port: int, variant: str = "network") -> None:
    with client(port) as s:
        def put(name: str, data: bytes, pieces: int) -> None:
            head = json.dumps({"filename": name, "filesize": len(data)}).encode()
            send_pieces(s, frame(head, variant) + data, pieces)
            (n,) = struct.unpack("!I" if variant == "network" else "<i", recv_exact(s, 4))
            recv_exact(s, n)
        put("small.txt", b"tiny file\n", 1)
        put("big.bin", os.urandom(3000), 4)                       # upload over 4 segments
        get = json.dumps({"op": "get", "filename": "big.bin"}).encode()
        s.sendall(frame(get, variant))
        (n,) = struct.unpack("!I" if variant == "network" else "<i", recv_exact(s, 4))
        size = json.loads(recv_exact(s, n))["size"]
        recv_exact(s, size)
        s.shutdown(socket.SHUT_WR)
        recv_until_eof(s)


SECRET = b"lab secret"
DIGESTS = {"hmac-sha256": lambda c: hmac.new(SECRET, c, "sha256").digest(),
           "hmac-md5": lambda c: hmac.new(SECRET, c, "md5").digest(),
           "md5-hex": lambda c: hashlib.md5(SECRET + c).hexdigest().encode()}


def auth_server(variant: str = "hmac-sha256"):
    def handler(conn: socket.socket) -> None:
        challenge = os.urandom(32)
        conn.sendall(challenge)
        answer = recv_exact(conn, len(DIGESTS[variant](challenge)))
        if not hmac.compare_digest(answer, DIGESTS[variant](challenge)):
            return
        chat_server(conn)
    return handler


def auth_client(port: int, variant: str = "hmac-sha256") -> None:
    with client(port) as s:
        challenge = recv_exact(s, 32)
        send_corked(s, DIGESTS[variant](challenge), b"first line\n")   # answer + chat, one segment
        recv_exact(s, 11)
        s.sendall(b"second\n")
        recv_exact(s, 7)
        s.shutdown(socket.SHUT_WR)
        recv_until_eof(s)


def report_body(name: str, size: int) -> bytes:
    line = f"report {name}: all systems nominal\n".encode()
    return (line * (size // len(line) + 1))[:size]


def bigreply_server(conn: socket.socket) -> None:
    buf = b""
    served = 0
    while served < 16:
        data = conn.recv(65536)
        if not data:
            return
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            name = line[4:].decode()
            served += 1
            if name == "missing":
                conn.sendall(b"ERROR unknown report\n")
                continue
            body = report_body(name, 6000)
            reply = f"REPORT {name} {len(body)}\n".encode() + body
            if name == "slow":
                send_pieces(conn, reply, 3)                       # one reply over 3 segments
            else:
                conn.sendall(reply)


def bigreply_client(port: int) -> None:
    with client(port) as s:
        send_corked(s, b"GET alpha\n", b"GET beta\n")             # two requests, one segment
        for name in ("alpha", "beta"):
            head = b""
            while not head.endswith(b"\n"):
                head += recv_exact(s, 1)
            recv_exact(s, int(head.split()[2]))
        s.sendall(b"GET slow\n")
        head = b""
        while not head.endswith(b"\n"):
            head += recv_exact(s, 1)
        recv_exact(s, int(head.split()[2]))
        s.sendall(b"GET missing\n")
        recv_exact(s, len(b"ERROR unknown report\n"))
        s.shutdown(socket.SHUT_WR)
        recv_until_eof(s)


def udpecho_server(sock: socket.socket) -> None:
    for _ in range(3):
        data, addr = sock.recvfrom(65535)
        sock.sendto(data.upper(), addr)


def udpecho_client(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(TIMEOUT)
        for msg in (b"ping", b"x" * 3000, b"last datagram"):
            s.sendto(msg, ("127.0.0.1", port))
            s.recvfrom(65535)


# ------------------------------------------------------------------ sessions

def record_session(path: str, sessions: list[tuple]) -> dict[int, str]:
    """Run each (protocol, server_handler, client_fn, transport, variant[, connections]) on its
    own free port while tcpdump captures exactly those ports.  Returns wirelab's decode_as map."""
    servers = [(name, Server(handler, transport, *extra), client_fn, variant)
               for name, handler, client_fn, transport, variant, *extra in sessions]
    tcp_ports = [srv.port for _, srv, _, _ in servers if srv.transport == "tcp"]
    udp_ports = [srv.port for _, srv, _, _ in servers if srv.transport == "udp"]
    decode_as: dict[int, str] = {}
    with Tcpdump(path, port_filter(tcp_ports, udp_ports)):
        for name, srv, client_fn, variant in servers:
            srv.start()
            client_fn(srv.port)
            srv.join()
            decode_as[srv.port] = name + (f":{variant}" if variant else "")
    return decode_as


def default_sessions() -> list:
    return [
        ("lenmsg", lenmsg_server(), lenmsg_client, "tcp", ""),
        ("chat", chat_server, chat_client, "tcp", ""),
        ("filexfer", filexfer_server(), filexfer_client, "tcp", ""),
        ("auth", auth_server(), lambda p: (auth_client(p), auth_client(p)), "tcp", "", 2),
        ("bigreply", bigreply_server, bigreply_client, "tcp", ""),
        ("udpecho", udpecho_server, udpecho_client, "udp", ""),
    ]


def variant_sessions() -> list:
    return [
        ("lenmsg", lenmsg_server("native"), lambda p: lenmsg_client(p, "native"), "tcp", "native"),
        ("filexfer", filexfer_server("native"), lambda p: filexfer_client(p, "native"), "tcp", "native"),
        ("auth", auth_server("hmac-md5"), lambda p: auth_client(p, "hmac-md5"), "tcp", "hmac-md5"),
    ]
