"""The units sources hand out: a `Record` per packet, a `PacketLocation` per packet of a header
scan, Records in lists (`batches_of`) or in columns (`RecordColumns`)."""
from __future__ import annotations

from array import array
from itertools import islice
from typing import Iterator, NamedTuple, Tuple


class Record(NamedTuple):
    ts: float          # seconds since the epoch
    linktype: int      # pcap LINKTYPE_* of this frame's interface
    data: bytes        # captured bytes (caplen of them)
    origlen: int       # length on the wire
    offset: int        # file offset of the record's packet data (-1 for live)


# Where one packet of a capture file is, without its bytes (CaptureSource.scan_headers):
# (offset of the packet data = Record.offset, caplen = len(Record.data), origlen, ts, linktype).
# A plain tuple, not a NamedTuple: a third cheaper to make, and a header scan makes millions.
PacketLocation = Tuple[int, int, int, float, int]


def batches_of(records: Iterator, size: int) -> Iterator[list]:
    """`records` in lists of up to `size` (none empty)."""
    while True:
        got = list(islice(records, size))
        if not got:
            return
        yield got


class RecordColumns:
    """Records in columns, for the engine's bulk feed (the classic pcap reader's batches): no
    object a packet but its bytes.  `ts` (array "d"), `linktype` (array "I"), `origlen` and
    `offset` (arrays "q"), `data` (a list of bytes); row k is Record k.  Iterates as Records."""

    __slots__ = ("ts", "linktype", "data", "origlen", "offset")

    def __init__(self) -> None:
        self.ts = array("d")
        self.linktype = array("I")
        self.data: list[bytes] = []
        self.origlen = array("q")
        self.offset = array("q")

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[Record]:
        new = tuple.__new__
        for row in zip(self.ts, self.linktype, self.data, self.origlen, self.offset):
            yield new(Record, row)

    def grow(self, n: int) -> None:
        """`n` more rows of zeros in the number columns (to be filled in place)."""
        for col in (self.ts, self.linktype, self.origlen, self.offset):
            col.frombytes(bytes(n * col.itemsize))

    def cut(self) -> None:
        """The number columns cut back to the rows `data` has."""
        n = len(self.data)
        for col in (self.ts, self.linktype, self.origlen, self.offset):
            del col[n:]
