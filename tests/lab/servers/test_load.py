"""Load on loopback (slow): 200 lenmsg clients x 100 messages, 20 concurrent 1-20 MB uploads,
500 idle connections that must not keep a real client from being served."""
from __future__ import annotations

import hashlib
import os
import resource
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from analyzer.lab import clients, start_server
from tests.lab.servers.helpers import closed_by_peer, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def enough_fds():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 8192) if hard != resource.RLIM_INFINITY else 8192
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_200_clients_x_100_lenmsg_messages_none_lost():
    n_clients, n_msgs = 200, 100
    with start_server("lenmsg", max_threads=256) as srv:
        def one(i: int) -> int:
            msgs = [f"client {i} message {j} {'x' * (j % 37)}".encode() for j in range(n_msgs)]
            replies = clients.lenmsg_client(*srv.address, msgs, timeout=60)
            assert replies == [m.upper() for m in msgs]
            return len(replies)

        with ThreadPoolExecutor(max_workers=n_clients) as pool:
            counts = list(pool.map(one, range(n_clients)))
        assert sum(counts) == n_clients * n_msgs
        assert srv.server.peak_threads <= 256
        assert srv.server.connections == n_clients


def test_20_concurrent_uploads_1_to_20_mb_sha256_equal(tmp_path):
    src_dir, up = tmp_path / "src", tmp_path / "up"
    src_dir.mkdir()
    files = []
    for i in range(20):
        p = src_dir / f"f{i:02d}.bin"
        block = os.urandom(1 << 20)
        with open(p, "wb") as f:
            for k in range(i + 1):                   # 1..20 MB, each MB different
                f.write(bytes([k]) + block[1:])
        files.append(p)
    try:
        with start_server("filexfer", upload_dir=str(up)) as srv:
            with ThreadPoolExecutor(max_workers=20) as pool:
                results = list(pool.map(lambda p: clients.upload(*srv.address, str(p), timeout=120), files))
        for p, st in zip(files, results):
            want = hashlib.sha256(p.read_bytes()).hexdigest()
            assert st["ok"] and st["sha256"] == want and st["size"] == p.stat().st_size
            assert hashlib.sha256((up / p.name).read_bytes()).hexdigest() == want
        assert sorted(os.listdir(up)) == sorted(p.name for p in files)   # no temp files left
    finally:
        for p in list(src_dir.iterdir()) + (list(up.iterdir()) if up.exists() else []):
            p.unlink()


def test_500_idle_connections_do_not_stop_a_real_client():
    idle_timeout, max_threads = 1.5, 32
    with start_server("lenmsg", idle_timeout=idle_timeout, max_threads=max_threads) as srv:
        idle = []
        try:
            for _ in range(500):
                s = socket.create_connection(srv.address, timeout=10)
                idle.append(s)
            # a real client, behind 500 idle ones and only 32 threads
            replies = clients.lenmsg_client(*srv.address, [b"real", b"client"], timeout=30)
            assert replies == [b"REAL", b"CLIENT"]
            # the idle ones are closed by the server
            assert all(closed_by_peer(s, timeout=15) for s in idle)
            assert srv.server.peak_threads <= max_threads
            assert wait_for(lambda: srv.server.active_threads == 0, timeout=10)
            assert srv.server.counts["refused"] == 0
        finally:
            for s in idle:
                s.close()
    assert threading.active_count() < 100


def test_big_upload_and_download_run_in_flat_memory(tmp_path):
    """64 MB up and down again: client + server (same process) never hold the file."""
    import tracemalloc
    src = tmp_path / "big.bin"
    with open(src, "wb") as f:
        block = os.urandom(1 << 20)
        for k in range(64):
            f.write(bytes([k]) + block[1:])
    with start_server("filexfer", upload_dir=str(tmp_path / "up")) as srv:
        tracemalloc.start()
        try:
            st = clients.upload(*srv.address, str(src), timeout=120)
            back = clients.download(*srv.address, "big.bin", str(tmp_path / "back.bin"), timeout=120)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert st["ok"] and back["ok"] and back["sha256"] == st["sha256"]
    assert peak < 16 * 1024 * 1024, peak


def test_idle_auth_connections_do_not_hold_the_threads():
    """The challenge goes out at accept: 200 silent auth clients + 1 real one, 8 threads."""
    with start_server("auth", secret=b"k", idle_timeout=1.0, max_threads=8) as srv:
        idle = [socket.create_connection(srv.address, timeout=10) for _ in range(200)]
        try:
            assert clients.auth_client(*srv.address, b"k", [b"real"], timeout=30) == [b"REAL"]
            assert all(closed_by_peer(s, timeout=15) for s in idle)
            assert srv.server.peak_threads <= 8
        finally:
            for s in idle:
                s.close()
