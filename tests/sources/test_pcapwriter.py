"""PcapWriter: what it writes reads back (ours and tshark's reader), also while being written."""
from __future__ import annotations

import io

import pytest

from analyzer.sources.open import open_capture
from analyzer.sources.pcapwriter import PcapWriter
from tests.sources import craft
from tests.sources.oracle import tshark_frames


@pytest.mark.parametrize("nano", [False, True])
def test_round_trip_and_tshark_reads_it(tmp_path, nano):
    fr = craft.frames(4)
    path = str(tmp_path / "w.pcap")
    times = [1700000000.0, 1700000000.123456, 1700000001.999999, 1700000002.5]
    with PcapWriter(path, nanosecond=nano) as w:
        for t, f in zip(times, fr):
            w.write(t, f)
    src = open_capture(path)
    recs = list(src)
    assert src.warnings == [] and src.nanosecond == nano
    assert [r.data for r in recs] == fr
    assert [r.ts for r in recs] == pytest.approx(times, abs=1e-6)
    assert [(ln, cap) for _, ln, cap in tshark_frames(path)] == [(len(f), len(f)) for f in fr]


def test_snaplen_cuts_and_keeps_origlen(tmp_path):
    path = str(tmp_path / "s.pcap")
    f = craft.frames(1)[0]
    with PcapWriter(path, snaplen=40) as w:
        w.write(1.0, f)
        w.write(2.0, f[:30], origlen=1000)
    recs = list(open_capture(path))
    assert [(r.data, r.origlen) for r in recs] == [(f[:40], len(f)), (f[:30], 1000)]


def test_readable_while_being_written(tmp_path):
    path = str(tmp_path / "live.pcap")
    fr = craft.frames(3)
    w = PcapWriter(path, linktype=101, flush_interval=None)
    w.write(1.0, fr[0])
    w.flush()
    src = open_capture(path)
    assert [r.data for r in src] == [fr[0]] and src.warnings == []
    w.write(2.0, fr[1])
    w.write(3.0, fr[2])
    w.flush()
    assert src.refresh() is True
    assert [r.data for r in src] == fr and src.warnings == []
    assert src.read_frame(src.size - len(fr[2]), len(fr[2])) == fr[2]
    w.close()
    with pytest.raises(ValueError):
        w.write(4.0, fr[0])


def test_file_object_is_not_closed(tmp_path):
    buf = io.BytesIO()
    with PcapWriter(buf, linktype=1) as w:
        w.write(1.5, b"\x00" * 20)
    assert not buf.closed and len(buf.getvalue()) == 24 + 16 + 20
