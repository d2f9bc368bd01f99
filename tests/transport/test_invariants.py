"""Property tests: any sequence of TCP/UDP headers (garbage included) is accepted, and the
conversation table stays consistent."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.transport.flows import FlowTable
from analyzer.decode.decoded import Decoded

HOSTS = [("127.0.0.1", 40000), ("127.0.0.1", 40001), ("127.0.0.1", 9001), ("::1", 9001)]

packet = st.tuples(
    st.sampled_from(["tcp", "tcp", "tcp", "udp", "icmp"]),
    st.sampled_from(HOSTS), st.sampled_from(HOSTS),
    st.sampled_from([0, 1, 1000, 1001, 0xFFFFFFFF, 0x7FFFFFFF]) | st.integers(0, 0xFFFFFFFF),
    st.integers(0, 0xFFFFFFFF),
    st.integers(0, 0xFF),
    st.sampled_from([0, 1, 65535]),
    st.sampled_from([0, 1, 10, 1460]),
    st.floats(0, 0.5),
    st.none() | st.integers(0, 255),
)


def decoded(transport, src, dst, seq, ack, flags, window, length, wscale):
    d = Decoded()
    d.transport = transport
    d.src, d.sport = src
    d.dst, d.dport = dst
    d.seq, d.ack, d.flags, d.window, d.payload_len = seq, ack, flags, window, length
    d.payload_offset = 54 if transport in ("tcp", "udp") else -1   # the TCP/UDP header was read
    d.tcp_options = {"wscale": wscale} if wscale is not None else {}
    return d


@settings(max_examples=150, deadline=None)
@given(st.lists(packet, max_size=60))
def test_any_packet_sequence_keeps_the_table_consistent(packets):
    table = FlowTable()
    ts = 1_700_000_000.0
    verdicts = []
    for n, (tr, src, dst, seq, ack, flags, win, ln, dt, ws) in enumerate(packets, 1):
        ts += dt
        v = table.add(n, ts, decoded(tr, src, dst, seq, ack, flags, win, ln, ws))
        assert (v is None) == (tr == "icmp")
        verdicts.append(v)
    table.finish()
    for transport in ("tcp", "udp"):
        ids = [f.id for f in table.conversations if f.transport == transport]
        assert ids == list(range(len(ids)))               # 0-based, in order of first packet
    firsts = [f.first_packet for f in table.conversations]
    assert firsts == sorted(firsts)
    assert sum(f.packets for f in table.conversations) == sum(v is not None for v in verdicts)
    for n, v in enumerate(verdicts, 1):
        if v is not None:
            assert v.flow.first_packet <= n <= v.flow.last_packet
            assert v.new == (n == v.flow.first_packet)
    for f in table.conversations:
        hs, td = f.handshake(), f.teardown()
        assert hs["frames"] == sorted(hs["frames"]) and hs["complete"] == (len(hs["frames"]) == 3)
        assert all(f.first_packet <= x <= f.last_packet for x in hs["frames"] + td["frames"])
        assert td["kind"] in ("four-way", "fin-ack-piggybacked", "simultaneous", "half-close",
                              "rst", "none")
        assert (td["initiator"] is None) == (td["kind"] == "none")
        assert f.state() in ("S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0",
                             "RSTRH", "SH", "SHR", "OTH")
        assert set(f.history()) <= set("SsHhAaDdFfRrTtWwIiQq^")
        assert f.endpoint_text("client") and f.endpoint_text("server")
        for d in (0, 1):
            assert 0 <= f.base_seq(d) <= 0xFFFFFFFF
