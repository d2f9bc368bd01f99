"""Random and mutated bytes thrown at every TCP server: it refuses or closes, never hits a
handler bug, and keeps serving."""
from __future__ import annotations

import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.lab import clients, start_server
from tests.dissectors.cases import GOOD
from dissectors.base import SERVER

SERVERS = {}


@pytest.fixture(scope="module", autouse=True)
def running_servers(tmp_path_factory):
    logs: list[str] = []
    opts = {"chat": {}, "lenmsg": {}, "bigreply": {},
            "filexfer": {"upload_dir": str(tmp_path_factory.mktemp("up"))},
            "auth": {"secret": b"k"}}
    for name, o in opts.items():
        SERVERS[name] = start_server(name, idle_timeout=0.5, max_threads=16, log=logs.append, **o)
    SERVERS["_logs"] = logs
    yield
    for name in opts:
        SERVERS[name].stop()
    assert not [line for line in logs if "handler error" in line]


CLIENT_INPUTS = [c for c in GOOD if c[2] is SERVER]   # bytes a client would send


def throw(proto: str, data: bytes) -> None:
    s = socket.create_connection(SERVERS[proto].address, timeout=5)
    try:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        try:
            while s.recv(65536):
                pass
        except OSError:
            pass
    finally:
        s.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(proto=st.sampled_from(["chat", "lenmsg", "filexfer", "auth", "bigreply"]),
       data=st.one_of(st.binary(max_size=300),
                      st.sampled_from(CLIENT_INPUTS).flatmap(
                          lambda c: st.binary(max_size=8).map(lambda junk, w=c[4]: w[: len(w) // 2] + junk))))
def test_garbage_never_breaks_a_server(proto, data):
    throw(proto, data)
    assert not [line for line in SERVERS["_logs"] if "handler error" in line]


def test_servers_still_serve_after_the_garbage():
    assert clients.lenmsg_client(*SERVERS["lenmsg"].address, [b"ok"]) == [b"OK"]
    assert clients.chat_client(*SERVERS["chat"].address, [b"ok"]) == [b"OK"]
    assert clients.auth_client(*SERVERS["auth"].address, b"k", [b"ok"]) == [b"OK"]
    assert clients.bigreply_client(*SERVERS["bigreply"].address, ["small"])[0].startswith(b"REPORT small")
    assert clients.upload_bytes(*SERVERS["filexfer"].address, "after-garbage", b"x")["ok"]
