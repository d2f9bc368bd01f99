"""Conversation-level results on crafted captures: numbering, roles, handshake, teardown,
Zeek conn_state and history, base sequence numbers."""
from __future__ import annotations

import pytest

from analyzer.decode import decode_frame
from analyzer.transport.flows import FlowTable
from analyzer.decode.decoded import Decoded
from analyzer.transport.analysis_flags import ANALYSIS_BIT
from tests.transport.helpers import Crafter, run_flows


def flows_of(tmp_path, build, v6=False):
    k = Crafter(v6=v6)
    build(k)
    table, verdicts = run_flows(k.write(tmp_path / "x.pcap"))
    return table, verdicts, k


def test_four_way_close_by_client(tmp_path):
    def build(k):
        c, s = k.handshake(dt=0.004)
        k.tcp(k.c, k.s, "PA", c, s, b"hello")
        k.tcp(k.s, k.c, "A", s, c + 5)
        k.tcp(k.s, k.c, "PA", s, c + 5, b"HELLO")
        k.tcp(k.c, k.s, "A", c + 5, s + 5)
        k.tcp(k.c, k.s, "FA", c + 5, s + 5)       # 8
        k.tcp(k.s, k.c, "A", s + 5, c + 6)        # 9
        k.tcp(k.s, k.c, "FA", s + 5, c + 6)       # 10
        k.tcp(k.c, k.s, "A", c + 6, s + 6)        # 11
    table, verdicts, k = flows_of(tmp_path, build)
    (f,) = table.conversations
    assert (f.transport, f.id) == ("tcp", 0)
    assert f.endpoint_text("client") == "127.0.0.1:40000"
    assert f.endpoint_text(1) == "127.0.0.1:9001"
    assert f.handshake() == {"complete": True, "frames": [1, 2, 3], "rtt_ms": 8.0}
    assert f.initial_rtt == pytest.approx(0.008, abs=1e-5)
    assert f.teardown() == {"kind": "four-way", "initiator": "client", "frames": [8, 9, 10, 11]}
    assert f.state() == "SF"
    assert f.history() == "ShADadFf"
    assert (f.packets, f.bytes_c2s, f.bytes_s2c) == (11, 5, 5)
    assert (f.first_packet, f.last_packet) == (1, 11)
    assert f.isn == [1000, 5000]
    assert (f.base_seq(0), f.base_seq(1)) == (1001, 5001)
    assert [v.direction for v in verdicts] == [0, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0]
    assert [v.new for v in verdicts] == [True] + [False] * 10


def test_fin_ack_piggybacked_by_server(tmp_path):
    def build(k):
        c, s = k.handshake()
        k.tcp(k.s, k.c, "FA", s, c)               # 4 server closes first
        k.tcp(k.c, k.s, "FA", c, s + 1)           # 5 client FIN also ACKs it
        k.tcp(k.s, k.c, "A", s + 1, c + 1)        # 6
    table, _, _ = flows_of(tmp_path, build)
    (f,) = table.conversations
    assert f.teardown() == {"kind": "fin-ack-piggybacked", "initiator": "server",
                            "frames": [4, 5, 6]}
    assert f.state() == "SF"


def test_simultaneous_close(tmp_path):
    def build(k):
        c, s = k.handshake()
        k.tcp(k.c, k.s, "FA", c, s)               # 4
        k.tcp(k.s, k.c, "FA", s, c)               # 5 sent before seeing the client's FIN
        k.tcp(k.c, k.s, "A", c + 1, s + 1)        # 6
        k.tcp(k.s, k.c, "A", s + 1, c + 1)        # 7
    table, _, _ = flows_of(tmp_path, build)
    (f,) = table.conversations
    assert f.teardown() == {"kind": "simultaneous", "initiator": "client", "frames": [4, 5, 6, 7]}


def test_half_close_server_keeps_sending(tmp_path):
    def build(k):
        c, s = k.handshake()
        k.tcp(k.c, k.s, "PA", c, s, b"req")
        k.tcp(k.c, k.s, "FA", c + 3, s)           # 5 client SHUT_WR
        k.tcp(k.s, k.c, "A", s, c + 4)            # 6
        k.tcp(k.s, k.c, "PA", s, c + 4, b"reply") # 7 the server still answers
    table, _, _ = flows_of(tmp_path, build)
    (f,) = table.conversations
    assert f.teardown() == {"kind": "half-close", "initiator": "client", "frames": [5, 6]}
    assert f.state() == "S2"


