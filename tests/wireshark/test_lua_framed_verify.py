"""`wirelab verify --messages` and export-lua with stated (per-direction too) and inferred
framings: tshark running the dissector generated for each --decode-as framing cuts the same
messages as wirelab, on crafted captures whose two directions are framed differently."""
from __future__ import annotations

import json

import pytest

from analyzer.engine import analyze_file
from analyzer.wireshark import lua_compare
from analyzer.wireshark.lua_framing import framings_lua
from dissectors.framed import Framing
from tests.wireshark.conftest import wirelab
from tests.wireshark.framed_captures import request_reply, write

STATED = ["--decode-as", "7005=c2s:delim:lf,s2c:len:4:be",
          "--decode-as", "7006=framed:c2s:len:4:le:offset=2,s2c:delim:crlf"]
INFERRED = ["--decode-as", "7005=infer", "--decode-as", "7006=infer"]


@pytest.fixture(scope="module")
def two_framings(tmp_path_factory):
    """Port 7005: newline requests, 4-byte big-endian length replies; port 7006: type then
    4-byte little-endian length requests, CRLF replies.  (path, count of messages)"""
    a, reqs, reps = request_reply(7005, "lf", "len4be", 3)
    b, reqs2, reps2 = request_reply(7006, "type2_len4le", "crlf", 5, cport=40001, t0=1.7e9 + 1)
    path = write(str(tmp_path_factory.mktemp("framed") / "two.pcap"), [a, b])
    return path, len(reqs) + len(reps) + len(reqs2) + len(reps2)


def _verify(path: str, *args: str) -> tuple[int, dict]:
    out = wirelab("verify", path, "--messages", "--json", *args)
    assert "Traceback" not in out.stderr, out.stderr
    return out.returncode, json.loads(out.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("args", [STATED, INFERRED], ids=["stated", "inferred"])
def test_verify_compares_every_message(two_framings, args):
    path, count = two_framings
    code, obj = _verify(path, *args)
    assert code == 0 and obj["agree"], obj["disagreements"]
    assert obj["messages"]["compared"] == count
    assert obj["messages"]["heuristic_only"] == [] and obj["messages"]["other_framing"] == []


@pytest.mark.slow
def test_verify_text_line(two_framings):
    out = wirelab("verify", two_framings[0], "--messages", *STATED)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("agree: ") and f"{two_framings[1]} messages" in out.stdout


@pytest.mark.slow
def test_without_decode_as_inferred_ones_are_not_compared(two_framings):
    code, obj = _verify(two_framings[0])
    assert code == 0 and obj["messages"]["compared"] == 0
    assert obj["messages"]["heuristic_only"] == ["tcp 0 inferred", "tcp 1 inferred"]


@pytest.mark.slow
def test_a_framing_the_bytes_contradict_disagrees(two_framings):
    """Text requests read as 4-byte lengths: wirelab marks the stream malformed, the Lua
    marks each segment malformed; verify says where and exits 1."""
    out = wirelab("verify", two_framings[0], "--messages", "--decode-as", "7005=len:4:be")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "messages: frame " in out.stdout and "wirelab [framed c2s" in out.stdout


@pytest.mark.slow
def test_the_comparison_sees_a_different_cut(two_framings, lua_path):
    """tshark cutting 7005's replies with 2-byte lengths disagrees with wirelab's 4-byte cut
    (the comparison can fail), and a second tshark pass gives the same messages as one."""
    path = two_framings[0]
    decode_as = {7005: "framed:c2s:delim:lf,s2c:len:4:be"}
    right = {7005: (Framing.parse("delim:lf"), Framing.parse("len:4:be"))}
    wrong = {7005: (Framing.parse("delim:lf"), Framing.parse("len:2:be"))}
    eng = analyze_file(path, decode_as=decode_as, sidecar=None)
    try:
        wl, _, _ = lua_compare.wirelab_messages(eng, decode_as, right)
    finally:
        eng.close()
    lua = str(two_framings[0]) + ".lua"
    seen = {}
    for name, ports, two_pass in (("right", right, False), ("two", right, True),
                                  ("wrong", wrong, False)):
        with open(lua, "w", encoding="utf-8") as f:
            f.write(framings_lua(ports))
        seen[name] = lua_compare.tshark_messages(path, lua_path, decode_as, two_pass=two_pass,
                                                 framed_lua=lua, framed=ports)
    assert lua_compare.diff_messages(seen["right"], wl) == []
    assert seen["two"] == seen["right"]
    assert lua_compare.diff_messages(seen["wrong"], wl)


@pytest.mark.slow
def test_conversations_cut_otherwise_are_listed_not_compared(tmp_path):
    """Three conversations on an inferred port, two alike and one framed otherwise: the port's
    dissector takes the majority's framing; the third is named in other_framing and its
    messages are compared on neither side."""
    convs, alike = [], 0
    for i, (c2s, s2c) in enumerate((("lf", "len4be"), ("lf", "len4be"), ("fixed", "crlf"))):
        conv, reqs, reps = request_reply(7007, c2s, s2c, 11 + i, cport=40010 + i,
                                         t0=1.7e9 + i)
        convs.append(conv)
        alike += (len(reqs) + len(reps)) if i < 2 else 0
    path = write(str(tmp_path / "three.pcap"), convs)
    code, obj = _verify(path, "--decode-as", "7007=infer")
    assert code == 0 and obj["agree"], obj["disagreements"]
    assert obj["messages"]["compared"] == alike
    [other] = obj["messages"]["other_framing"]
    assert other.startswith("tcp 2 (c2s:fixed:24,s2c:delim:\\r\\n; port 7007 dissector: "
                            "c2s:delim:\\n,s2c:len:4:be)"), other


@pytest.mark.slow
def test_export_lua_per_direction_framing(two_framings, tmp_path, lua_path):
    """export-lua --framing c2s:..,s2c:..: tshark with it finds wirelab's messages."""
    path = two_framings[0]
    lua = str(tmp_path / "pd.lua")
    out = wirelab("export-lua", "--framing", "c2s:delim:lf,s2c:len:4:be", "--port", "7005",
                  "-o", lua)
    assert out.returncode == 0, out.stderr
    text = open(lua, encoding="utf-8").read()
    assert "-- port 7005: c2s delim:\\n; s2c len:4:be" in text
    right = {7005: (Framing.parse("delim:lf"), Framing.parse("len:4:be"))}
    ts = lua_compare.tshark_messages(path, lua_path, None, framed_lua=lua, framed=right)
    decode_as = {7005: "c2s:delim:lf,s2c:len:4:be"}
    eng = analyze_file(path, decode_as=decode_as, sidecar=None)
    try:
        wl, _, _ = lua_compare.wirelab_messages(eng, decode_as, right)
    finally:
        eng.close()
    assert len(wl) == 24 and lua_compare.diff_messages(ts, wl) == []
    assert sorted({m.direction for m in ts}) == ["c2s", "s2c"]


@pytest.mark.slow
def test_export_lua_from_a_capture_with_a_stated_framing(two_framings, tmp_path):
    lua = str(tmp_path / "cap.lua")
    out = wirelab("export-lua", "--capture", two_framings[0], "--stream", "1",
                  "--decode-as", "7006=c2s:len:4:le:offset=2,s2c:delim:crlf", "-o", lua)
    assert out.returncode == 0, out.stderr
    assert "-- port 7006: c2s len:4:le:offset=2; s2c delim:\\r\\n" in (tmp_path / "cap.lua").read_text(encoding="utf-8")
