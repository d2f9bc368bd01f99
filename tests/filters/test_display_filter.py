"""The display filter language: errors (message + position) and evaluation on the real engine."""
from __future__ import annotations

import pytest

from analyzer.filters.display_filter import FilterError, compile_filter, field_names
from analyzer.engine import analyze_file
from tests.lenmsg_capture import lenmsg_capture


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    path = lenmsg_capture(tmp_path_factory.mktemp("df") / "lenmsg.pcap")
    eng = analyze_file(path)
    yield eng
    close = getattr(eng, "close", None)
    if close:
        close()


def matching(engine, text: str) -> list[int]:
    f = compile_filter(text)
    return [n for n in range(1, engine.packet_count + 1) if f.matches(engine, n)]


TCP = list(range(1, 16))
UDP = [16, 17]


@pytest.mark.parametrize("text, expected", [
    ("", TCP + UDP),
    ("tcp.port == 9001", TCP),
    ("tcp.dstport == 9001", [1, 3, 4, 6, 8, 9, 12, 13, 15]),
    ("tcp.srcport eq 9001", [2, 5, 7, 10, 11, 14]),
    ("udp", UDP),
    ("udp.port == 9005 && udp.srcport == 9005", [17]),
    ("tcp.flags.syn", [1, 2]),
    ("tcp.flags.syn and not tcp.flags.ack", [1]),
    ("tcp.flags.fin || tcp.flags.syn", [1, 2, 13, 14]),
    ("ip.addr == 127.0.0.1", TCP + UDP),
    ("ip.addr == 127.0.0.0/8", TCP + UDP),
    ("ip.addr == 10.0.0.1", []),
    ("ip.addr != 10.0.0.1", TCP + UDP),
    ("tcp.analysis.retransmission", [11]),
    ("msg.coalesced", [6, 7]),
    ("msg.split", [8, 9]),
    ("msg", [4, 5, 6, 7, 8, 9, 10, 16, 17]),
    ("lenmsg", [4, 5, 6, 7, 9, 10]),        # where a message ends, as Wireshark shows it
    ('msg and msg.protocol == "lenmsg"', [4, 5, 6, 7, 8, 9, 10]),   # any part of a message
    ("udpecho", UDP),
    ('conv.state == "SF" and tcp', TCP),
    ('conv.protocol == "lenmsg"', TCP),
    ("tcp.len > 0 and not tcp.analysis.retransmission", [4, 5, 6, 7, 8, 9, 10]),
    ("(tcp.flags.syn or udp) and !(udp.srcport == 9005)", [1, 2, 16]),
    ("frame.number <= 3", [1, 2, 3]),
    ("tcp.stream == 0", TCP),
    ("udp.stream == 0", UDP),
    ('msg.summary contains "hello"', [4]),
    ('msg.summary contains "HELLO"', [5]),
    ('msg.summary matches "^LEN=3 \'o"', [6, 7]),
    ("frame.len >= 0x50", [10, 11]),
])
def test_filter_selects_the_right_packets(engine, text, expected):
    assert matching(engine, text) == expected


@pytest.mark.parametrize("text, message, position", [
    ("tcp.prot == 1", "unknown field 'tcp.prot'; did you mean 'tcp.port'?", 0),
    ("tcp.port = 3", "'=' is not an operator", 9),
    ("tcp.port == ", "value expected after '=='", 12),
    ('tcp.port == "x"', "'tcp.port' is a number", 12),
    ("(tcp.port == 1", "missing ')'", 14),
    ("tcp.port == 1)", "unbalanced ')'", 13),
    ("tcp and", "expression expected", 7),
    ("tcp.port 9001", "operator expected after 'tcp.port'", 9),
    ('msg.summary contains "abc', "unterminated string", 21),
    ("ip.addr == 300.1.2.3", "is not an IP address", 11),
    ("ip.addr > 1.2.3.4", "cannot compare addresses", 8),
    ("tcp.flags.syn > 1", "needs a number", 14),
    ("tcp.port contains 9", "not a text field", 9),
    ('msg.summary matches "("', "bad regular expression", 20),
    ("tcp # 1", "unexpected character '#'", 4),
    ("(" * 100 + "tcp" + ")" * 100, "nested too deeply", 64),
    ("and", "field name expected", 0),
])
def test_bad_filters_raise_with_reason_and_position(text, message, position):
    with pytest.raises(FilterError) as info:
        compile_filter(text)
    assert message in info.value.message
    assert info.value.position == position


def test_overlong_filter_is_rejected_without_parsing():
    with pytest.raises(FilterError, match="too long"):
        compile_filter("tcp or " * 2000 + "tcp")


def test_field_names_cover_the_documented_examples():
    names = set(field_names())
    for name in ("tcp.port", "tcp.flags.syn", "ip.addr", "tcp.analysis.retransmission",
                 "msg.coalesced", "conv.state", "lenmsg"):
        assert name in names
