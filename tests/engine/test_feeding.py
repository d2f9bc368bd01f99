"""The per-packet loop (analyzer.engine.feeding) gives the same engine however the records
are handed in: one at a time (`feed`, live capture), a list (the TUI's batches), chunks of an
iterator of any size (the Dask partitions), columns (RecordColumns: the pcap reader's batches,
what the loader feeds); `summary_only` leaves the view-only
columns empty and everything else the same.  Loopback twins of a cooked capture, packed
conversations fed again and malformed frames are in the captures used."""
from __future__ import annotations

import json
import random
from itertools import islice

import pytest

from analyzer.engine.loader import new_engine_for
from analyzer.render.summary_json import summary_json
from analyzer.sources.open import open_capture
from analyzer.sources.record import RecordColumns
from tests.engine.craft import Conn, lenmsg, write_cooked
from tests.engine.test_packed_conversations import capture, views
from tests.sources.test_record_columns import columns_of

COLUMNS = ("ts", "offset", "caplen", "origlen", "linktype", "stream", "direction",
           "tcp_flags", "analysis", "payload_len")


def engine(path: str, **options):
    return new_engine_for(path, open_capture(path), sidecar=None, **options)


def one_at_a_time(path: str, **options):
    eng = engine(path, **options)
    for rec in open_capture(path):
        assert eng.feed(rec) == eng.packet_count
    eng.finish()
    return eng


def in_chunks(path: str, sizes, as_lists: bool, **options):
    eng = engine(path, **options)
    records = iter(open_capture(path))
    for size in sizes:
        chunk = list(islice(records, size)) if as_lists else islice(records, size)
        eng.feed_many(chunk)
    assert next(records, None) is None
    eng.finish()
    return eng


def by_batches(path: str, size: int, own: bool, **options):
    """Fed the pcap reader's batches (`own`), or lists of `size` Records put in columns."""
    eng = engine(path, **options)
    src = open_capture(path)
    if own:
        batches = list(src.batches(size))
        assert all(type(b) is RecordColumns for b in batches)
    else:
        records = iter(src)
        batches = []
        while chunk := list(islice(records, size)):
            batches.append(columns_of(chunk))
    for batch in batches:
        eng.feed_many(batch)
    eng.finish()
    return eng


def columns(eng) -> dict:
    return {name: getattr(eng.index, name).tolist() for name in COLUMNS} | {
        "kind": eng.flow_kind.tolist()}


def cooked(tmp_path) -> str:
    c = Conn().handshake()
    for k in range(40):
        c.send(k % 2, lenmsg(b"m" * (k + 1)), sizes=[3, k + 2] if k % 5 == 0 else None)
    c.fin()
    return write_cooked(tmp_path / "cooked.pcap", c.pkts)


@pytest.mark.parametrize("seed", [4, 5])
def test_same_engine_however_records_come(tmp_path, seed):
    path = capture(tmp_path, seed)
    rng = random.Random(seed)
    n = sum(1 for _ in open_capture(path))
    odd = [rng.choice([1, 2, 63, 64, 65, 200, 5000]) for _ in range(n)]
    single = one_at_a_time(path)
    expected = (views(single), columns(single))
    for eng in (in_chunks(path, [n], as_lists=True), in_chunks(path, odd, as_lists=True),
                in_chunks(path, odd, as_lists=False), in_chunks(path, [n + 7], as_lists=False),
                by_batches(path, 1, True), by_batches(path, 64, True),
                by_batches(path, 5000, True), by_batches(path, 3, False)):
        assert eng.packet_count == n
        assert (views(eng), columns(eng)) == expected


def test_cooked_twins_across_chunk_edges(tmp_path):
    path = cooked(tmp_path)
    single = one_at_a_time(path)
    assert sum(1 for b in single.index.analysis if b) >= 40      # the copies set aside
    for sizes in ([1] * 500, [3, 1, 2] * 200, [7] * 100):
        eng = in_chunks(path, sizes, as_lists=False)
        assert (views(eng), columns(eng)) == (views(single), columns(single))
    for size in (1, 2, 7, 1000):
        eng = by_batches(path, size, True)
        assert (views(eng), columns(eng)) == (views(single), columns(single))


def test_summary_only_fills_what_the_summary_reads(tmp_path):
    path = capture(tmp_path, 6)
    full, lean = in_chunks(path, [100] * 100, True), in_chunks(path, [100] * 100, True,
                                                               summary_only=True)
    assert json.dumps(summary_json(lean)) == json.dumps(summary_json(full))
    for name in ("ts", "offset", "caplen", "origlen", "linktype", "analysis"):
        assert getattr(lean.index, name) == getattr(full.index, name)
    for name in ("stream", "direction", "tcp_flags", "payload_len"):
        assert len(getattr(lean.index, name)) == 0
    assert len(lean.flow_kind) == 0
