"""PacketIndex: compact per-packet columns in `array`s, so a 1M-packet capture costs ~40 MB.

Row i (0-based; packet number i + 1) holds, per column (typecode, bytes):

    ts           'd' 8   capture time, seconds since the epoch
    offset       'q' 8   file offset of the packet bytes (-1 for live packets kept elsewhere)
    caplen       'I' 4   captured length
    origlen      'I' 4   length on the wire
    linktype     'H' 2   pcap LINKTYPE_*
    stream       'i' 4   conversation id, -1 = none (filled by the engine)
    direction    'b' 1   0 = client->server, 1 = server->client, -1 = unknown
    tcp_flags    'B' 1   TCP header flag byte
    analysis     'I' 4   analyzer.transport.analysis_flags.ANALYSIS_BIT flags
    payload_len  'I' 4   TCP/UDP payload length from the headers
                   = 40 bytes per packet (+ up to ~12 % array growth slack)

The frame bytes themselves stay in the file: `source.read_frame(offset, caplen)`.
"""
from __future__ import annotations

from array import array

COLUMNS: tuple[tuple[str, str], ...] = (
    ("ts", "d"), ("offset", "q"), ("caplen", "I"), ("origlen", "I"), ("linktype", "H"),
    ("stream", "i"), ("direction", "b"), ("tcp_flags", "B"), ("analysis", "I"),
    ("payload_len", "I"),
)
BYTES_PER_PACKET = sum(array(code).itemsize for _, code in COLUMNS)


class PacketIndex:
    """Columns as public arrays (`idx.ts[i]`, `idx.stream[i] = 3` ...), 0-based rows."""

    __slots__ = tuple(name for name, _ in COLUMNS)
    bytes_per_packet = BYTES_PER_PACKET

    def __init__(self) -> None:
        for name, code in COLUMNS:
            setattr(self, name, array(code))

    def append(self, ts: float, offset: int, caplen: int, origlen: int, linktype: int,
               stream: int = -1, direction: int = -1, tcp_flags: int = 0, analysis: int = 0,
               payload_len: int = 0) -> int:
        """Add one packet; returns its row (0-based)."""
        self.ts.append(ts)
        self.offset.append(offset)
        self.caplen.append(caplen)
        self.origlen.append(origlen)
        self.linktype.append(linktype)
        self.stream.append(stream)
        self.direction.append(direction)
        self.tcp_flags.append(tcp_flags)
        self.analysis.append(analysis)
        self.payload_len.append(payload_len)
        return len(self.ts) - 1

    def __len__(self) -> int:
        return len(self.ts)

    def row(self, i: int) -> tuple:
        """All columns of row i, in COLUMNS order."""
        return tuple(getattr(self, name)[i] for name, _ in COLUMNS)

    def frame_position(self, i: int) -> tuple[int, int]:
        """(file offset, caplen) of row i: what CaptureSource.read_frame takes."""
        return self.offset[i], self.caplen[i]

    def set_stream(self, i: int, stream: int, direction: int) -> None:
        self.stream[i] = stream
        self.direction[i] = direction

    def add_analysis(self, i: int, bits: int) -> None:
        self.analysis[i] |= bits

    def memory_bytes(self) -> int:
        """Bytes allocated by the columns (including growth slack)."""
        return sum(getattr(self, n).buffer_info()[1] * getattr(self, n).itemsize
                   for n, _ in COLUMNS)

    @classmethod
    def from_source(cls, source) -> "PacketIndex":
        """Index every record of a capture source (positions and lengths only)."""
        idx = cls()
        ts, off, cap, orig, lt = idx.ts, idx.offset, idx.caplen, idx.origlen, idx.linktype
        n = 0
        for rec in source:
            ts.append(rec.ts)
            off.append(rec.offset)
            cap.append(len(rec.data))
            orig.append(rec.origlen)
            lt.append(rec.linktype)
            n += 1
        idx.stream.extend(array("i", [-1]) * n)
        idx.direction.extend(array("b", [-1]) * n)
        idx.tcp_flags.extend(bytes(n))
        idx.analysis.extend(array("I", bytes(4 * n)))
        idx.payload_len.extend(array("I", bytes(4 * n)))
        return idx
