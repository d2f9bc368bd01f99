"""The classic pcap reader's bulk path (`PcapSource.batches`, what the loader reads a whole
file with) gives what iteration gives: the same records, warnings, packet count and progress,
on sound, damaged and unusual files, whatever the batch size."""
from __future__ import annotations

import struct

import pytest

from analyzer.engine.loader import analyze_file
from analyzer.render.summary_json import summary_json
from analyzer.sources.open import open_capture
from tests.sources import craft


def _files(tmp_path) -> dict[str, bytes]:
    fr = craft.frames(7)
    big = [f + bytes(1600) for f in fr[2:5]]              # caplen above snaplen 1500
    good = craft.pcap_bytes([(1700000000 + i, 999 * i, f) for i, f in enumerate(fr)])
    last = len(good) - 16 - len(fr[-1])
    kuz = [struct.pack("<IHHiIII", 0xA1B2CD34, 2, 4, 0, 0, 262144, 1)]
    for i, f in enumerate(fr):
        kuz.append(struct.pack("<IIII", 10 + i, 500, len(f), len(f)) + bytes(8) + f)
    return {
        "good": good,
        "big-endian nano": craft.pcap_bytes([(5, 123456789 * i % 10**9, f, 9000)
                                             for i, f in enumerate(fr)], endian=">", nano=True),
        "header cut": good[:last + 9],
        "body cut": good[:-3],
        "corrupt caplen": good + struct.pack("<IIII", 2, 0, 0xFFFFFFF0, 60) + bytes(100),
        "above snaplen": craft.pcap_bytes([(1, 0, fr[0])] + [(2, i, f) for i, f in enumerate(big)]
                                          + [(3, 0, fr[5])], snaplen=1500),
        "modified pcap": b"".join(kuz),
        "header only": good[:24],
        # ~9 MB: mapped pages are released twice on the way (every 4 MiB)
        "pages released": craft.pcap_bytes([(i, i, fr[i % 7] + bytes(1400)) for i in range(6200)]),
    }


def _reading(src, size: int | None):
    if size is None:
        recs = list(src)
    else:
        batches = list(src.batches(size))
        assert all(0 < len(b) <= size for b in batches)
        recs = [r for b in batches for r in b]
    return [tuple(r) for r in recs], src.warnings, src.packets, src.progress


@pytest.mark.parametrize("size", [1, 2, 5, 1000])
def test_batches_read_what_iteration_reads(tmp_path, size):
    for name, content in _files(tmp_path).items():
        path = craft.write(tmp_path, name.replace(" ", "-") + ".pcap", content)
        by_iteration = _reading(open_capture(path), None)
        by_batches = _reading(open_capture(path), size)
        assert by_batches == by_iteration, name
        assert by_iteration[0] or name == "header only"


def test_batch_sizes(tmp_path):
    fr = craft.frames(7)
    path = craft.write(tmp_path, "x.pcap", craft.pcap_bytes([(1, 0, f) for f in fr]))
    assert [len(b) for b in open_capture(path).batches(3)] == [3, 3, 1]
    assert [len(b) for b in open_capture(path).batches(7)] == [7]


@pytest.mark.parametrize("damage,says", [(struct.pack("<IIII", 2, 0, 0xFFFFFFF0, 60),
                                           "exceeds snaplen"),
                                          (b"\x01" * 9, "truncated record header")])
def test_a_limit_reads_one_more_record_only(tmp_path, damage, says):
    """`-c N` reads through iteration, which reads ahead: damage two records after the limit
    is still not warned about (as tshark -c), damage right after it is."""
    fr = craft.frames(4)
    good = craft.pcap_bytes([(1, 0, f) for f in fr])
    path = craft.write(tmp_path, "c.pcap", good + damage)
    assert analyze_file(path, limit=3).warnings == []
    warned = analyze_file(path, limit=4).warnings
    assert len(warned) == 1 and says in warned[0]
    assert summary_json(analyze_file(path))["warnings"] == warned
