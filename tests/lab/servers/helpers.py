"""Small socket helpers for the server tests (plain sockets: the tests' own peer)."""
from __future__ import annotations

import socket
import struct
import time


def connect(address, timeout: float = 10.0) -> socket.socket:
    s = socket.create_connection(address, timeout=timeout)
    return s


def recv_exact(s: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def recv_all(s: socket.socket, limit: int = 1 << 24) -> bytes:
    """Everything until the server closes (or resets)."""
    buf = b""
    try:
        while len(buf) < limit:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except ConnectionResetError:
        pass
    return buf


def closed_by_peer(s: socket.socket, timeout: float = 5.0) -> bool:
    """True when the peer closes (EOF or RST) within `timeout` seconds."""
    s.settimeout(timeout)
    try:
        while True:
            if not s.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def abort(s: socket.socket) -> None:
    """Close with RST (SO_LINGER 0)."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def wait_for(pred, timeout: float = 5.0, step: float = 0.02) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()
