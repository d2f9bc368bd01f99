"""gzip / zstd captures read by magic, Solaris snoop, and clear words for formats wirelab does
not read; tshark reads the same files and is the oracle for every packet count."""
from __future__ import annotations

import bz2
import gzip
import lzma
import os
import subprocess
import tempfile

import pytest
import zstandard

from analyzer.errors import CaptureFormatError
from analyzer.sources import compressed
from analyzer.sources.open import detect_format, open_capture
from tests.sources import craft
from tests.sources.oracle import tshark_frames


def _pcap(n: int = 40) -> bytes:
    fr = craft.frames(n)
    return craft.pcap_bytes([(1700000000 + i, i, f) for i, f in enumerate(fr)])


def _temp_names() -> set[str]:
    return set(os.listdir(tempfile.gettempdir()))


@pytest.mark.parametrize("name,pack", [
    ("c.pcap.gz", gzip.compress),
    ("c.pcap.zst", lambda b: zstandard.ZstdCompressor().compress(b)),
    ("no_extension", gzip.compress),                                  # magic, not the name
    ("two_members.gz", lambda b: gzip.compress(b[:500]) + gzip.compress(b[500:])),
])
def test_compressed_capture_reads_as_the_plain_one(tmp_path, name, pack):
    plain = _pcap()
    path = craft.write(tmp_path, name, pack(plain))
    before = _temp_names()
    src = open_capture(path)
    recs = list(src)
    want = list(open_capture(craft.write(tmp_path, "plain.pcap", plain)))
    assert [r.data for r in recs] == [r.data for r in want] and src.warnings == []
    assert src.compression in ("gzip", "zstd") and detect_format(path) == "pcap"
    for r in reversed(recs):                                     # random access still works
        assert src.read_frame(r.offset, len(r.data)) == r.data
    src.close()
    assert _temp_names() == before                               # the copy never had a name
    assert len(tshark_frames(path)) == len(recs) == 40


@pytest.mark.parametrize("kind", ["gz", "zst"])
def test_compressed_stream_cut_short_keeps_what_it_held(tmp_path, kind):
    plain = _pcap(4000)          # several zstd blocks: a cut keeps the whole ones before it
    packed = (gzip.compress(plain) if kind == "gz"
              else zstandard.ZstdCompressor().compress(plain))
    path = craft.write(tmp_path, f"cut.pcap.{kind}", packed[:len(packed) * 2 // 3])
    src = open_capture(path)
    n = len(list(src))
    assert 0 < n < 4000
    assert any("damaged or cut short" in w or "truncated record" in w for w in src.warnings)
    assert n == len(tshark_frames(path))


def test_decompression_is_capped_and_leaves_nothing(tmp_path):
    path = craft.write(tmp_path, "bomb.gz", gzip.compress(bytes(5 << 20)))
    before = _temp_names()
    with open(path, "rb") as f, pytest.raises(CaptureFormatError, match="expands to more than"):
        compressed.decompress(f, "gzip", path, limit=1 << 20)
    assert _temp_names() == before


def test_pcapng_inside_gzip(tmp_path):
    content = craft.shb() + craft.idb("<", 1) + b"".join(
        craft.epb("<", 0, 0, f) for f in craft.frames(3))
    path = craft.write(tmp_path, "n.pcapng.gz", gzip.compress(content))
    src = open_capture(path)
    assert src.format == "pcapng" and len(list(src)) == 3 == len(tshark_frames(path))


@pytest.mark.parametrize("name,content,words", [
    ("a.bz2", bz2.compress(b"x" * 100), "bzip2-compressed"),
    ("a.xz", lzma.compress(b"x" * 100), "xz-compressed"),
    ("a.txt", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "text"),
    ("a.zip", b"PK\x03\x04" + bytes(40), "zip archive"),
    ("t.gz", gzip.compress(b"hello world, not a capture at all\n"),
     "gzip-compressed file holding text"),
    ("e.gz", gzip.compress(b""), "gzip-compressed, but nothing in it once decompressed"),
    ("i.gif", b"GIF89a" + bytes(100), "a GIF image"),
])
def test_unknown_formats_say_what_they_look_like(tmp_path, name, content, words):
    path = craft.write(tmp_path, name, content)
    with pytest.raises(CaptureFormatError) as err:
        open_capture(path)
    assert words in str(err.value) and "\n" not in str(err.value)


def _snoop(tmp_path, n: int = 25) -> str:
    pcap = craft.write(tmp_path, "s.pcap", _pcap(n))
    out = str(tmp_path / "s.snoop")
    subprocess.run(["editcap", "-F", "snoop", pcap, out], check=True, capture_output=True)
    return out


def test_snoop_reads_as_tshark_reads_it(tmp_path):
    path = _snoop(tmp_path)
    src = open_capture(path)
    recs = list(src)
    assert src.format == "snoop" and src.warnings == []
    assert [r.data for r in recs] == craft.frames(25)
    theirs = tshark_frames(path)
    assert [(round(r.ts, 6), len(r.data)) for r in recs] == [(round(t, 6), cap)
                                                              for t, _, cap in theirs]


def test_truncated_and_corrupt_snoop_stop_with_a_warning(tmp_path):
    data = open(_snoop(tmp_path, 5), "rb").read()
    cut = craft.write(tmp_path, "cut.snoop", data[:-10])
    src = open_capture(cut)
    assert len(list(src)) == 4 == len(tshark_frames(cut))
    assert "truncated snoop record" in src.warnings[0]
    bad = bytearray(data)
    bad[16 + 8:16 + 12] = (8).to_bytes(4, "big")             # record length < its header
    src = open_capture(craft.write(tmp_path, "bad.snoop", bytes(bad)))
    assert list(src) == [] and "corrupt snoop record at offset 16" in src.warnings[0]
