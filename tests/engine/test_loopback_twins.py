"""Loopback twins: a copy is set aside only where a Linux cooked capture of lo proves it is
one (the outgoing copy followed by the incoming copy); never by timing on other links."""
import pytest

from analyzer.engine import analyze_file
from analyzer.render.packet_json import packet_json
from analyzer.render.rows import row
from analyzer.render.summary_json import summary_json
from tests.engine.craft import Conn, lenmsg, write, write_cooked


def _conn():
    c = Conn().handshake()
    c.send(0, lenmsg(b"twice"))
    return c.pkts


def _flags(eng, n):
    return packet_json(eng, n)["analysis"]


@pytest.mark.parametrize("linktype", [113, 276])
def test_cooked_lo_twins_set_aside_with_their_conversation(tmp_path, linktype):
    path = write_cooked(tmp_path / "twins.pcap", _conn(), linktype=linktype)
    eng = analyze_file(path)
    assert eng.packet_count == 8
    assert [_flags(eng, n) for n in range(1, 9)] == [[], ["loopback_duplicate"]] * 4
    for n in (2, 4, 6, 8):        # the copy keeps its conversation and direction
        js, orig = packet_json(eng, n), packet_json(eng, n - 1)
        assert (js["stream"], js["direction"], js["flags"]) == (0, orig["direction"], orig["flags"])
        assert row(eng, n).info == "loopback duplicate (not counted)"
        assert "loopback_duplicate" in row(eng, n).tags
    conv = eng.conversation("tcp", 0)
    assert conv.packets == 4
    assert [m.packets for m in conv.messages] == [[7]]
    assert not conv.analysis.get("retransmission")
    assert summary_json(eng)["loopback_duplicates"] == 4


def test_identical_frames_on_ethernet_are_counted(tmp_path):
    """Three identical duplicate ACKs 1 ms apart after a lost segment, then the fast
    retransmission (tshark: Dup ACK #1, #2, #3 and Fast Retransmission)."""
    c = Conn().handshake()
    first = c.segment(0, b"x" * 100)                   # lost: never captured
    c.send(0, b"y" * 100)
    c.send(0, b"z" * 100)
    for _ in range(3):
        c.pkts.append(c._pkt(1, "A", c.seq[1], first[0].payload.seq))
    c.pkts.append(c.segment(0, b"x" * 100, seq=first[0].payload.seq))
    eng = analyze_file(write(tmp_path / "dupack.pcap", c.pkts))
    assert [_flags(eng, n) for n in range(4, 10)] == [
        ["lost_segment"], [], ["duplicate_ack"], ["duplicate_ack"], ["duplicate_ack"],
        ["retransmission", "fast_retransmission"]]
    assert all(packet_json(eng, n)["stream"] == 0 for n in range(1, 10))
    assert summary_json(eng)["loopback_duplicates"] == 0


def test_retransmitted_syn_on_ethernet_is_a_retransmission(tmp_path):
    c = Conn()
    c.pkts.append(c._pkt(0, "S", 1000, 0))
    c.pkts.append(c._pkt(0, "S", 1000, 0))               # byte-identical, 1 ms later
    eng = analyze_file(write(tmp_path / "syn.pcap", c.pkts))
    assert _flags(eng, 2) == ["retransmission"]
    assert eng.conversation("tcp", 0).packets == 2


@pytest.mark.parametrize("case", [
    dict(hatype=1),                                  # an Ethernet interface (capture on "any")
    dict(copies=(0, 4)),                             # incoming first: not the loopback order
    dict(copies=(4, 4)),                             # two outgoing copies
    dict(linktype=276, ifindex=(1, 2)),              # two interfaces (veth pair, "any")
])
def test_cooked_copies_that_prove_nothing_are_counted(tmp_path, case):
    path = write_cooked(tmp_path / "c.pcap", _conn(), **case)
    eng = analyze_file(path)
    assert eng.packet_count == 8
    assert summary_json(eng)["loopback_duplicates"] == 0
    assert "retransmission" in _flags(eng, 2)
    assert eng.conversation("tcp", 0).packets == 8


def test_a_third_copy_is_counted(tmp_path):
    path = write_cooked(tmp_path / "three.pcap", _conn()[:1], copies=(4, 0, 0))
    eng = analyze_file(path)
    assert [_flags(eng, n) for n in (1, 2, 3)] == [[], ["loopback_duplicate"], ["retransmission"]]
