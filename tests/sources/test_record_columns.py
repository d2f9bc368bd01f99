"""RecordColumns: Records in columns (the pcap reader's batches) give back the same Records."""
from __future__ import annotations

from analyzer.sources.record import Record, RecordColumns

RECORDS = [Record(1700000000.000123, 1, b"\x00" * 60, 60, 40),
           Record(1700000001.5, 276, b"abc", 9000, -1),
           Record(0.0, 0xFFFFFFFF, b"", 0, 1 << 40)]


def test_of_and_iteration_round_trip():
    cols = RecordColumns.of(RECORDS)
    assert len(cols) == 3
    back = list(cols)
    assert back == RECORDS and all(type(r) is Record for r in back)
    assert list(RecordColumns()) == [] and len(RecordColumns()) == 0


def test_grow_then_cut_keeps_the_rows_data_has():
    cols = RecordColumns.of(RECORDS[:1])
    cols.grow(100)
    assert len(cols.ts) == len(cols.offset) == 101
    cols.ts[1], cols.linktype[1], cols.origlen[1], cols.offset[1] = 2.5, 1, 3, 7
    cols.data.append(b"xyz")
    cols.cut()
    assert list(cols) == [RECORDS[0], Record(2.5, 1, b"xyz", 3, 7)]
