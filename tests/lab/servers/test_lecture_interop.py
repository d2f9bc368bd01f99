"""md5-hex and hmac-md5 interoperate byte for byte with the classic lecture code:
a plain-socket lecture client against our server, our client against a lecture server."""
from __future__ import annotations

import hashlib
import hmac
import os
import socket
import threading

import pytest

from analyzer.lab import clients, start_server

SECRET = b"linhaifeng"


def lecture_answer(variant: str, challenge: bytes) -> bytes:
    if variant == "md5-hex":
        return hashlib.md5(SECRET + challenge).hexdigest().encode()
    return hmac.new(SECRET, challenge, "md5").digest()


def lecture_client(address, variant: str, text: bytes) -> bytes:
    """What the lecture's client does: recv(32), answer, then chat."""
    conn = socket.create_connection(address, timeout=10)
    try:
        msg = conn.recv(32)
        while len(msg) < 32:           # (the lecture reads once; loopback delivers 32 at once)
            msg += conn.recv(32 - len(msg))
        conn.sendall(lecture_answer(variant, msg))
        conn.sendall(text)
        data = b""
        while len(data) < len(text):
            chunk = conn.recv(1024)
            if not chunk:
                break
            data += chunk
        return data
    finally:
        conn.close()


class LectureServer:
    """The lecture's server: os.urandom(32), compare the digest, then upper-case chat."""

    def __init__(self, variant: str):
        self.variant = variant
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(10)
        self.results: list[bool] = []
        self.thread = threading.Thread(target=self.serve_one, daemon=True)
        self.thread.start()

    @property
    def address(self):
        return self.sock.getsockname()

    def serve_one(self):
        conn, _ = self.sock.accept()
        conn.settimeout(10)
        with conn:
            msg = os.urandom(32)
            conn.sendall(msg)
            digest = lecture_answer(self.variant, msg)
            response = conn.recv(len(digest))
            ok = hmac.compare_digest(response, digest)
            self.results.append(ok)
            if not ok:
                return
            while True:
                data = conn.recv(1024)
                if not data:
                    return
                conn.sendall(data.upper())


@pytest.mark.parametrize("variant", ["md5-hex", "hmac-md5"])
def test_lecture_client_against_our_server(variant):
    with start_server("auth", secret=SECRET, variant=variant) as srv:
        assert lecture_client(srv.address, variant, b"hello lecture") == b"HELLO LECTURE"


@pytest.mark.parametrize("variant", ["md5-hex", "hmac-md5"])
def test_our_client_against_the_lecture_server(variant):
    srv = LectureServer(variant)
    try:
        assert clients.auth_client(*srv.address, SECRET, [b"hi"], variant=variant) == [b"HI"]
        srv.thread.join(5)
        assert srv.results == [True]
    finally:
        srv.sock.close()


def test_wrong_variant_is_rejected_by_the_lecture_server():
    srv = LectureServer("hmac-md5")
    try:
        with pytest.raises((clients.AuthRejected, ConnectionError)):
            clients.auth_client(*srv.address, SECRET, [b"hi"], variant="md5-hex")
        srv.thread.join(5)
        assert srv.results == [False]
    finally:
        srv.sock.close()
