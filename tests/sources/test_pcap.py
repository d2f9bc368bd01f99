"""Classic pcap reading: formats (fault 3), fatal headers (1, 2), truncation (4), caplen (5)."""
from __future__ import annotations

import struct
import tracemalloc

import pytest
from scapy.all import wrpcap, Ether, IP, TCP

from analyzer.errors import CaptureFormatError
from analyzer.sources.open import open_capture
from analyzer.sources.pcapfile import PcapSource, read_pcap
from tests.sources import craft
from tests.sources.oracle import tshark_frames


def test_scapy_written_pcap_matches_tshark(tmp_path):
    pkts = [Ether() / IP() / TCP(sport=1000 + i, dport=9001) / (b"a" * i) for i in range(5)]
    for i, p in enumerate(pkts):
        p.time = 1700000000 + i * 0.25
    path = str(tmp_path / "s.pcap")
    wrpcap(path, pkts)
    src = open_capture(path)
    recs = list(src)
    assert src.format == "pcap" and src.warnings == []
    assert [(round(r.ts, 6), r.origlen, len(r.data)) for r in recs] == \
        [(round(t, 6), ln, cap) for t, ln, cap in tshark_frames(path)]
    assert [r.data for r in recs] == [bytes(p) for p in pkts]
    assert src.progress == src.size


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
def test_micro_nano_and_both_byte_orders(tmp_path, endian, nano):
    fr = craft.frames(3)
    fracs = [123456789, 5, 999999999] if nano else [123456, 5, 999999]
    content = craft.pcap_bytes([(1700000000 + i, fracs[i], f) for i, f in enumerate(fr)],
                               endian=endian, nano=nano)
    path = craft.write(tmp_path, "x.pcap", content)
    src = open_capture(path)
    recs = list(src)
    assert src.warnings == []
    assert [r.data for r in recs] == fr
    scale = 1e-9 if nano else 1e-6
    for i, r in enumerate(recs):
        assert r.ts == pytest.approx(1700000000 + i + fracs[i] * scale, abs=1e-7)
        assert r.linktype == 1
        assert src.read_frame(r.offset, len(r.data)) == r.data
    assert src.nanosecond == nano and src.endian == endian
    ours = [(round(r.ts, 6), r.origlen, len(r.data)) for r in recs]
    assert ours == [(round(t, 6), ln, cap) for t, ln, cap in tshark_frames(path)]


def test_empty_file_is_fatal(tmp_path):
    path = craft.write(tmp_path, "empty.pcap", b"")
    with pytest.raises(CaptureFormatError, match="empty file"):
        open_capture(path)
    with pytest.raises(CaptureFormatError, match="empty file"):
        PcapSource(path)


@pytest.mark.parametrize("keep", [4, 10, 23])
def test_truncated_global_header_is_fatal(tmp_path, keep):
    path = craft.write(tmp_path, "short.pcap", craft.pcap_bytes([])[:keep])
    with pytest.raises(CaptureFormatError, match=f"truncated pcap global header \\({keep} of 24"):
        open_capture(path)


def test_unknown_magic_is_fatal_and_one_line(tmp_path):
    path = craft.write(tmp_path, "x.pcap", b"GIF89a" + bytes(100))
    with pytest.raises(CaptureFormatError) as err:
        open_capture(path)
    assert "unknown file format: a GIF image (magic 0x47494638)" in str(err.value)
    assert "\n" not in str(err.value)


def test_pcapng_given_to_the_pcap_reader(tmp_path):
    path = craft.write(tmp_path, "x.pcap", craft.shb() + craft.idb("<", 1))
    with pytest.raises(CaptureFormatError, match="is a pcapng file, not pcap"):
        PcapSource(path)
    assert open_capture(path).format == "pcapng"      # the auto-detecting path reads it


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(CaptureFormatError, match="no such file"):
        open_capture(str(tmp_path / "nope.pcap"))
    with pytest.raises(CaptureFormatError, match="is a directory"):
        open_capture(str(tmp_path))


def test_bad_version_is_fatal(tmp_path):
    content = bytearray(craft.pcap_bytes([]))
    content[4:6] = struct.pack("<H", 7)
    path = craft.write(tmp_path, "v.pcap", bytes(content))
    with pytest.raises(CaptureFormatError, match="unsupported pcap version 7.4"):
        open_capture(path)


