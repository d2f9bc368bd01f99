"""The units sources hand out: a `Record` per packet, a `PacketLocation` per packet of a header
scan, Records in lists (`batches_of`)."""
from __future__ import annotations

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
