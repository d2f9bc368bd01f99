"""`wirelab graph`: the plotted data of a known crafted capture (tests/lenmsg_capture.py:
packets 1-10 one millisecond apart, a retransmission of packet 10 at 0.209 s, the teardown,
then two UDP datagrams), and the files drawn from it."""
from __future__ import annotations

import os
import re

import pytest

from analyzer.cli import main
from analyzer.engine import analyze_file
from analyzer.render import graph_data, graph_files
from tests.lenmsg_capture import lenmsg_capture

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    return lenmsg_capture(tmp_path_factory.mktemp("graph") / "lenmsg.pcap")


@pytest.fixture(scope="module")
def engine(capture):
    eng = analyze_file(capture)
    yield eng
    eng.close()


def test_io_series_counts_packets_and_bytes_per_interval(engine):
    s = graph_data.io_series(engine, 0.1)
    assert s.times == [0.0, 0.1, 0.2]
    assert s.packets == [10, 0, 7]
    assert sum(s.bytes) == sum(engine.index.origlen)
    assert s.bytes[0] == sum(engine.index.origlen[:10])


def test_io_series_of_one_conversation_and_of_a_display_filter(engine):
    from analyzer.filters.display_filter import compile_filter
    tcp = graph_data.io_series(engine, 0.1, stream=("tcp", 0))
    assert tcp.packets == [10, 0, 5]
    f = compile_filter("udp")
    udp = graph_data.io_series(engine, 0.1, keep=lambda n: f.matches(engine, n))
    assert udp.packets == [0, 0, 2]


def test_seq_series_marks_the_retransmission_and_the_window_line(engine):
    s = graph_data.seq_series(engine, engine.conversation("tcp", 0))
    c2s, s2c = s["c2s"], s["s2c"]
    # the SYN counts one sequence number; then 9 + 14 + 10 + 19 payload bytes; then the FIN
    assert [(a, b) for _, a, b in c2s.segments] == [(0, 1), (1, 10), (10, 24), (24, 34), (34, 53), (53, 54)]
    assert c2s.retransmissions == []
    assert [(a, b) for _, a, b in s2c.retransmissions] == [(24, 53)]
    assert s2c.retransmissions[0][0] == pytest.approx(0.209, abs=1e-4)
    # what the client announced for the server's data: its ack, and ack + window (65495)
    assert [a for _, a in s2c.acks] == [1, 1, 10, 24, 24, 53, 53, 54]
    assert [w - a for (_, a), (_, w) in zip(s2c.acks, s2c.windows)] == [65495] * 8


def test_rtt_series_measures_each_segment_to_its_ack(engine):
    rtt = graph_data.rtt_series(engine, engine.conversation("tcp", 0))
    assert [seq for _, seq, _ in rtt["c2s"]] == [1, 10, 24, 34]
    assert [ms for *_, ms in rtt["c2s"]] == pytest.approx([1.0, 1.0, 2.0, 1.0], abs=0.01)
    # the server's third reply was retransmitted: Karn's rule leaves it out
    assert [seq for _, seq, _ in rtt["s2c"]] == [1, 10]


def test_throughput_series_in_bits_per_second(engine):
    tp = graph_data.throughput_series(engine, engine.conversation("tcp", 0), 0.005)
    assert tp["c2s"].packets == [1, 3]
    assert tp["c2s"].bytes == [9 * 8 / 0.005, (14 + 10 + 19) * 8 / 0.005]


def test_seq_file_plots_the_segments_it_was_given(engine, tmp_path):
    series = graph_data.seq_series(engine, engine.conversation("tcp", 0))
    out = str(tmp_path / "seq.svg")
    fig = graph_files.draw_seq(series, out, "test")
    lines = {line.get_gid(): line for ax in fig.axes for line in ax.get_lines()}
    ys = [y for y in lines["s2c-retransmissions"].get_ydata() if y is not None]
    assert ys == [24, 53]
    assert [y for y in lines["c2s-segments"].get_ydata() if y is not None][:4] == [0, 1, 1, 10]
    svg = open(out, encoding="utf-8").read()
    for gid in ("c2s-segments", "s2c-segments", "s2c-retransmissions", "c2s-ack", "c2s-window"):
        assert f'id="{gid}"' in svg
    # one path per drawn line; the retransmission line holds its one segment (two points)
    group = re.search(r'<g id="s2c-retransmissions">(.*?)</g>', svg, re.S).group(1)
    assert len(re.findall(r"<path ", group)) >= 1


def test_io_file_bars_hold_the_counts(engine, tmp_path):
    series = graph_data.io_series(engine, 0.1)
    fig = graph_files.draw_io(series, str(tmp_path / "io.png"), "io")
    bars = [round(p.get_height()) for p in fig.axes[0].patches]
    assert bars == [10, 0, 7]
    assert open(tmp_path / "io.png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("kind", ["io", "seq", "rtt", "throughput"])
def test_graph_command_writes_each_kind(capture, tmp_path, capsys, kind):
    out = str(tmp_path / f"{kind}.svg")
    assert main(["graph", kind, capture, "--stream", "0", "-i", "0.05", "-o", out]) == 0
    assert open(out, encoding="utf-8").read().lstrip().startswith("<?xml")
    assert f"{kind} graph" in capsys.readouterr().err


def test_graph_io_with_a_display_filter(capture, tmp_path, capsys):
    out = str(tmp_path / "io.svg")
    assert main(["graph", "io", capture, "-Y", "tcp.flags.syn == 1", "-i", "1", "-o", out]) == 0
    assert "1 intervals, 2 packets" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["seq", "-o", "x.svg"], "needs --stream N"),
    (["seq", "--stream", "7", "-o", "x.svg"], "no tcp stream 7 (this capture has 0-0)"),
    (["io", "-o", "x.gif"], "name it .png, .svg or .pdf"),
    (["io", "-i", "0", "-o", "x.svg"], "--interval needs"),
    (["io", "-i", "0.000001", "-o", "x.svg"], "use a longer interval"),
    (["io", "-Y", "tcp.prot == 1", "-o", "x.svg"], "bad display filter"),
    (["rtt", "--stream", "0", "--udp", "-o", "x.svg"], "needs a TCP conversation"),
])
def test_graph_bad_input_one_line_and_no_file(capture, tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    kind, rest = args[0], args[1:]
    assert main(["graph", kind, capture, *rest]) != 0
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert os.listdir(tmp_path) == []
