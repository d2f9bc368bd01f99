"""export-lua for an inferred or stated framing: tshark running the generated Lua dissector
cuts the same messages (ending in the same frames, same lengths, same directions) as wirelab."""
from __future__ import annotations

import subprocess
import sys

import pytest

from analyzer.engine import analyze_file
from analyzer.render.summary_json import summary_json
from tests.engine.framing.gen import conversation
from tests.engine.framing.wire import TcpConv, write_pcap


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "analyzer", *args], capture_output=True,
                          text=True, timeout=120)


def _tshark(lua: str, pcap: str) -> list[tuple[int, int, str]]:
    out = subprocess.run(["tshark", "-X", f"lua_script:{lua}", "-r", pcap, "-Y", "wlframed",
                          "-T", "fields", "-e", "frame.number", "-e", "wlframed.length",
                          "-e", "wlframed.direction"], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    got = []
    for line in out.splitlines():
        frame, lengths, dirs = line.split("\t")
        got += [(int(frame), int(n), d) for n, d in zip(lengths.split(","), dirs.split(","))]
    return got


def _wirelab(pcap: str, decode_as=None) -> list[tuple[int, int, str]]:
    conv = summary_json(analyze_file(pcap, decode_as=decode_as))["conversations"][0]
    return [(m["packets"][-1], m["length"], m["direction"]) for m in conv["messages"]]


@pytest.mark.slow
@pytest.mark.parametrize("c2s, s2c", [("type2_len4le", "lf"), ("len2be", "len2be"),
                                      ("lenjson", "crlf"), ("fixed", "magic_len2be_incl")])
def test_inferred_framing_same_messages_in_tshark(tmp_path, c2s, s2c):
    msgs, segs = conversation(c2s, 21, count=14, mode="mixed")
    rmsgs, rsegs = conversation(s2c, 22, count=14, mode="each")
    pcap, lua = str(tmp_path / "x.pcap"), str(tmp_path / "x.lua")
    write_pcap(pcap, [TcpConv(sport=7005).open().send(0, segs).send(1, rsegs).close()])
    out = _cli("export-lua", "--capture", pcap, "--stream", "0", "-o", lua)
    assert out.returncode == 0, out.stderr
    mine = _wirelab(pcap)
    assert len(mine) == len(msgs) + len(rmsgs)
    assert _tshark(lua, pcap) == mine


@pytest.mark.slow
def test_stated_framing(tmp_path):
    msgs, segs = conversation("len4le", 4, count=10, mode="split")
    pcap, lua = str(tmp_path / "s.pcap"), str(tmp_path / "s.lua")
    write_pcap(pcap, [TcpConv(sport=7005).open().send(0, segs).close()])
    out = _cli("export-lua", "--framing", "len:4:le", "--port", "7005", "-o", lua)
    assert out.returncode == 0, out.stderr
    mine = _wirelab(pcap, {7005: "framed:len:4:le"})
    assert [n for _f, n, _d in mine] == [len(m) for m in msgs]
    assert _tshark(lua, pcap) == mine


@pytest.mark.parametrize("args, words", [
    (["--framing", "len:3:le", "--port", "7005"], "bad --framing"),
    (["--framing", "len:4:le"], "one --port"),
    (["--capture", "/nonexistent.pcap", "--stream", "0"], "no such file"),
    (["--capture", "/dev/null"], "--stream")])
def test_bad_options_one_line(args, words):
    out = _cli("export-lua", *args)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert words in out.stderr and len(out.stderr.strip().splitlines()) == 1
