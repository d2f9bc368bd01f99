"""Real loopback conversations captured with tcpdump: numbering, handshakes, teardowns and
per-packet analysis flags must agree with tshark; conn_state follows from the closes."""
from __future__ import annotations

import socket
import struct
from collections import defaultdict

import pytest

from tests.transport.helpers import flag_mismatches, run_flows, stream_mismatches
from tests.transport.loopback import can_capture, free_port, tcpdump
from tests.transport.tshark_oracle import have_tshark, tshark_rows

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not (can_capture() and have_tshark()),
                                 reason="needs root, tcpdump and tshark")]

SYN, ACK, FIN, RST = 0x02, 0x10, 0x01, 0x04


def _pair(listener, client_port=None):
    c = socket.socket()
    c.settimeout(5)
    if client_port is not None:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        c.bind(("127.0.0.1", client_port))
    c.connect(listener.getsockname())
    s, _ = listener.accept()
    s.settimeout(5)
    return c, s


def _drain(sock):
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def _exchange(c, s):
    c.sendall(b"hello")
    assert s.recv(100) == b"hello"
    s.sendall(b"HELLO")
    assert c.recv(100) == b"HELLO"


def _abort(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def make_traffic(tcp_port, udp_port, reuse_port):
    """Seven TCP conversations (the last over IPv6) and one UDP conversation; returns the
    expected outcome of each TCP one."""
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", tcp_port))
    lst.listen(8)
    try:
        # 0: client closes first
        c, s = _pair(lst)
        _exchange(c, s)
        c.close()
        assert _drain(s) == b""
        s.close()
        # 1: server closes first
        c, s = _pair(lst)
        _exchange(c, s)
        s.close()
        assert _drain(c) == b""
        c.close()
        # 2: half-close: the client shuts down writing and still gets its reply
        c, s = _pair(lst)
        c.sendall(b"request")
        c.shutdown(socket.SHUT_WR)
        assert _drain(s) == b"request"
        s.sendall(b"reply after your FIN")
        s.close()
        assert _drain(c) == b"reply after your FIN"
        c.close()
        # 3: RST abort by the client (SO_LINGER 0)
        c, s = _pair(lst)
        _exchange(c, s)
        _abort(c)
        with pytest.raises(ConnectionResetError):
            s.recv(100)
        s.close()
        # 4 and 5: the same client port bound twice (SO_REUSEADDR): a reused 4-tuple
        c, s = _pair(lst, reuse_port)
        _exchange(c, s)
        _abort(c)
        with pytest.raises(ConnectionResetError):
            s.recv(100)
        s.close()
        c, s = _pair(lst, reuse_port)
        _exchange(c, s)
        c.close()
        assert _drain(s) == b""
        s.close()
    finally:
        lst.close()
    # 6: the same over IPv6 (::1), client closes
    lst6 = socket.socket(socket.AF_INET6)
    lst6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst6.bind(("::1", tcp_port))
    lst6.listen(1)
    try:
        c = socket.create_connection(("::1", tcp_port), timeout=5)
        s, _ = lst6.accept()
        s.settimeout(5)
        _exchange(c, s)
        c.close()
        assert _drain(s) == b""
        s.close()
    finally:
        lst6.close()
    # udp: three datagrams, two echoed
    us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    uc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    us.bind(("127.0.0.1", udp_port))
    us.settimeout(5)
    uc.settimeout(5)
    try:
        for i, msg in enumerate((b"one", b"two", b"three")):
            uc.sendto(msg, ("127.0.0.1", udp_port))
            data, peer = us.recvfrom(100)
            if i < 2:
                us.sendto(data.upper(), peer)
                assert uc.recv(100) == data.upper()
    finally:
        us.close()
        uc.close()
    return [("client", ("four-way", "fin-ack-piggybacked"), "SF"),
            ("server", ("four-way", "fin-ack-piggybacked"), "SF"),
            ("client", ("half-close",), "SF"),
            ("client", ("rst",), "RSTO"),
            ("client", ("rst",), "RSTO"),
            ("client", ("four-way", "fin-ack-piggybacked"), "SF"),
            ("client", ("four-way", "fin-ack-piggybacked"), "SF")]


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    path = tmp_path_factory.mktemp("lo") / "lo.pcap"
    tcp_port, udp_port, reuse = free_port(), free_port(socket.SOCK_DGRAM), free_port()
    with tcpdump(path, f"(tcp port {tcp_port}) or (udp port {udp_port})"):
        expected = make_traffic(tcp_port, udp_port, reuse)
    rows = tshark_rows(path)
    table, verdicts = run_flows(path)
    return path, rows, table, verdicts, expected


def test_stream_numbers_match_tshark(capture):
    path, rows, table, _, _ = capture
    assert stream_mismatches(path, rows) == []
    assert [f.transport for f in table.conversations].count("tcp") == 7
    assert [f.transport for f in table.conversations].count("udp") == 2   # probes + ours
    assert max(r["tcp_stream"] for r in rows if r["tcp_stream"] is not None) == 6
    v6 = [f for f in table.conversations if f.transport == "tcp"][6]
    assert v6.endpoint_text("server") == f"[::1]:{v6.server[1]}"


def test_analysis_flags_match_tshark(capture):
    path, rows, _, _, _ = capture
    assert flag_mismatches(path, rows) == []
    reuse_syns = [r for r in rows if "reused_ports" in r["flags"]]
    assert len(reuse_syns) == 1 and reuse_syns[0]["tcp_stream"] == 5


def _tshark_by_stream(rows):
    by = defaultdict(list)
    for r in rows:
        if r["tcp_stream"] is not None:
            by[r["tcp_stream"]].append(r)
    return by


def test_handshakes_match_tshark(capture):
    _, rows, table, _, _ = capture
    by = _tshark_by_stream(rows)
    tcp = [f for f in table.conversations if f.transport == "tcp"]
    for flow in tcp:
        rs = by[flow.id]
        synack = next(r["number"] for r in rs if r["tcp_flags"] & (SYN | ACK) == SYN | ACK)
        syn = max(r["number"] for r in rs if r["tcp_flags"] & (SYN | ACK) == SYN
                  and r["number"] < synack)
        ack = next(r["number"] for r in rs if r["acks_frame"] == synack)
        hs = flow.handshake()
        assert hs["complete"] and hs["frames"] == [syn, synack, ack]
        rtt = next(r["initial_rtt"] for r in rs if r["initial_rtt"] is not None)
        assert hs["rtt_ms"] == pytest.approx(rtt * 1000, abs=0.002)


def test_teardowns_match_tshark(capture):
    _, rows, table, _, expected = capture
    by = _tshark_by_stream(rows)
    tcp = [f for f in table.conversations if f.transport == "tcp"]
    for flow, (initiator, kinds, state) in zip(tcp, expected):
        rs = by[flow.id]
        td = flow.teardown()
        assert td["initiator"] == initiator, (flow.id, td)
        assert td["kind"] in kinds, (flow.id, td)
        assert flow.state() == state, (flow.id, flow.history())
        if td["kind"] == "rst":
            first_rst = min(r["number"] for r in rs if r["tcp_flags"] & RST)
            assert td["frames"] == [first_rst]
            continue
        fins = [r["number"] for r in rs if r["tcp_flags"] & FIN]
        fin_acks = [next(r["number"] for r in rs if r["acks_frame"] == f) for f in fins]
        assert sorted(td["frames"]) == sorted(set(fins) | set(fin_acks))
        assert td["frames"][0] == fins[0]


def test_udp_conversation(capture):
    _, rows, table, verdicts, _ = capture
    probes, udp = [f for f in table.conversations if f.transport == "udp"]
    assert (probes.id, probes.state(), probes.history()) == (0, "S0", "D")
    assert (udp.id, udp.state(), udp.history()) == (1, "SF", "Dd")
    assert udp.packets == 5 and udp.bytes_c2s == 11 and udp.bytes_s2c == 6
    assert udp.handshake()["complete"] is False and udp.teardown()["kind"] == "none"
