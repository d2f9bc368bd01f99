"""Slowloris against every TCP reference server: silent and trickling connections hold no
worker thread, every phase has a deadline trickling cannot extend, open connections are
capped, and partial messages have a server-wide byte budget."""
from __future__ import annotations

import struct
import time

import pytest

from analyzer.lab.servers import start_server
from dissectors import auth, lenmsg
from tests.lab.servers.helpers import closed_by_peer, connect, recv_exact, wait_for
from tests.lab.servers.hostile import NEVER_ENDING, SECRET, Crowd, raise_fd_limit, real_request

TCP = ("chat", "lenmsg", "filexfer", "auth", "bigreply")
LONG = 300.0      # deadlines the test never reaches: nothing is freed by a timeout


def _server(protocol, tmp_path, **limits):
    opts = {"secret": SECRET} if protocol == "auth" else {}
    if protocol == "filexfer":
        opts["upload_dir"] = str(tmp_path / "up")
    return start_server(protocol, **opts, **limits)


def _crowd_then_real_client(protocol, tmp_path, count, mode, max_threads):
    raise_fd_limit(count + 512)
    with _server(protocol, tmp_path, max_threads=max_threads, idle_timeout=LONG,
                 message_timeout=LONG) as srv:
        with Crowd(srv.address, protocol, count, mode=mode, interval=0.2) as crowd:
            assert wait_for(lambda: srv.server.open_connections == count, timeout=30)
            assert real_request(protocol, srv.address, timeout=20)
            # served while every hostile connection is still open and waiting
            assert crowd.closed_count() == 0
            assert srv.server.open_connections >= count
            assert srv.server.peak_threads <= max_threads


@pytest.mark.parametrize("mode", ["silent", "trickle"])
@pytest.mark.parametrize("protocol", TCP)
def test_100_hostile_connections_and_4_threads_do_not_stop_a_real_client(protocol, mode, tmp_path):
    """With thread-per-connection, 4 threads would be held by the first 4 hostile clients."""
    _crowd_then_real_client(protocol, tmp_path, 100, mode, max_threads=4)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["silent", "trickle"])
@pytest.mark.parametrize("protocol", TCP)
def test_1000_hostile_connections_do_not_stop_a_real_client(protocol, mode, tmp_path):
    _crowd_then_real_client(protocol, tmp_path, 1000, mode, max_threads=64)


def _trickle(s, data: bytes, step: float, limit: float = 10.0) -> bool:
    """Send `data` one byte per `step` s; True when the server closed the connection first."""
    end = time.monotonic() + limit
    for i in range(len(data)):
        if time.monotonic() > end:
            return False
        try:
            s.sendall(data[i:i + 1])
        except OSError:
            return True
        if closed_by_peer(s, timeout=step):
            return True
    return closed_by_peer(s, timeout=limit)


def test_a_trickled_frame_is_cut_at_its_deadline():
    logs = []
    with start_server("lenmsg", message_timeout=0.5, min_rate=1000, log=logs.append) as srv:
        s = connect(srv.address)
        assert _trickle(s, struct.pack("!I", 100) + b"a" * 100, step=0.1)
        s.close()
        assert wait_for(lambda: any("frame not complete after" in line for line in logs))
        assert srv.server.counts["timed_out"] == 1


def test_a_trickled_auth_answer_is_cut_however_it_trickles():
    logs = []
    with start_server("auth", secret=SECRET, message_timeout=0.5, log=logs.append) as srv:
        s = connect(srv.address)
        assert len(recv_exact(s, auth.CHALLENGE_SIZE)) == auth.CHALLENGE_SIZE
        assert _trickle(s, b"q" * 32, step=0.1)
        s.close()
        assert wait_for(lambda: any("answer not complete after" in line for line in logs)), logs


def test_a_slow_upload_is_cut_and_leaves_no_file(tmp_path):
    logs = []
    up = tmp_path / "up"
    with start_server("filexfer", upload_dir=str(up), message_timeout=0.5, min_rate=1000,
                      log=logs.append) as srv:
        s = connect(srv.address)
        s.sendall(NEVER_ENDING["filexfer"] + b"}")          # the header, whole
        assert _trickle(s, b"c" * 100, step=0.1)
        s.close()
        assert wait_for(lambda: any("temp file removed" in line for line in logs))
    assert list(up.iterdir()) == []
    assert any("header or upload not complete after" in line for line in logs)


def test_between_messages_the_idle_timeout_counts_from_the_last_message():
    with start_server("lenmsg", idle_timeout=0.5) as srv:
        s = connect(srv.address)
        s.sendall(lenmsg.encode(b"one"))
        assert recv_exact(s, 7) == lenmsg.encode(b"ONE")
        assert closed_by_peer(s, timeout=10)
        s.close()


def test_the_partial_message_budget_closes_the_connection_growing_past_it():
    logs = []
    budget = 1 << 20
    with start_server("lenmsg", buffer_budget=budget, log=logs.append) as srv:
        first, second = connect(srv.address), connect(srv.address)
        first.sendall(struct.pack("!I", 900_000) + b"a" * 700_000)     # held: within the budget
        assert wait_for(lambda: srv.server.buffered >= 700_000)
        second.sendall(struct.pack("!I", 900_000) + b"b" * 700_000)    # would pass it
        assert closed_by_peer(second, timeout=10)
        assert srv.server.counts["over_budget"] == 1
        assert any("server buffer budget full" in line for line in logs)
        first.sendall(b"a" * 200_000)                                  # the first one completes
        assert recv_exact(first, 900_004)[4:] == b"A" * 900_000
        first.close()
        second.close()
        assert wait_for(lambda: srv.server.open_connections == 0)
        assert srv.server.buffered == 0