@pytest.mark.parametrize("cut", [1, 8, 15])
def test_truncated_last_record_header_keeps_earlier(tmp_path, cut):
    fr = craft.frames(3)
    full = craft.pcap_bytes([(1, 0, f) for f in fr])
    last_start = len(full) - 16 - len(fr[2])
    path = craft.write(tmp_path, "t.pcap", full[:last_start + cut])
    src = open_capture(path)
    recs = list(src)
    assert [r.data for r in recs] == fr[:2]
    assert len(src.warnings) == 1
    assert f"truncated record header at offset {last_start} ({cut} of 16 bytes)" in src.warnings[0]
    assert "2 packets kept" in src.warnings[0]


def test_truncated_last_record_body_keeps_earlier(tmp_path):
    fr = craft.frames(3)
    full = craft.pcap_bytes([(1, 0, f) for f in fr])
    last_start = len(full) - 16 - len(fr[2])
    path = craft.write(tmp_path, "t.pcap", full[:-5])
    src = open_capture(path)
    assert [r.data for r in src] == fr[:2]
    assert src.warnings == [f"truncated record at offset {last_start}: caplen {len(fr[2])} but "
                            f"only {len(fr[2]) - 5} bytes left: stopped reading there, "
                            "2 packets kept"]
    # tshark agrees on what is readable
    assert len(tshark_frames(path)) == 2


@pytest.mark.parametrize("caplen,snaplen", [(0xFFFFFFF0, 262144), (0xFFFFFFF0, 0),
                                             (0xFFFFFFF0, 1500), (300000, 65535)])
def test_huge_caplen_rejected_without_allocating(tmp_path, caplen, snaplen):
    fr = craft.frames(2)
    good = craft.pcap_bytes([(1, 0, f) for f in fr], snaplen=snaplen)
    bad_at = len(good)
    content = good + struct.pack("<IIII", 2, 0, caplen, caplen) + bytes(3000)
    path = craft.write(tmp_path, "big.pcap", content)
    tracemalloc.start()
    try:
        src = open_capture(path)
        recs = list(src)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [r.data for r in recs] == fr
    assert peak < 256 * 1024
    assert len(src.warnings) == 1
    w = src.warnings[0]
    assert f"record at offset {bad_at}: caplen {caplen} exceeds snaplen" in w
    assert "2 packets kept" in w


def test_read_frame_random_access_and_progress(tmp_path):
    fr = craft.frames(10)
    path = craft.write(tmp_path, "r.pcap", craft.pcap_bytes([(1, i, f) for i, f in enumerate(fr)]))
    with open_capture(path) as src:
        it = iter(src)
        first = next(it)
        assert 0 < src.progress < src.size
        assert 0 < src.fraction < 1
        rest = list(it)
        assert src.progress == src.size and src.fraction == 1.0
        for r in reversed([first] + rest):
            assert src.read_frame(r.offset, len(r.data)) == r.data
        with pytest.raises(ValueError):
            src.read_frame(src.size - 2, 10)
        # iterating again starts from the beginning
        assert len(list(src)) == 10


def test_read_pcap_compat_function(tmp_path):
    fr = craft.frames(2)
    path = craft.write(tmp_path, "c.pcap", craft.pcap_bytes([(1, 0, f) for f in fr]))
    assert [r.data for r in read_pcap(path)] == fr


def test_fcs_bits_in_linktype_field_are_ignored(tmp_path):
    fr = craft.frames(1)
    content = craft.pcap_bytes([(1, 0, fr[0])], linktype=1 | 0x10000000)
    src = open_capture(craft.write(tmp_path, "f.pcap", content))
    assert [r.linktype for r in src] == [1] and src.warnings == []


