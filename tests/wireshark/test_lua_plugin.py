"""The exported Lua plugin makes tshark find the same messages as wirelab."""
from __future__ import annotations

import pytest

from analyzer.engine import analyze_file
from analyzer.wireshark import lua_compare
from analyzer.wireshark.tshark import run_tshark
from tests.wireshark.conftest import BUNDLED, bundled_decode_as, wirelab

pytestmark = pytest.mark.slow     # tshark runs the Lua plugin over live loopback traffic

PROTOCOLS = ("chat", "lenmsg", "filexfer", "auth", "bigreply", "udpecho")


def test_export_lua_writes_a_plugin_tshark_loads(lua_path):
    listing = run_tshark(["-G", "protocols", "-X", f"lua_script:{lua_path}"])
    names = {line.split("\t")[2] for line in listing.splitlines() if line.count("\t") >= 2}
    assert set(PROTOCOLS) <= names
    fields = run_tshark(["-G", "fields", "-X", f"lua_script:{lua_path}"])
    for f in ("lenmsg.length", "lenmsg.payload", "lenmsg.wire_len", "filexfer.header",
              "bigreply.nbytes", "auth.challenge", "chat.text", "udpecho.wire_len"):
        assert f"\t{f}\t" in fields


def test_export_lua_to_stdout_and_custom_port():
    out = wirelab("export-lua", "--port", "lenmsg=7001")
    assert out.returncode == 0
    assert "lenmsg = 7001" in out.stdout and "chat = 9000" in out.stdout
    bad = wirelab("export-lua", "--port", "nosuch=1")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def test_export_lua_bad_output_path_is_one_line_error(tmp_path):
    out = wirelab("export-lua", "-o", str(tmp_path / "missing" / "x.lua"))
    assert out.returncode == 2
    assert out.stderr.strip().startswith("wirelab export-lua: error:")
    assert "Traceback" not in out.stderr


def _assert_sticky(path, decode_as, protocols):
    """The capture really has several messages in one segment and one message over several."""
    eng = analyze_file(path, decode_as=decode_as, sidecar=None)
    try:
        convs = {c.protocol: c for c in eng.conversations}
        for name in protocols:
            assert name in convs, f"no {name} conversation"
        coalesced = [c.protocol for c in eng.conversations if c.coalesced_packets]
        split = [c.protocol for c in eng.conversations if c.split_messages]
        return coalesced, split
    finally:
        eng.close()


def test_lua_matches_wirelab_on_live_loopback_traffic(live_capture, lua_path):
    path, decode_as = live_capture
    report = lua_compare.compare_capture(path, decode_as=decode_as, lua_path=lua_path)
    assert report.disagreements == []
    assert report.heuristic_only == []
    seen = {m.protocol for m in report.tshark}
    assert seen == set(PROTOCOLS)
    assert len(report.tshark) == len(report.wirelab) >= 45
    coalesced, split = _assert_sticky(path, decode_as, PROTOCOLS)
    assert {"lenmsg", "chat", "bigreply", "auth"} <= set(coalesced)
    assert {"lenmsg", "chat", "filexfer", "bigreply"} <= set(split)
    # several messages end in one frame, and a message ends in a frame that does not hold all of it
    per_frame: dict = {}
    for m in report.tshark:
        per_frame.setdefault((m.frame, m.protocol), []).append(m.length)
    assert any(len(v) >= 3 for (f, p), v in per_frame.items() if p == "lenmsg")


def test_two_pass_dissection_gives_the_same_messages(live_capture, variant_capture, lua_path):
    """tshark -2 re-dissects every frame as visited (like clicking in Wireshark)."""
    for path, decode_as in (live_capture, variant_capture):
        one = lua_compare.tshark_messages(path, lua_path, decode_as)
        two = lua_compare.tshark_messages(path, lua_path, decode_as, two_pass=True)
        assert one == two
        assert any(m.protocol == "auth" for m in one)


