"""DESIGN.md faults 15-20 against the running servers: clear refusal, no crash, nothing good
lost, nothing unsafe written."""
from __future__ import annotations

import json
import os
import socket
import struct
import time
import tracemalloc

import pytest

from analyzer.lab import clients, start_server
from dissectors import auth, filexfer, lenmsg
from dissectors.base import CLIENT
from tests.lab.servers.helpers import abort, closed_by_peer, connect, recv_all, recv_exact, wait_for

N = lambda n: struct.pack("!I", n)  # noqa: E731


def statuses(data: bytes) -> list[dict]:
    conn = filexfer.Connection(CLIENT)
    try:
        evs = conn.receive_data(data)
    except Exception:
        return []
    return [e.info for e in evs if isinstance(e, filexfer.Status)]


# --- fault 15: length prefixes ---------------------------------------------------------
@pytest.mark.parametrize("wire,why", [
    (b"\xff\xff\xff\xff", "0xFFFFFFFF"),
    (N(16 * 1024 * 1024 + 1), "just over 16 MiB"),
    (b"\x00\x00", "shorter than its header, then FIN"),
    (N(10) + b"abc", "body shorter than its prefix, then FIN"),
])
def test_lenmsg_bad_prefix_closes_and_server_lives_on(wire, why):
    with start_server("lenmsg") as srv:
        s = connect(srv.address)
        s.sendall(wire)
        s.shutdown(socket.SHUT_WR)
        assert recv_all(s) == b"", why       # nothing echoed, connection closed
        s.close()
        assert clients.lenmsg_client(*srv.address, [b"still ok"]) == [b"STILL OK"]


def test_lenmsg_zero_length_is_a_message():
    with start_server("lenmsg") as srv:
        s = connect(srv.address)
        s.sendall(N(0) + N(1) + b"a")
        assert recv_exact(s, 9) == N(0) + N(1) + b"A"
        s.close()


def test_lenmsg_native_negative_length():
    with start_server("lenmsg", variant="native") as srv:
        s = connect(srv.address)
        s.sendall(struct.pack("<i", -1))
        assert closed_by_peer(s)
        s.close()


# --- fault 16: bad JSON headers ---------------------------------------------------------
BAD_HEADERS = [
    N(3) + b"\xff\xfe{",
    N(6) + b"[1, 2]",
    N(2) + b"{}",
    N(15) + b'{"filename":"a"}'[:15],
    b"".join([N(len(h)) + h for h in [json.dumps({"filename": "a", "filesize": -1}).encode()]]),
    b"".join([N(len(h)) + h for h in [json.dumps({"filename": "a", "filesize": "10"}).encode()]]),
    b"".join([N(len(h)) + h for h in [json.dumps({"filename": "a", "filesize": True}).encode()]]),
    b"".join([N(len(h)) + h for h in [b'{"filename":"a","filesize":1e999}']]),
    b"".join([N(len(h)) + h for h in [b'{"filename":"a","filesize":' + b"7" * 5000 + b"}"]]),
    b"".join([N(len(h)) + h for h in [b'{"filename":"a","filesize":1,"x":' + b"[" * 40 + b"]" * 40 + b"}"]]),
    N(10 * 1024 * 1024) + b"{" * 1000,
]


@pytest.mark.parametrize("wire", BAD_HEADERS, ids=range(len(BAD_HEADERS)))
def test_filexfer_bad_header_is_refused(tmp_path, wire):
    with start_server("filexfer", upload_dir=str(tmp_path)) as srv:
        s = connect(srv.address)
        try:
            s.sendall(wire)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = recv_all(s)
        s.close()
        st = statuses(reply)
        assert st and st[0]["ok"] is False and "protocol error" in st[0]["error"]
        assert clients.upload_bytes(*srv.address, "good", b"ok")["ok"]
    assert os.listdir(tmp_path) == ["good"]


