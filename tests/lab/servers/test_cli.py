"""`wirelab serve` / `wirelab client` as a user runs them (real processes, real sockets)."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys

import pytest

from analyzer.sources.sidecar import load

WIRELAB = [sys.executable, "-m", "analyzer"]


def serve(*args, env=None):
    p = subprocess.Popen(WIRELAB + ["serve", *args, "--port", "0"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    line = p.stdout.readline()
    m = re.search(r"listening on (tcp|udp) 127\.0\.0\.1:(\d+)", line)
    assert m, (line, p.stderr.read() if p.poll() is not None else "")
    return p, m.group(2)


def stop(p) -> tuple[str, str]:
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    assert p.returncode == 0 and "Traceback" not in err, err
    return out, err


def client(*args, env=None):
    return subprocess.run(WIRELAB + ["client", *args], capture_output=True, text=True, timeout=60, env=env)


def test_serve_and_client_lenmsg_then_ctrl_c(tmp_path):
    p, port = serve("lenmsg")
    try:
        r = client("lenmsg", "--port", port, "hello", "wire lab")
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines() == ["sent len=5 'hello' -> got len=5 'HELLO'",
                                         "sent len=8 'wire lab' -> got len=8 'WIRE LAB'"]
    finally:
        out, _ = stop(p)
    assert "connected" in out and "closed by client after 2 messages" in out and "stopped" in out


def test_chat_client_options_and_sidecar(tmp_path):
    side = str(tmp_path / "c.appio.jsonl")
    p, port = serve("chat", "--first-read-delay", "0.2")
    try:
        r = client("chat", "--port", port, "--burst", "--naive", "--nodelay", "--appio", side, "ab", "cd")
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines()[0] == "sent 'ab' -> got 'ABCD'"
    finally:
        stop(p)
    recs = load(side)
    assert [(r.op, r.length) for r in recs if r.side == "client"][:3] == [("send", 2), ("send", 2), ("recv", 4)]


def test_filexfer_cli_round_trip(tmp_path):
    src = tmp_path / "data.bin"
    src.write_bytes(os.urandom(50_000))
    up = tmp_path / "up"
    p, port = serve("filexfer", "--upload-dir", str(up))
    try:
        r = client("filexfer", "--port", port, str(src), "--check")
        assert r.returncode == 0, r.stderr
        assert "round trip OK" in r.stdout
        r2 = client("filexfer", "--port", port, str(src))
        assert r2.returncode == 1 and "already exists" in r2.stdout
    finally:
        stop(p)
    assert (up / "data.bin").read_bytes() == src.read_bytes()


def test_auth_secret_from_file_and_env(tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(b"file-secret\n")
    p, port = serve("auth", "--secret-file", str(secret), "--variant", "hmac-md5")
    try:
        env = dict(os.environ, WIRELAB_SECRET="file-secret")
        r = client("auth", "--port", port, "--variant", "hmac-md5", "hi", env=env)
        assert r.returncode == 0 and "got 'HI'" in r.stdout, r.stderr
        bad = client("auth", "--port", port, "--variant", "hmac-md5", "hi", env=dict(os.environ, WIRELAB_SECRET="x"))
        assert bad.returncode != 0 and bad.stderr.count("\n") == 1 and "rejected" in bad.stderr
    finally:
        out, _ = stop(p)
    assert "authenticated (hmac-md5)" in out and "bad hmac-md5 answer" in out


@pytest.mark.parametrize("args,fragment", [
    (["serve", "auth", "--port", "0"], "needs a secret"),
    (["serve", "auth", "--port", "0", "--secret-file", "/nonexistent/x"], "cannot read secret file"),
    (["serve", "lenmsg", "--port", "0", "--variant", "big"], "unknown variant"),
    (["serve", "chat", "--port", "0", "--variant", "native"], "no variants"),
    (["client", "lenmsg", "--port", "1", "x"], "connection refused"),
    (["client", "filexfer", "--port", "1"], "give files"),
    (["serve", "filexfer", "--port", "0", "--upload-dir", "/dev/null/x"], "cannot use upload directory"),
    (["serve", "lenmsg", "--port", "0", "--idle-timeout", "0"], "idle-timeout"),
])
def test_bad_usage_is_one_clear_line(args, fragment):
    env = {k: v for k, v in os.environ.items() if k != "WIRELAB_SECRET"}
    r = subprocess.run(WIRELAB + args, capture_output=True, text=True, timeout=30, env=env)
    assert r.returncode != 0
    assert fragment in r.stderr and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_port_in_use():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    try:
        r = subprocess.run(WIRELAB + ["serve", "lenmsg", "--port", str(s.getsockname()[1])],
                           capture_output=True, text=True, timeout=30)
    finally:
        s.close()
    assert r.returncode == 2 and "cannot listen" in r.stderr and "Traceback" not in r.stderr


def test_udpecho_and_bigreply_cli():
    p, port = serve("udpecho")
    try:
        r = client("udpecho", "--port", port, "ping")
        assert r.stdout.strip() == "sent 'ping' -> got 'PING'"
    finally:
        stop(p)
    p, port = serve("bigreply")
    try:
        r = client("bigreply", "--port", port, "status", "nope")
        assert r.stdout.splitlines() == ["GET status -> 3019 bytes: 'REPORT status 3000'",
                                         "GET nope -> 26 bytes: 'ERROR no such report nope'"]
    finally:
        stop(p)


def test_ctrl_c_during_an_upload_leaves_no_temp_file(tmp_path):
    from dissectors import filexfer
    from dissectors.base import CLIENT
    up = tmp_path / "up"
    p, port = serve("filexfer", "--upload-dir", str(up))
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
    try:
        codec = filexfer.Connection(CLIENT)
        s.sendall(codec.send(filexfer.Header.upload("big", 10_000_000)) + codec.send(filexfer.Content(b"x" * 200_000)))
        for _ in range(200):                      # the server has started the temp file
            if up.exists() and os.listdir(up):
                break
            import time
            time.sleep(0.02)
        assert len(os.listdir(up)) == 1
        out, _ = stop(p)
    finally:
        s.close()
    assert "temp file removed" in out and "stopped" in out
    assert os.listdir(up) == []
