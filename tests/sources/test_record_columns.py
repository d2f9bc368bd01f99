"""RecordColumns: Records in columns (the pcap reader's batches) give back the same Records."""
from __future__ import annotations

from analyzer.sources.record import Record, RecordColumns

def columns_of(records) -> RecordColumns:
    """Records in columns, filled as the pcap reader fills them (grow, rows in place, cut)."""
    cols = RecordColumns()
    cols.grow(len(records))
    for k, (ts, linktype, data, origlen, offset) in enumerate(records):
        cols.ts[k], cols.linktype[k] = ts, linktype
        cols.origlen[k], cols.offset[k] = origlen, offset
        cols.data.append(data)
    cols.cut()
    return cols


RECORDS = [Record(1700000000.000123, 1, b"\x00" * 60, 60, 40),
           Record(1700000001.5, 276, b"abc", 9000, -1),
           Record(0.0, 0xFFFFFFFF, b"", 0, 1 << 40)]


def test_columns_and_iteration_round_trip():
    cols = columns_of(RECORDS)
    assert len(cols) == 3
    back = list(cols)
    assert back == RECORDS and all(type(r) is Record for r in back)
    assert list(RecordColumns()) == [] and len(RecordColumns()) == 0


def test_grow_then_cut_keeps_the_rows_data_has():
    cols = columns_of(RECORDS[:1])
    cols.grow(100)
    assert len(cols.ts) == len(cols.offset) == 101
    cols.ts[1], cols.linktype[1], cols.origlen[1], cols.offset[1] = 2.5, 1, 3, 7
    cols.data.append(b"xyz")
    cols.cut()
    assert list(cols) == [RECORDS[0], Record(2.5, 1, b"xyz", 3, 7)]
