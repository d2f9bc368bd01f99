"""The filter syntax Wireshark users type: contains/matches over bytes, slices, sets, `!=`
and `~=` as tshark 4.0 defines them, frame timing and length fields, the Lua plugin's field
names.  Packets of tests/lenmsg_capture.py (payloads listed in its docstring)."""
from __future__ import annotations

import pytest

from analyzer.engine import analyze_file
from analyzer.filters.display_filter import FilterError, compile_filter, field_names
from tests.lenmsg_capture import lenmsg_capture


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    eng = analyze_file(lenmsg_capture(tmp_path_factory.mktemp("ws") / "lenmsg.pcap"))
    yield eng
    eng.close()


def matching(engine, text: str) -> list[int]:
    f = compile_filter(text)
    return [n for n in range(1, engine.packet_count + 1) if f.matches(engine, n)]


@pytest.mark.parametrize("text, expected", [
    ('frame contains "hello"', [4]),
    ('frame contains "HELLO"', [5]),
    ("frame contains 00:00:00:03", [6, 7]),
    ('tcp contains "two"', [6, 9]),
    ('frame matches "split-ACROSS"', [10, 11]),            # matches ignores case
    ('frame matches "^x"', []),
    ("tcp.payload", [4, 5, 6, 7, 8, 9, 10, 11]),
    ("tcp.payload[0:4] == 00:00:00:05", [4, 5]),
    ("tcp.payload[0:4] == 00:00:00:19", [8, 10, 11]),
    ('tcp.payload[4:5] == "hello"', [4]),
    ("tcp.payload[-1] == 0x73", []),                       # not a byte string: error below
    ("tcp.port in {9000 9001}", list(range(1, 16))),        # wirelab also takes spaces
    ("tcp.port in {9000, 9001}", list(range(1, 16))),
    ("udp.port in {9000..9010}", [16, 17]),
    ("tcp.srcport in {40000}", [1, 3, 4, 6, 8, 9, 12, 13, 15]),
    ("tcp.port != 40000", []),                             # all not equal: one port is 40000
    ("tcp.port ~= 40000", list(range(1, 16))),             # any not equal
    ("tcp.port === 9001", []),
    ("frame.time_delta > 0.0005", list(range(2, 18))),
    ("frame.time_relative >= 0.0035", list(range(5, 18))),
    ("tcp.len == 10", [8]),
    ("ip.len == 40", [1, 2, 3, 12, 13, 14, 15]),
    ("udp.length == 12", [16, 17]),
    ("tcp.window_size == 65495", list(range(1, 16))),
    ("lenmsg.length == 25", [9, 10]),                 # not in the retransmission
    ("lenmsg.wire_len == 7", [6, 7]),
    ('lenmsg.direction == "s2c"', [5, 7, 10]),
    ('lenmsg.text contains "SPLIT"', [10]),
    ("udpecho.wire_len == 4", [16, 17]),
    ("data", []),
])
def test_wireshark_syntax(engine, text, expected):
    if text.startswith("tcp.payload[-1] == 0x"):
        with pytest.raises(FilterError, match="not a byte string"):
            compile_filter(text)
        return
    assert matching(engine, text) == expected


@pytest.mark.parametrize("text, message", [
    ("tcp.port[0:2] == 00:01", "cannot be sliced"),
    ("tcp.payload[x] == 00", "bad slice"),
    ("tcp.port in 9001", "'{' expected"),
    ("tcp.port in {}", "empty set"),
    ("tcp.port in {9001", "missing '}'"),
    ("frame contains hello", "not a byte string"),
])
def test_bad_new_syntax_is_reported(text, message):
    with pytest.raises(FilterError, match=message):
        compile_filter(text)


def test_field_names_are_the_lua_plugin_names():
    names = set(field_names())
    for name in ("lenmsg.length", "lenmsg.wire_len", "filexfer.header_length", "chat.text",
                 "bigreply.nbytes", "udpecho.text", "tcp.payload", "frame.time_delta",
                 "tcp.window_size", "ip.len", "udp.length", "data"):
        assert name in names
