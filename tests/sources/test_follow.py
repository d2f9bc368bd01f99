"""CaptureSource.follow(): reading a capture while another thread is still writing it."""
from __future__ import annotations

import threading
import time

from analyzer.sources.open import open_capture
from analyzer.sources.pcapwriter import PcapWriter
from tests.sources import craft


def test_follow_a_pcap_being_written(tmp_path):
    path = str(tmp_path / "live.pcap")
    fr = craft.frames(20)
    w = PcapWriter(path, flush_interval=None)
    w.write(0.0, fr[0])
    w.flush()
    done = threading.Event()

    def writer():
        for i, f in enumerate(fr[1:], 1):
            w.write(float(i), f)
            if i % 3 == 0:
                w.flush()
                time.sleep(0.02)
        w.close()
        done.set()

    src = open_capture(path)
    t = threading.Thread(target=writer)
    t.start()
    got = []
    for rec in src.follow(poll=0.02, idle_timeout=3.0):
        got.append(rec)
        if len(got) == len(fr):
            break
    t.join(10)
    assert [r.data for r in got] == fr
    assert [r.ts for r in got] == [float(i) for i in range(20)]
    assert src.warnings == []                         # partial records were waited for
    for r in got:
        assert src.read_frame(r.offset, len(r.data)) == r.data


def test_follow_ends_after_idle_timeout_and_warns_about_a_torn_tail(tmp_path):
    fr = craft.frames(3)
    full = craft.pcap_bytes([(1, 0, f) for f in fr])
    path = craft.write(tmp_path, "torn.pcap", full[:-4])
    src = open_capture(path)
    t0 = time.monotonic()
    got = list(src.follow(poll=0.05, idle_timeout=0.2))
    assert time.monotonic() - t0 < 10
    assert [r.data for r in got] == fr[:2]
    assert len(src.warnings) == 1 and "truncated record at offset" in src.warnings[0]


def test_follow_stop_callback(tmp_path):
    fr = craft.frames(2)
    path = craft.write(tmp_path, "s.pcap", craft.pcap_bytes([(1, 0, f) for f in fr]))
    src = open_capture(path)
    calls = []

    def stop():
        calls.append(1)
        return True

    assert [r.data for r in src.follow(poll=0.01, idle_timeout=None, stop=stop)] == fr
    assert calls == [1]


def test_follow_a_pcapng_growing_block_by_block(tmp_path):
    fr = craft.frames(6)
    blocks = [craft.shb(), craft.idb("<", 1)] + [craft.epb("<", 0, i, f) for i, f in enumerate(fr)]
    content = b"".join(blocks)
    path = tmp_path / "g.pcapng"
    path.write_bytes(content[:len(blocks[0]) + len(blocks[1]) + 30])   # SHB, IDB, part of EPB 0

    def writer():
        with open(path, "r+b") as f:
            f.seek(0, 2)
            pos = f.tell()
            while pos < len(content):
                step = content[pos:pos + 37]                 # torn writes across blocks
                f.write(step)
                f.flush()
                pos += len(step)
                time.sleep(0.01)

    src = open_capture(str(path))
    t = threading.Thread(target=writer)
    t.start()
    got = []
    for rec in src.follow(poll=0.01, idle_timeout=3.0):
        got.append(rec.data)
        if len(got) == len(fr):
            break
    t.join(10)
    assert got == fr and src.warnings == []
