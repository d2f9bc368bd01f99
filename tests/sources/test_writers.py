"""The pcapng writer, the ring buffer and a full disk: tshark reads what they write."""
from __future__ import annotations

import os
import re
import subprocess
import time

import pytest

from analyzer.sources.open import open_capture
from analyzer.sources.pcapng_writer import PcapngWriter, writer_for
from analyzer.sources.pcapwriter import PcapWriter
from analyzer.sources.ring_buffer import RingOptions, RingWriter, parse_ring_options
from tests.sources import craft
from tests.sources.oracle import tshark_frames


def _fields(path: str, *fields: str) -> list[list[str]]:
    cmd = ["tshark", "-r", path, "-T", "fields"] + [a for f in fields for a in ("-e", f)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


@pytest.mark.parametrize("nano", [False, True])
def test_pcapng_writer_blocks_tshark_reads(tmp_path, nano):
    path = str(tmp_path / "w.pcapng")
    fr = craft.frames(5)
    times = [1700000000.25 + i * 0.000123 for i in range(5)]
    with writer_for(path, interface="lo", comment="lesson 3: handshake", snaplen=1000,
                    nanosecond=nano) as w:
        assert isinstance(w, PcapngWriter)
        for t, f in zip(times, fr):
            w.write(t, f, len(f) + 7)
    assert (w.packets, w.saved) == (5, 5)
    src = open_capture(path)
    recs = list(src)
    assert src.format == "pcapng" and src.warnings == []
    assert [r.data for r in recs] == fr and [r.origlen for r in recs] == [len(f) + 7 for f in fr]
    assert [r.ts for r in recs] == pytest.approx(times, abs=1e-6)
    rows = _fields(path, "frame.interface_name", "frame.len", "frame.cap_len",
                   "frame.time_epoch")
    assert [row[:3] for row in rows] == [["lo", str(len(f) + 7), str(len(f))] for f in fr]
    info = subprocess.run(["capinfos", path], capture_output=True, text=True).stdout
    assert "lesson 3: handshake" in info and "wirelab" in info
    assert re.search(r"Capture length = 1000\b", info) or "snaplen" in info.lower()


def test_writer_for_picks_the_format_by_name_or_option(tmp_path):
    assert writer_for(str(tmp_path / "a.pcapng")).format == "pcapng"
    assert writer_for(str(tmp_path / "a.pcap")).format == "pcap"
    assert writer_for(str(tmp_path / "b.pcap"), "pcapng").format == "pcapng"
    assert open_capture(str(tmp_path / "b.pcap")).format == "pcapng"


def test_ring_options_parse_like_dumpcap():
    assert parse_ring_options(["filesize:10", "files:3"]) == RingOptions(10, None, 3)
    assert parse_ring_options(["duration:1.5"]) == RingOptions(None, 1.5, None)
    for bad in (["files:3"], ["size:1"], ["filesize:x"], ["duration:-1"], ["filesize"]):
        with pytest.raises(ValueError):
            parse_ring_options(bad)


def test_ring_buffer_switches_by_size_and_keeps_n_files(tmp_path):
    base = str(tmp_path / "ring.pcapng")
    fr = craft.udp_frame(b"x" * 400)
    ring = RingWriter(base, RingOptions(filesize_kb=2, files=3), interface="lo")
    for i in range(40):
        ring.write(1700000000 + i, fr)
    ring.close()
    names = sorted(os.listdir(tmp_path))
    assert len(names) == 3 and names == [os.path.basename(p) for p in ring.paths]
    for name in names:
        assert re.fullmatch(r"ring_\d{5}_\d{14}\.pcapng", name)
    numbers = [int(n.split("_")[1]) for n in names]
    assert numbers == list(range(numbers[0], numbers[0] + 3)) and numbers[-1] > 3
    counts = [len(tshark_frames(str(tmp_path / n))) for n in names]
    assert all(c > 0 for c in counts) and ring.packets == 40 == ring.saved
    for n in names[:-1]:                          # a file is full once it holds 2 kB
        assert os.path.getsize(tmp_path / n) >= 2000


def test_ring_buffer_switches_by_duration_without_packets(tmp_path):
    ring = RingWriter(str(tmp_path / "t.pcap"), RingOptions(duration=0.2))
    ring.write(1.0, craft.frames(1)[0])
    deadline = time.monotonic() + 5
    while len(ring.paths) < 3 and time.monotonic() < deadline:
        ring.tick()
        time.sleep(0.05)
    ring.close()
    assert len(ring.paths) >= 3
    assert [len(tshark_frames(p)) for p in ring.paths[:2]] == [1, 0]


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs (needs root, as CI has)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                       capture_output=True)
    if r.returncode:
        pytest.skip("cannot mount tmpfs here")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)     # -l: also while a map is open


@pytest.mark.parametrize("cls", [PcapWriter, PcapngWriter])
def test_full_disk_keeps_whole_records_and_counts_them(tiny_disk, cls):
    path = str(tiny_disk / ("f.pcapng" if cls is PcapngWriter else "f.pcap"))
    fr = craft.udp_frame(b"y" * 1000)
    w = cls(path)
    with pytest.raises(OSError) as err:
        for i in range(200):
            w.write(1700000000 + i, fr)
        w.flush()
    assert err.value.errno == 28                  # ENOSPC
    assert 0 < w.saved < 200
    with open_capture(path) as src:
        assert len(list(src)) == w.saved and src.warnings == []  # cut back to whole records
    assert len(tshark_frames(path)) == w.saved
