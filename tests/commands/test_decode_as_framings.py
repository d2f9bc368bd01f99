"""--decode-as with a stated framing per direction (`PORT=c2s:FRAMING,s2c:FRAMING`) and the
`framed:` synonym, through the CLI on a crafted capture whose two directions are framed
differently; bad forms are one error line with exit 2 in every command that takes them."""
from __future__ import annotations

import json

import pytest

from tests.commands.bad_input import GOOD, assert_one_error_line, wirelab
from tests.wireshark.framed_captures import lengths, request_reply, write


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    """Port 7005: newline-delimited requests, 2-byte little-endian length replies."""
    conv, reqs, reps = request_reply(7005, "lf", "len2be", 8)
    path = write(str(tmp_path_factory.mktemp("decode_as") / "rr.pcap"), [conv])
    return path, lengths(reqs), lengths(reps)


def _messages(path: str, decode_as: str) -> dict[str, list[int]]:
    out = wirelab("summary", path, "--json", "--decode-as", decode_as)
    assert out.returncode == 0, out.stderr
    [conv] = json.loads(out.stdout)["conversations"]
    assert conv["protocol"] == "framed" and conv["malformed"] == []
    got: dict[str, list[int]] = {"c2s": [], "s2c": []}
    for m in conv["messages"]:
        got[m["direction"]].append(m["length"])
    return got


@pytest.mark.parametrize("decode_as", ["7005=c2s:delim:\\n,s2c:len:2:be",
                                       "7005=framed:s2c:len:2:be,c2s:delim:lf",
                                       "7005=C2S:delim:lf, S2C:len:2:be"])
def test_per_direction_cuts_each_direction_its_way(capture, decode_as):
    path, reqs, reps = capture
    assert _messages(path, decode_as) == {"c2s": reqs, "s2c": reps}


def test_a_direction_left_out_is_not_cut(capture):
    path, reqs, _reps = capture
    assert _messages(path, "7005=c2s:delim:lf") == {"c2s": reqs, "s2c": []}


def test_summary_describes_the_stated_framings(capture):
    path = capture[0]
    decode_as = "7005=c2s:delim:lf,s2c:len:2:be"
    out = wirelab("summary", path, "--json", "--decode-as", decode_as)
    [conv] = json.loads(out.stdout)["conversations"]
    assert conv["protocol_choice"] == {"by": "decode-as"}
    assert conv["framing"] == {
        "c2s": {"text": "every message ends with \\n", "framing": "delim:\\n", "stated": True},
        "s2c": {"text": "2-byte big-endian length at offset 0, counts payload only",
                "framing": "len:2:be", "stated": True}}
    text = " ".join(wirelab("summary", path, "--decode-as", decode_as).stdout.split())
    assert "framing s2c: 2-byte big-endian length at offset 0, counts payload only " \
           "[len:2:be] (stated)" in text
    left_out = wirelab("summary", path, "--json", "--decode-as", "7005=c2s:delim:lf")
    [conv] = json.loads(left_out.stdout)["conversations"]
    assert conv["framing"]["s2c"]["text"] == "not cut (no framing given)"


def test_framed_prefix_is_the_framing_itself(capture):
    path = capture[0]
    plain = wirelab("summary", path, "--json", "--decode-as", "7005=delim:lf")
    prefixed = wirelab("summary", path, "--json", "--decode-as", "7005=framed:delim:lf")
    assert plain.returncode == prefixed.returncode == 0
    assert plain.stdout == prefixed.stdout


def test_packets_show_both_framings(capture):
    path, reqs, reps = capture
    out = wirelab("packets", path, "--json", "--decode-as", "7005=c2s:delim:lf,s2c:len:2:be")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    got: dict[str, list[int]] = {"c2s": [], "s2c": []}
    for r in rows:
        for m in r["messages"]:
            assert m["protocol"] == "framed"
            if m["last"]:
                got[m["direction"]].append(m["length"])
    assert got == {"c2s": reqs, "s2c": reps}


BAD = [
    ("7005=c2s:delim:lf,s2c:len:3:be", ("s2c: len needs SIZE:ENDIAN",)),
    ("7005=c2s:delim:lf,c2s:fixed:4", ("c2s is given twice",)),
    ("7005=c2s:len:4:le,len:2:be", ("c2s:FRAMING,s2c:FRAMING",)),
    ("7005=s2c:", ("s2c: needs a framing",)),
    ("7005=framed", ("framed needs a framing",)),
    ("7005=framed:nosuch:1", ("unknown framing 'nosuch'",)),
]


@pytest.mark.parametrize("command", ["summary", "packets", "verify"])
@pytest.mark.parametrize("decode_as, words", BAD, ids=[b[0] for b in BAD])
def test_bad_forms_are_one_error_line(command, decode_as, words):
    out = wirelab(command, str(GOOD), "--decode-as", decode_as)
    line = assert_one_error_line(out, command, "bad decode-as", *words)
    assert out.returncode == 2, line


@pytest.mark.parametrize("framing, words", [
    ("c2s:delim:lf,s2c:zig:1", ("bad --framing", "s2c: unknown framing")),
    ("framed:", ("bad --framing", "framed needs a framing"))])
def test_export_lua_bad_framing(framing, words):
    out = wirelab("export-lua", "--framing", framing, "--port", "7005")
    assert_one_error_line(out, "export-lua", *words)
    assert out.returncode == 2