def test_rst_abort_states(tmp_path):
    def build(k):
        c, s = k.handshake()
        k.tcp(k.c, k.s, "PA", c, s, b"x")
        k.tcp(k.s, k.c, "RA", s, c + 1)           # 5 server aborts
    table, _, _ = flows_of(tmp_path, build)
    (f,) = table.conversations
    assert f.teardown() == {"kind": "rst", "initiator": "server", "frames": [5]}
    assert f.state() == "RSTR"
    assert f.history() == "ShADr"


def test_rst_by_originator_is_rsto(tmp_path):
    def build(k):
        c, s = k.handshake()
        k.tcp(k.c, k.s, "RA", c, s)
    table, _, _ = flows_of(tmp_path, build)
    assert table.conversations[0].state() == "RSTO"
    assert table.conversations[0].teardown()["initiator"] == "client"


def test_rejected_and_unanswered_and_syn_fin(tmp_path):
    def build(k):
        k.tcp(k.c, k.s, "S", 100)                          # rejected
        k.tcp(k.s, k.c, "RA", 0, 101)
        k.tcp(("127.0.0.1", 40001), k.s, "S", 200)         # no answer
        k.tcp(("127.0.0.1", 40002), k.s, "S", 300)         # SYN then FIN, no answer
        k.tcp(("127.0.0.1", 40002), k.s, "F", 301)
    table, _, _ = flows_of(tmp_path, build)
    rej, s0, sh = table.conversations
    assert (rej.state(), rej.history()) == ("REJ", "Sr")
    assert rej.handshake() == {"complete": False, "frames": [1], "rtt_ms": None}
    assert (s0.state(), s0.history()) == ("S0", "S")
    assert sh.state() == "SH"
    assert [f.id for f in table.conversations] == [0, 1, 2]


def test_established_not_closed_is_s1_and_midstream_is_oth(tmp_path):
    def build(k):
        c, s = k.handshake()
        k.tcp(k.c, k.s, "PA", c, s, b"data")
        k.tcp(("127.0.0.1", 41000), ("127.0.0.1", 9002), "PA", 777, 888, b"mid")
    table, _, _ = flows_of(tmp_path, build)
    s1, oth = table.conversations
    assert s1.state() == "S1"
    assert s1.teardown() == {"kind": "none", "initiator": None, "frames": []}
    assert oth.state() == "OTH"
    assert oth.isn == [777, None]
    assert oth.base_seq(0) == 777           # first seq seen
    assert oth.base_seq(1) == 888           # from the first ACK number
    assert oth.handshake()["complete"] is False


def test_synack_seen_first_flips_roles(tmp_path):
    def build(k):
        k.tcp(k.s, k.c, "SA", 5000, 1001)
        k.tcp(k.c, k.s, "A", 1001, 5001)
    table, verdicts, k = flows_of(tmp_path, build)
    (f,) = table.conversations
    assert f.client == k.c and f.server == k.s
    assert [v.direction for v in verdicts] == [1, 0]
    assert f.history().startswith("^")


def test_port_reuse_new_stream_and_flag(tmp_path):
    def build(k):
        c, s = k.handshake(cisn=1000)
        k.tcp(k.c, k.s, "RA", c, s)                        # 4
        k.tcp(("127.0.0.1", 5353), ("127.0.0.1", 53), "S", 1)    # another tcp: 5
        k.handshake(cisn=424242)                           # 6 7 8 same 4-tuple
    table, verdicts, _ = flows_of(tmp_path, build)
    assert [v.flow.id for v in verdicts] == [0, 0, 0, 0, 1, 2, 2, 2]
    assert verdicts[5].new and verdicts[5].analysis & ANALYSIS_BIT["reused_ports"]
    first, _, again = table.conversations
    assert again.handshake()["frames"] == [6, 7, 8]
    assert again.isn[0] == 424242 and first.isn[0] == 1000
    assert first.analysis_counts["reused_ports"] == 0
    assert again.analysis_counts["reused_ports"] == 1


