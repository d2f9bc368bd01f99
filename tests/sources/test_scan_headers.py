"""CaptureSource.scan_headers / record: the quick pass agrees with iteration packet for
packet, stops where iteration stops with the same warning, and (classic pcap) only reads."""
from __future__ import annotations

import struct
import threading

import pytest

from analyzer.sources.open import open_capture
from tests.sources import craft
from tests.sources.test_pcapng import _multi


def _headers_of_iteration(path):
    src = open_capture(path)
    try:
        recs = list(src)
        heads = [(r.offset, len(r.data), r.origlen, r.ts, r.linktype) for r in recs]
        return recs, heads, list(src.warnings)
    finally:
        src.close()


def _scan(path):
    src = open_capture(path)
    try:
        heads = list(src.scan_headers())
        return heads, [src.record(h) for h in heads], list(src.warnings)
    finally:
        src.close()


def _pcap(tmp_path, name="s.pcap", n=5, **kw):
    fr = craft.frames(n)
    recs = [(1700000000 + i, 1000 * i, f, len(f) + 3) for i, f in enumerate(fr)]
    return craft.write(tmp_path, name, craft.pcap_bytes(recs, **kw))


@pytest.mark.parametrize("kw", [{}, {"nano": True}, {"endian": ">"}, {"linktype": 101},
                                {"snaplen": 65535}])
def test_pcap_scan_agrees_with_iteration(tmp_path, kw):
    path = _pcap(tmp_path, **kw)
    recs, want, warnings = _headers_of_iteration(path)
    heads, built, scan_warnings = _scan(path)
    assert heads == want and len(heads) == 5
    assert built == recs                       # record(h) is exactly iteration's Record
    assert scan_warnings == warnings


def test_pcap_scan_only_reads(tmp_path):
    src = open_capture(_pcap(tmp_path))
    try:
        assert src.scan_reads_only
        assert len(list(src.scan_headers())) == 5
        assert (src.progress, src.packets) == (0, 0)   # iteration's state untouched
        assert len(list(src)) == 5
    finally:
        src.close()


def test_modified_pcap_records_with_24_byte_headers(tmp_path):
    fr = craft.frames(3)
    head = struct.pack("<IHHiIII", 0xA1B2CD34, 2, 4, 0, 0, 262144, 1)
    body = b"".join(struct.pack("<IIII", 10 + i, 5, len(f), len(f)) + bytes(8) + f
                    for i, f in enumerate(fr))
    path = craft.write(tmp_path, "k.pcap", head + body)
    recs, want, _ = _headers_of_iteration(path)
    heads, built, _ = _scan(path)
    assert heads == want and [r.data for r in built] == fr and built == recs


@pytest.mark.parametrize("e", ["<", ">"])
def test_pcapng_scan_agrees_with_iteration(tmp_path, e):
    content, expect = _multi(e)
    path = craft.write(tmp_path, "m.pcapng", content)
    recs, want, warnings = _headers_of_iteration(path)
    heads, built, scan_warnings = _scan(path)
    assert heads == want and [r.data for r in built] == expect
    assert built == recs
    assert {h[4] for h in heads} == {1, 101}
    assert scan_warnings == warnings


def _damaged_pcaps(tmp_path):
    data = bytearray(craft.pcap_bytes([(1, i, f) for i, f in enumerate(craft.frames(4))]))
    rec3 = 24 + sum(16 + len(f) for f in craft.frames(4)[:2])
    corrupt = bytearray(data)
    struct.pack_into("<I", corrupt, rec3 + 8, 0xFFFFFFF0)          # caplen of record 3
    big = craft.pcap_bytes([(1, 0, craft.frames(1)[0]), (2, 0, b"\0" * 70000)], snaplen=65535)
    return {"truncated_body": bytes(data[:-5]),
            "truncated_header": bytes(data) + b"\1" * 7,
            "corrupt_caplen": bytes(corrupt),
            "legacy_snaplen_oversize": big}


@pytest.mark.parametrize("kind", ["truncated_body", "truncated_header", "corrupt_caplen",
                                  "legacy_snaplen_oversize"])
def test_damaged_pcap_scan_stops_where_iteration_stops(tmp_path, kind):
    path = craft.write(tmp_path, f"{kind}.pcap", _damaged_pcaps(tmp_path)[kind])
    recs, want, warnings = _headers_of_iteration(path)
    heads, built, scan_warnings = _scan(path)
    assert warnings, kind
    assert heads == want and built == recs
    assert scan_warnings == warnings           # the same text, offsets and packets kept


@pytest.mark.parametrize("cut", [-3, -30])
def test_truncated_pcapng_scan_stops_where_iteration_stops(tmp_path, cut):
    content, _expect = _multi("<")
    path = craft.write(tmp_path, "t.pcapng", content[:cut])
    recs, want, warnings = _headers_of_iteration(path)
    heads, built, scan_warnings = _scan(path)
    assert warnings and "stopped reading there" in warnings[-1]
    assert heads == want and built == recs and len(heads) == 4
    assert scan_warnings == warnings


def test_scan_beside_iteration_warns_once(tmp_path):
    """A header scan in a thread (the TUI's quick index) and the engine's iteration of the
    same classic pcap source: the truncation is reported once."""
    path = craft.write(tmp_path, "b.pcap", _damaged_pcaps(tmp_path)["truncated_body"])
    src = open_capture(path)
    try:
        heads = []
        t = threading.Thread(target=lambda: heads.extend(src.scan_headers()))
        t.start()
        recs = list(src)
        t.join()
        assert len(heads) == len(recs) == 3
        assert len(src.warnings) == 1 and src.warnings[0].startswith("truncated record at")
    finally:
        src.close()