def test_legacy_snaplen_65535_accepts_bigger_loopback_frames(tmp_path):
    big = craft.frames(1)[0] + bytes(65540)      # a 65549+-byte loopback frame, Scapy-style
    content = craft.pcap_bytes([(1, 0, big), (2, 0, big[:100])], snaplen=65535)
    path = craft.write(tmp_path, "scapy.pcap", content)
    src = open_capture(path)
    assert [len(r.data) for r in src] == [len(big), 100]
    assert src.warnings == [f"packet 1 (record at offset 24): caplen {len(big)} exceeds the "
                            "file's snaplen 65535: read on, as tshark does (warned once)"]
    assert [cap for _, _, cap in tshark_frames(path)] == [len(big), 100]
    # above Wireshark's maximum it is still a corrupt header
    content = craft.pcap_bytes([(1, 0, big)], snaplen=65535)[:24] + struct.pack("<IIII", 1, 0, 262145, 262145)
    src = open_capture(craft.write(tmp_path, "bad.pcap", content + bytes(300000)))
    assert list(src) == [] and "exceeds snaplen 262144" in src.warnings[0]


def test_fifo_is_refused_without_blocking(tmp_path):
    import os
    fifo = str(tmp_path / "pipe.pcap")
    os.mkfifo(fifo)
    with pytest.raises(CaptureFormatError, match="not a regular file"):
        open_capture(fifo)
    with pytest.raises(CaptureFormatError, match="not a regular file"):
        PcapSource(fifo)


def test_kuznetzov_modified_pcap(tmp_path):
    fr = craft.frames(2)
    out = [struct.pack("<IHHiIII", 0xA1B2CD34, 2, 4, 0, 0, 262144, 1)]
    for i, f in enumerate(fr):
        out.append(struct.pack("<IIII", 10 + i, 500, len(f), len(f)) + struct.pack("<IHBx", 1, 0x0800, 0) + f)
    path = craft.write(tmp_path, "kuz.pcap", b"".join(out))
    src = open_capture(path)
    recs = list(src)
    assert [r.data for r in recs] == fr and src.warnings == []
    assert [(round(r.ts, 6), r.origlen, len(r.data)) for r in recs] == \
        [(round(t, 6), ln, cap) for t, ln, cap in tshark_frames(path)]


def _mapped_rss_kb(path: str) -> int:
    """Resident kB of this process's mappings of `path` (/proc/self/smaps)."""
    rss, inside = 0, False
    with open("/proc/self/smaps", encoding="utf-8", errors="replace") as f:
        for line in f:
            first = line.split(None, 1)[0]
            if "-" in first and not first.endswith(":"):       # a mapping's header line
                inside = line.rstrip().endswith(path)
            elif inside and first == "Rss:":
                rss += int(line.split()[1])
    return rss


def test_release_pages_keeps_data_readable(tmp_path):
    fr = craft.frames(300)                 # ~20 KB: several pages
    path = craft.write(tmp_path, "rel.pcap", craft.pcap_bytes([(1, i, f) for i, f in enumerate(fr)]))
    src = open_capture(path)
    recs = list(src)
    before = _mapped_rss_kb(path)
    src.release_pages(src.size)            # drop every page we touched
    assert before >= 8 and _mapped_rss_kb(path) < before
    assert [src.read_frame(r.offset, len(r.data)) for r in recs] == fr


def test_caplen_above_snaplen_is_read_on_with_one_warning(tmp_path):
    """Records longer than the file's snaplen (a too-small snaplen in the header): every packet
    is read, one warning names the first such packet, and tshark counts the same."""
    fr = craft.frames(6)
    big = [f + bytes(1600) for f in fr[2:5]]          # packets 3, 4, 5 exceed snaplen 1500
    recs = [(1, 0, fr[0]), (1, 1, fr[1])] + [(2, i, f) for i, f in enumerate(big)] + [(3, 0, fr[5])]
    path = craft.write(tmp_path, "over.pcap", craft.pcap_bytes(recs, snaplen=1500))
    src = open_capture(path)
    got = list(src)
    assert [r.data for r in got] == [fr[0], fr[1], *big, fr[5]]
    assert len(src.warnings) == 1
    assert src.warnings[0].startswith("packet 3 (record at offset ")
    assert f"caplen {len(big[0])} exceeds the file's snaplen 1500: read on" in src.warnings[0]
    assert [len(h) for h in [list(src.scan_headers())]] == [6]
    assert len(tshark_frames(path)) == 6
