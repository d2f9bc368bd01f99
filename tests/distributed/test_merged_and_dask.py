"""Several capture files read as one (time order across files, numbering on), in one
process and on a Dask LocalCluster of 2 workers: the same summary JSON as one process on
the merged capture, whatever the split, the order the files are named in, or their overlap."""
from __future__ import annotations

import io
import json
import os
import random
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.distributed.run import summary_on_dask
from analyzer.engine import analyze_file
from analyzer.engine.loader import display_name
from analyzer.errors import WirelabError
from analyzer.render.summary_json import write_summary_json
from analyzer.sources.merged import MergedSource

ROOT = Path(__file__).resolve().parents[2]


def generated(tmp_path, seed: int, packets: int = 3000) -> str:
    path = str(tmp_path / f"gen{seed}.pcap")
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gen_capture.py"), "-n",
                    str(packets), "--seed", str(seed), "--concurrent", "6", "-o", path],
                   check=True, capture_output=True)
    return path


def records(path: str) -> tuple[bytes, list[bytes]]:
    b = open(path, "rb").read()
    pos, out = 24, []
    while pos + 16 <= len(b):
        caplen = struct.unpack_from("<I", b, pos + 8)[0]
        out.append(b[pos:pos + 16 + caplen])
        pos += 16 + caplen
    return b[:24], out


def split(path: str, outdir: Path, cuts: list[int]) -> list[str]:
    """The records of `path` cut into consecutive files at the given record indexes."""
    head, recs = records(path)
    bounds = [0] + sorted(cuts) + [len(recs)]
    files = []
    for k in range(len(bounds) - 1):
        f = outdir / f"ring_{k:05d}.pcap"
        f.write_bytes(head + b"".join(recs[bounds[k]:bounds[k + 1]]))
        files.append(str(f))
    return files


def one_process(paths) -> str:
    buf = io.StringIO()
    write_summary_json(analyze_file(paths, sidecar=None), buf)
    return buf.getvalue()


def without_file(text: str) -> dict:
    obj = json.loads(text)
    obj.pop("file")
    return obj


@pytest.mark.parametrize("seed", [0] + [pytest.param(s, marks=pytest.mark.slow) for s in range(1, 6)])
def test_split_files_give_the_unsplit_summary_in_one_process_and_on_dask(tmp_path, seed, client):
    rng = random.Random(seed)
    path = generated(tmp_path, seed)
    n = len(records(path)[1])
    k = rng.randint(2, 7)
    files = split(path, tmp_path, rng.sample(range(1, n), k - 1))
    named = files[:]
    rng.shuffle(named)                          # the order on the command line does not matter
    merged = one_process(named)
    assert without_file(merged) == without_file(one_process(path))
    out = io.StringIO()
    summary_on_dask(client, named, display_name(named), out)
    assert out.getvalue() == merged


def test_directory_of_overlapping_files_merges_by_time(tmp_path, client):
    path = generated(tmp_path, 7, packets=2000)
    head, recs = records(path)
    ring = tmp_path / "ring"
    ring.mkdir()
    for k in range(3):                          # round robin: every file spans the whole time
        (ring / f"part{k}.pcap").write_bytes(head + b"".join(recs[k::3]))
    merged = one_process([str(ring)])
    assert without_file(merged) == without_file(one_process(path))
    assert json.loads(merged)["file"] == str(ring)
    out = io.StringIO()
    summary_on_dask(client, sorted(str(p) for p in ring.iterdir()), str(ring), out)
    assert out.getvalue() == merged


def test_a_file_out_of_time_order_merges_as_the_one_process_reader(tmp_path, client):
    path = generated(tmp_path, 5, packets=600)
    head, recs = records(path)
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    h = len(recs) // 2 * 2
    a.write_bytes(head + b"".join(recs[0:h:2] + recs[h + 1::2] + recs[1:h:2]))   # not in order
    b.write_bytes(head + b"".join(recs[h::2]))
    merged = one_process([str(a), str(b)])
    assert json.loads(merged)["packets"] == len(recs)
    out = io.StringIO()
    summary_on_dask(client, [str(a), str(b)], display_name([str(a), str(b)]), out)
    assert out.getvalue() == merged


def test_ties_take_the_earlier_file_first(tmp_path):
    path = generated(tmp_path, 3, packets=200)
    head, recs = records(path)
    same_time = [struct.pack("<II", 1700000000, 0) + r[8:] for r in recs]   # one instant
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    a.write_bytes(head + b"".join(same_time[:100]))
    b.write_bytes(head + b"".join(same_time[100:]))
    with MergedSource([str(a), str(b)]) as src:
        assert [rec.data for rec in src] == [r[16:] for r in recs]     # a, then b
    with MergedSource([str(b), str(a)]) as src:                        # named first: first
        assert [rec.data for rec in src] == [r[16:] for r in recs[100:] + recs[:100]]


def test_a_bad_file_fails_with_one_line_naming_it(tmp_path, client):
    good = generated(tmp_path, 1, packets=100)
    bad = tmp_path / "notes.pcap"
    bad.write_text("not a capture\n")
    with pytest.raises(WirelabError, match="notes.pcap"):
        analyze_file([good, str(bad)])
    with pytest.raises(WirelabError, match="notes.pcap"):
        summary_on_dask(client, [good, str(bad)], "x", io.StringIO())
    assert os.path.exists(good)