def test_tcp_and_udp_numbered_separately(tmp_path):
    def build(k):
        k.udp(("127.0.0.1", 50000), ("127.0.0.1", 9005), b"ping")   # udp 0
        k.handshake()                                               # tcp 0
        k.udp(("127.0.0.1", 9005), ("127.0.0.1", 50000), b"PING")   # udp 0 reply
        k.udp(("127.0.0.1", 50001), ("127.0.0.1", 9005), b"lost")   # udp 1 one-way
    table, verdicts, _ = flows_of(tmp_path, build)
    assert [(v.flow.transport, v.flow.id) for v in verdicts] == [
        ("udp", 0), ("tcp", 0), ("tcp", 0), ("tcp", 0), ("udp", 0), ("udp", 1)]
    u0, t0, u1 = table.conversations
    assert (u0.state(), u0.history()) == ("SF", "Dd")
    assert (u1.state(), u1.history()) == ("S0", "D")
    assert u0.handshake() == {"complete": False, "frames": [], "rtt_ms": None}
    assert u0.teardown()["kind"] == "none"
    assert (u0.bytes_c2s, u0.bytes_s2c) == (4, 4)
    assert verdicts[4].direction == 1 and verdicts[4].analysis == 0


def test_ipv6_endpoint_text(tmp_path):
    table, _, _ = flows_of(tmp_path, lambda k: k.handshake(), v6=True)
    assert table.conversations[0].endpoint_text("client") == "[::1]:40000"


def test_retransmissions_repeat_history_letters_by_powers_of_ten(tmp_path):
    def build(k):
        c, s = k.handshake()
        k.tcp(k.c, k.s, "PA", c, s, b"zz")
        for _ in range(10):
            k.tcp(k.c, k.s, "PA", c, s, b"zz", dt=0.2)
    table, _, _ = flows_of(tmp_path, build)
    f = table.conversations[0]
    assert f.history() == "ShADTT"        # 1st and 10th retransmission
    assert f.analysis_counts["retransmission"] == 10


def test_not_tcp_or_udp_and_malformed_give_none():
    table = FlowTable()
    d = Decoded()
    d.transport = "icmp"
    assert table.add(1, 0.0, d) is None
    d = Decoded()
    d.transport, d.malformed = "tcp", "truncated TCP header"
    assert table.add(2, 0.0, d) is None
    assert table.conversations == []
    # an ARP frame through the real decoder
    arp = bytes.fromhex("ffffffffffff0000000000010806") + bytes(28)
    assert table.add(3, 0.0, decode_frame(1, arp)) is None


def test_handshake_of_a_syn_carrying_data(tmp_path):
    def build(k):
        k.tcp(k.c, k.s, "S", 1000, 0, b"fastopen")          # TCP Fast Open style
        k.tcp(k.s, k.c, "SA", 5000, 1009)                   # acks the SYN and its 8 bytes
        k.tcp(k.c, k.s, "A", 1009, 5001)
    table, _, _ = flows_of(tmp_path, build)
    f = table.conversations[0]
    assert f.handshake()["complete"] and f.handshake()["frames"] == [1, 2, 3]
    assert f.bytes_c2s == 8


@pytest.mark.parametrize("steps,state,history", [
    # client SYN then client RST, no SYN-ACK
    ([("c", "S", 100, 0), ("c", "R", 101, 0)], "RSTOS0", "SR"),
    # SYN-ACK (no SYN seen) then RST from that server
    ([("s", "SA", 500, 101), ("s", "R", 501, 0)], "RSTRH", "^hr"),
    # SYN-ACK (no SYN seen) then FIN from that server
    ([("s", "SA", 500, 101), ("s", "FA", 501, 101)], "SHR", "^hf"),
    # established, only the server closed
    ([("c", "S", 100, 0), ("s", "SA", 500, 101), ("c", "A", 101, 501),
      ("s", "FA", 501, 101)], "S3", "ShAf"),
    # established, only the client closed, server silent since
    ([("c", "S", 100, 0), ("s", "SA", 500, 101), ("c", "A", 101, 501),
      ("c", "FA", 101, 501)], "S2", "ShAF"),
    # zero window from the server (w: lowercase, the responder), client retransmits (T)
    ([("c", "S", 100, 0), ("s", "SA", 500, 101), ("c", "A", 101, 501),
      ("c", "PA", 101, 501, b"xy"), ("s", "A", 501, 103, b"", 0),
      ("c", "PA", 101, 501, b"xy")], "S1", "ShADawT"),
])
def test_zeek_states_and_history(tmp_path, steps, state, history):
    def build(k):
        for step in steps:
            who, flags, seq, ack = step[:4]
            data = step[4] if len(step) > 4 else b""
            win = step[5] if len(step) > 5 else 65000
            src, dst = (k.c, k.s) if who == "c" else (k.s, k.c)
            k.tcp(src, dst, flags, seq, ack, data, win=win)
    table, _, _ = flows_of(tmp_path, build)
    (f,) = table.conversations
    assert (f.state(), f.history()) == (state, history)