# --- fault 17: filenames ----------------------------------------------------------------
BAD_NAMES = ["../../etc/passwd", "/etc/passwd", "..\\x", "C:x", "a\0b", "", ".", "..", "x" * 300]


@pytest.mark.parametrize("name", BAD_NAMES, ids=range(len(BAD_NAMES)))
def test_unsafe_filename_rejected_upload_dir_unchanged(tmp_path, name):
    up = tmp_path / "up"
    up.mkdir()
    (up / "keep").write_bytes(b"k")
    before = sorted(os.listdir(tmp_path)), sorted(os.listdir(up))
    with start_server("filexfer", upload_dir=str(up)) as srv:
        st = clients.upload_bytes(*srv.address, name, b"evil")
        assert st["ok"] is False
        got = clients.download(*srv.address, name, str(tmp_path / "dl"))
        assert got["ok"] is False
        # the connection stays usable: a good upload after the refused one
        assert clients.upload_bytes(*srv.address, "fine.txt", b"fine")["ok"]
    assert (sorted(os.listdir(tmp_path)), sorted(os.listdir(up))) == (before[0], sorted(before[1] + ["fine.txt"]))
    assert not os.path.exists("/etc/passwd") or open("/etc/passwd", "rb").read() != b"evil"


def test_refused_upload_then_good_upload_on_the_same_connection(tmp_path):
    with start_server("filexfer", upload_dir=str(tmp_path)) as srv:
        codec = filexfer.Connection(CLIENT)
        s = connect(srv.address)
        s.sendall(codec.send(filexfer.Header.upload("../x", 4)) + codec.send(filexfer.Content(b"evil", True)))
        s.sendall(codec.send(filexfer.Header.upload("ok", 2)) + codec.send(filexfer.Content(b"hi", True)))
        s.shutdown(socket.SHUT_WR)
        st = statuses(recv_all(s))
        s.close()
    assert [x["ok"] for x in st] == [False, True]
    assert os.listdir(tmp_path) == ["ok"]


# --- fault 18: short upload, 2 GB header ------------------------------------------------
def test_short_upload_then_fin_leaves_no_file(tmp_path):
    with start_server("filexfer", upload_dir=str(tmp_path)) as srv:
        codec = filexfer.Connection(CLIENT)
        s = connect(srv.address)
        s.sendall(codec.send(filexfer.Header.upload("part", 1000)) + codec.send(filexfer.Content(b"x" * 500)))
        s.shutdown(socket.SHUT_WR)
        recv_all(s)
        s.close()
        assert wait_for(lambda: os.listdir(tmp_path) == [])


def test_rst_mid_transfer_leaves_no_file_and_server_serves_on(tmp_path):
    with start_server("filexfer", upload_dir=str(tmp_path)) as srv:
        codec = filexfer.Connection(CLIENT)
        s = connect(srv.address)
        s.sendall(codec.send(filexfer.Header.upload("part", 10_000_000)) + codec.send(filexfer.Content(b"x" * 100_000)))
        assert wait_for(lambda: len(os.listdir(tmp_path)) == 1)      # the temp file exists...
        abort(s)
        assert wait_for(lambda: os.listdir(tmp_path) == [])          # ...and is removed
        assert clients.upload_bytes(*srv.address, "after", b"1")["ok"]


def test_two_gigabyte_header_length_is_refused_with_flat_memory(tmp_path):
    with start_server("filexfer", upload_dir=str(tmp_path)) as srv:
        tracemalloc.start()
        try:
            s = connect(srv.address)
            s.sendall(N(2 ** 31) + b"{" * 65536)
            st = statuses(recv_all(s))
            s.close()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert st and "header too large" in st[0]["error"]
    assert peak < 8 * 1024 * 1024
    assert os.listdir(tmp_path) == []


# --- fault 19: auth ---------------------------------------------------------------------
def test_auth_wrong_digest_closes():
    with start_server("auth", secret=b"k") as srv:
        s = connect(srv.address)
        recv_exact(s, 32)
        s.sendall(b"\0" * 32 + b"hello")
        assert recv_all(s) == b""
        s.close()