def test_lua_matches_wirelab_on_variants(variant_capture, lua_path):
    path, decode_as = variant_capture
    report = lua_compare.compare_capture(path, decode_as=decode_as, lua_path=lua_path)
    assert report.disagreements == []
    assert {m.protocol for m in report.tshark} == {"lenmsg", "filexfer", "auth"}
    answers = [m for m in report.tshark if m.protocol == "auth" and m.direction == "c2s"]
    assert answers[0].length == 16          # hmac-md5 answer


def test_lua_default_ports_without_decode_as(crafted_captures, lua_path):
    path = crafted_captures["default_port_protocols"]
    report = lua_compare.compare_capture(path, lua_path=lua_path)
    assert report.disagreements == []
    assert {m.protocol for m in report.tshark} == set(PROTOCOLS)
    lenmsg = [(m.frame, m.length) for m in report.tshark if m.protocol == "lenmsg"]
    assert (4, 9) in lenmsg and lenmsg.count((4, 9)) == 2      # two messages, one segment
    assert (8, 3004) in lenmsg                                  # one message, three segments


@pytest.mark.parametrize("name", ["retransmission", "out_of_order", "fast_retransmission",
                                  "window_keepalive_wrap_reuse"])
def test_lua_matches_wirelab_with_retransmissions_and_reordering(crafted_captures, lua_path, name):
    report = lua_compare.compare_capture(crafted_captures[name], lua_path=lua_path)
    assert report.disagreements == []
    assert len(report.wirelab) >= 4


def test_lua_matches_wirelab_on_real_kernel_retransmissions(lossy_capture, lua_path):
    path, decode_as = lossy_capture
    report = lua_compare.compare_capture(path, decode_as=decode_as, lua_path=lua_path)
    assert report.disagreements == []
    assert [m.length for m in report.tshark] == [4 + 256 * 1024] * 4      # 2 sent, 2 echoed


def test_malformed_frames_are_marked_without_lua_errors(crafted_captures, lua_path):
    path = crafted_captures["malformed"]
    text = run_tshark(["-X", f"lua_script:{lua_path}", "-r", path, "-V"])
    assert "Lua Error" not in text
    rows = run_tshark(["-X", f"lua_script:{lua_path}", "-r", path, "-T", "fields", "-e",
                       "frame.number", "-e", "lenmsg.malformed", "-e", "filexfer.malformed"])
    marks = [line.split("\t")[1:] for line in rows.splitlines() if line.strip("0123456789\t")]
    assert ["frame too large", ""] in marks
    assert ["", "bad header length 0"] in marks
    assert ["", "header has no valid filesize"] in marks
    report = lua_compare.compare_capture(path, lua_path=lua_path)
    assert report.disagreements == [] and report.compared == 5


def test_a_wrong_byte_order_is_reported(variant_capture, lua_path):
    """Real native-order traffic read by tshark as network order: the comparison must fail."""
    path, decode_as = variant_capture
    wrong = {p: v.split(":")[0] for p, v in decode_as.items() if v.startswith("lenmsg")}
    ts = lua_compare.tshark_messages(path, lua_path, wrong)
    eng = analyze_file(path, decode_as=decode_as, sidecar=None)
    try:
        wl, _, _ = lua_compare.wirelab_messages(eng, decode_as)
    finally:
        eng.close()
    lines = lua_compare.diff_messages([m for m in ts if m.protocol == "lenmsg"],
                                      [m for m in wl if m.protocol == "lenmsg"])
    assert lines and all(line.startswith("frame ") for line in lines)


# infer.pcap speaks a protocol of its own: wirelab infers its framing, and the plugin for it
# is generated per capture (tests/wireshark/test_lua_framing.py compares that one)
NAMED_PROTOCOLS = [p for p in BUNDLED if not p.endswith("infer.pcap")]


@pytest.mark.skipif(not NAMED_PROTOCOLS, reason="no bundled captures yet")
@pytest.mark.parametrize("path", NAMED_PROTOCOLS, ids=[p.rsplit("/", 1)[-1] for p in NAMED_PROTOCOLS])
def test_lua_matches_wirelab_on_bundled_captures(path, lua_path):
    report = lua_compare.compare_capture(path, decode_as=bundled_decode_as(path), lua_path=lua_path)
    assert report.disagreements == []
    assert report.heuristic_only == []
    assert report.compared + report.unterminated > 0
