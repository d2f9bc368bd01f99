"""Every reference server against its reference client, on real loopback sockets."""
from __future__ import annotations

import hashlib
import os

import pytest

from analyzer.sources.sidecar import AppIOWriter, load
from analyzer.lab import clients, start_server
from analyzer.lab.reports import report_text
from dissectors import lenmsg
from tests.lab.servers.helpers import connect, recv_exact


def test_chat_upper_cases_what_it_reads():
    with start_server("chat") as srv:
        assert clients.chat_client(*srv.address, [b"hello\n", b"abc", "é\n".encode()]) == \
            [b"HELLO\n", b"ABC", "é\n".encode().upper()]


def test_chat_burst_naive_replies_bleed():
    """Three messages back to back, server sleeps before its first read: one read gets all."""
    with start_server("chat", first_read_delay=0.2) as srv:
        replies = clients.chat_client(*srv.address, [b"one ", b"two ", b"three"], wait=False, naive=True,
                                      nodelay=True, naive_timeout=0.3)
    assert replies[0] == b"ONE TWO THREE" and replies[1:] == [b"", b""]


@pytest.mark.parametrize("variant", ["network", "native"])
def test_lenmsg_echo_framed(variant):
    msgs = [b"hello", b"", b"x" * 100_000, bytes(range(256))]
    with start_server("lenmsg", variant=variant) as srv:
        assert clients.lenmsg_client(*srv.address, msgs, variant=variant) == [m.upper() for m in msgs]
        assert clients.lenmsg_client(*srv.address, msgs, variant=variant, pipeline=True) == [m.upper() for m in msgs]


def test_lenmsg_wire_bytes_are_the_codec_bytes():
    with start_server("lenmsg") as srv:
        s = connect(srv.address)
        s.sendall(lenmsg.encode(b"ab") + lenmsg.encode(b"c"))
        assert recv_exact(s, 11) == b"\x00\x00\x00\x02AB\x00\x00\x00\x01C"
        s.close()


@pytest.mark.parametrize("variant", ["network", "native"])
def test_filexfer_upload_then_download(tmp_path, variant):
    up = tmp_path / "up"
    src = tmp_path / "src.bin"
    data = os.urandom(300_000)
    src.write_bytes(data)
    with start_server("filexfer", upload_dir=str(up), variant=variant) as srv:
        st = clients.upload(*srv.address, str(src), name="copy.bin", variant=variant, chunk_size=7000)
        assert st == {"ok": True, "stored": "copy.bin", "size": len(data),
                      "sha256": hashlib.sha256(data).hexdigest()}
        assert (up / "copy.bin").read_bytes() == data
        back = clients.download(*srv.address, "copy.bin", str(tmp_path / "back.bin"), variant=variant)
        assert back["ok"] and back["sha256"] == st["sha256"]
        assert (tmp_path / "back.bin").read_bytes() == data
        # an existing file is never overwritten
        st2 = clients.upload_bytes(*srv.address, "copy.bin", b"other", variant=variant)
        assert not st2["ok"] and "exists" in st2["error"]
        assert (up / "copy.bin").read_bytes() == data
        # empty file, and no sha256 sent
        assert clients.upload_bytes(*srv.address, "empty", b"", send_sha256=False, variant=variant)["ok"]
        assert (up / "empty").read_bytes() == b""
        missing = clients.download(*srv.address, "nope", str(tmp_path / "x"), variant=variant)
        assert not missing["ok"] and not (tmp_path / "x").exists()
    assert sorted(os.listdir(up)) == ["copy.bin", "empty"]


def test_filexfer_sha_mismatch_is_rejected_and_nothing_stored(tmp_path):
    from dissectors import filexfer
    from dissectors.base import CLIENT
    with start_server("filexfer", upload_dir=str(tmp_path)) as srv:
        codec = filexfer.Connection(CLIENT)
        s = connect(srv.address)
        s.sendall(codec.send(filexfer.Header.upload("a", 3, "0" * 64)) + codec.send(filexfer.Content(b"abc", True)))
        reply = filexfer.Connection(CLIENT).receive_data(s.recv(65536))
        assert not reply[0].ok and "sha256" in reply[0].info["error"]
        s.close()
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("variant", ["hmac-sha256", "md5-hex", "hmac-md5"])
def test_auth_good_and_bad_secret(variant):
    with start_server("auth", secret=b"k3y", variant=variant) as srv:
        assert clients.auth_client(*srv.address, b"k3y", [b"hi\n", b"there"], variant=variant) == [b"HI\n", b"THERE"]
        with pytest.raises(clients.AuthRejected):
            clients.auth_client(*srv.address, b"wrong", [b"hi"], variant=variant)


def test_auth_server_needs_a_secret():
    with pytest.raises(ValueError, match="secret"):
        start_server("auth")


def test_bigreply_whole_and_naive():
    with start_server("bigreply") as srv:
        replies = clients.bigreply_client(*srv.address, ["status", "nope", "bytes-10"])
        assert replies[0] == b"REPORT status 3000\n" + report_text("status")
        assert replies[1].startswith(b"ERROR ")
        assert replies[2] == b"REPORT bytes-10 10\n" + report_text("bytes-10")
        naive = clients.bigreply_client(*srv.address, ["status", "small"], naive=True)
    # the classroom bug: the second "reply" is the middle of the first report
    assert naive[0].startswith(b"REPORT status") and not naive[1].startswith(b"REPORT")


def test_udpecho():
    with start_server("udpecho") as srv:
        assert clients.udpecho_client(*srv.address, [b"ping", b"", b"x" * 60000]) == [b"PING", b"", b"X" * 60000]


def test_appio_records_every_send_and_recv(tmp_path):
    path = str(tmp_path / "x.pcap.appio.jsonl")
    w = AppIOWriter(path)
    with start_server("lenmsg", appio=w) as srv:
        clients.lenmsg_client(*srv.address, [b"hello", b"world!"], appio=w)
    w.close()
    recs = load(path)
    client_sends = [(r.offset, r.length) for r in recs if r.side == "client" and r.op == "send"]
    server_sends = [(r.offset, r.length) for r in recs if r.side == "server" and r.op == "send"]
    assert client_sends == [(0, 9), (9, 10)] and server_sends == [(0, 9), (9, 10)]
    assert {r.dir for r in recs if r.side == "client" and r.op == "send"} == {"c2s"}
    assert {r.dir for r in recs if r.side == "server" and r.op == "send"} == {"s2c"}
    assert sum(r.length for r in recs if r.side == "server" and r.op == "recv") == 19
    assert len({(r.client, r.server) for r in recs}) == 1
    port = srv.address[1]
    assert all(r.server.endswith(f":{port}") for r in recs)


def test_appio_udp(tmp_path):
    path = str(tmp_path / "u.appio.jsonl")
    w = AppIOWriter(path)
    with start_server("udpecho", appio=w) as srv:
        clients.udpecho_client(*srv.address, [b"a", b"bc"], appio=w)
    w.close()
    recs = load(path)
    assert {r.transport for r in recs} == {"udp"}
    assert [(r.offset, r.length) for r in recs if r.side == "client" and r.op == "send"] == [(0, 1), (1, 2)]
    assert len([r for r in recs if r.side == "server"]) == 4


def test_ipv6_loopback():
    import socket
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        srv = start_server("lenmsg", host="::1")
    except OSError:
        pytest.skip("::1 not configured")
    with srv:
        assert clients.lenmsg_client("::1", srv.port, [b"v6"]) == [b"V6"]