def test_auth_right_digest_split_over_three_sends_is_accepted():
    with start_server("auth", secret=b"k") as srv:
        s = connect(srv.address)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        challenge = recv_exact(s, 32)
        ans = auth.compute_answer(b"k", challenge)
        for part in (ans[:5], ans[5:20], ans[20:]):
            s.sendall(part)
            time.sleep(0.05)
        s.sendall(b"chat")
        assert recv_exact(s, 4) == b"CHAT"
        s.close()


def test_auth_replayed_answer_is_rejected():
    with start_server("auth", secret=b"k", variant="md5-hex") as srv:
        s = connect(srv.address)
        old = auth.compute_answer(b"k", recv_exact(s, 32), "md5-hex")
        s.sendall(old + b"a")
        assert recv_exact(s, 1) == b"A"
        s.close()
        s2 = connect(srv.address)
        assert len(recv_exact(s2, 32)) == 32
        s2.sendall(old + b"a")                      # the old answer on a new connection
        assert recv_all(s2) == b""
        s2.close()


def test_auth_closed_before_answer_and_silent_client_times_out():
    with start_server("auth", secret=b"k", message_timeout=0.5) as srv:
        s = connect(srv.address)
        recv_exact(s, 32)
        assert closed_by_peer(s, timeout=5)         # idle: the server hangs up
        s.close()


# --- fault 20 (small parts; the 500-idle case is in test_load) --------------------------
@pytest.mark.parametrize("proto", ["chat", "lenmsg"])
def test_half_close_still_gets_the_reply(proto):
    with start_server(proto) as srv:
        s = connect(srv.address)
        msg = lenmsg.encode(b"half") if proto == "lenmsg" else b"half"
        s.sendall(msg)
        s.shutdown(socket.SHUT_WR)
        assert recv_all(s) == msg.upper()
        s.close()


def test_half_close_filexfer_gets_its_status(tmp_path):
    with start_server("filexfer", upload_dir=str(tmp_path)) as srv:
        codec = filexfer.Connection(CLIENT)
        s = connect(srv.address)
        s.sendall(codec.send(filexfer.Header.upload("h", 2)) + codec.send(filexfer.Content(b"hi", True)))
        s.shutdown(socket.SHUT_WR)
        assert statuses(recv_all(s))[0]["ok"] is True
        s.close()


def test_idle_connection_times_out():
    with start_server("lenmsg", idle_timeout=0.3) as srv:
        s = connect(srv.address)
        assert closed_by_peer(s, timeout=5)
        s.close()


def test_stop_closes_open_connections():
    srv = start_server("chat")
    s = connect(srv.address)
    s.sendall(b"x")
    assert recv_exact(s, 1) == b"X"
    srv.stop()
    assert closed_by_peer(s, timeout=5)
    s.close()


def test_two_worker_threads_serve_twelve_clients():
    from concurrent.futures import ThreadPoolExecutor
    with start_server("lenmsg", max_threads=2) as srv:
        with ThreadPoolExecutor(max_workers=12) as pool:
            got = list(pool.map(lambda i: clients.lenmsg_client(*srv.address, [b"m%d" % i] * 20), range(12)))
        assert got == [[b"M%d" % i] * 20 for i in range(12)]
        assert 1 <= srv.server.peak_threads <= 2 and srv.server.counts["refused"] == 0


def test_connection_past_the_cap_is_refused_at_once():
    logs = []
    with start_server("lenmsg", max_connections=1, log=logs.append) as srv:
        busy = connect(srv.address)
        busy.sendall(lenmsg.encode(b"x"))
        assert recv_exact(busy, 5) == lenmsg.encode(b"X")     # the one connection allowed
        extra = connect(srv.address)
        assert closed_by_peer(extra, timeout=5)
        assert srv.server.counts["refused"] == 1
        assert any("refused: 1 connections open (--max-connections)" in line for line in logs)
        busy.close()
        extra.close()
