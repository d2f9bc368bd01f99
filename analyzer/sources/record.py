"""The unit every packet source yields."""
from __future__ import annotations

from typing import NamedTuple


class Record(NamedTuple):
    ts: float          # seconds since the epoch
    linktype: int      # pcap LINKTYPE_* of this frame's interface
    data: bytes        # captured bytes (caplen of them)
    origlen: int       # length on the wire
    offset: int        # file offset of the record's packet data (-1 for live)
