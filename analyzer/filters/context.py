"""`PacketContext`: the facts of one packet a display filter asks for, each fetched once."""
from __future__ import annotations

from analyzer.render.rows import row


class PacketContext:
    """Lazily fetched facts of packet `n` (each engine call happens at most once)."""

    __slots__ = ("engine", "n", "_d", "_bits", "_row", "_conv", "_slices", "_stream", "_frame",
                 "_state")
    _UNSET = object()

    def __init__(self, engine, n: int):
        self.engine = engine
        self.n = n
        self._d = self._bits = self._row = self._conv = self._slices = self._stream = self._UNSET
        self._frame = self._state = self._UNSET

    @property
    def d(self):
        if self._d is self._UNSET:
            self._d = self.engine.decoded(self.n)
        return self._d

    @property
    def bits(self) -> int:
        if self._bits is self._UNSET:
            self._bits = int(self.engine.analysis_bits(self.n))
        return self._bits

    @property
    def row(self):
        if self._row is self._UNSET:
            self._row = row(self.engine, self.n)
        return self._row

    @property
    def stream(self):
        if self._stream is self._UNSET:
            self._stream = self.engine.stream_of(self.n)
        return self._stream

    @property
    def frame(self) -> bytes:
        if self._frame is self._UNSET:
            self._frame = self.engine.frame_bytes(self.n)
        return self._frame

    @property
    def state(self):
        """The engine's ConvState of this packet (None: not TCP/UDP)."""
        if self._state is self._UNSET:
            self._state = self.engine.state_of_packet(self.n)
        return self._state

    @property
    def payload(self) -> bytes | None:
        """Captured TCP/UDP payload (None: not TCP/UDP)."""
        d = self.d
        if d.payload_offset < 0:
            return None
        return self.frame[d.payload_offset: d.payload_offset + d.captured_payload_len]

    @property
    def conv(self):
        if self._conv is self._UNSET:
            self._conv = None
            sid = self.stream
            if sid is not None:
                d = self.d
                if d.transport in ("tcp", "udp"):
                    try:
                        self._conv = self.engine.conversation(d.transport, sid)
                    except (KeyError, IndexError, LookupError):
                        self._conv = None
        return self._conv

    @property
    def slices(self):
        if self._slices is self._UNSET:
            self._slices = list(self.engine.message_slices(self.n))
        return self._slices

    def ended(self, protocol: str) -> list:
        """Messages of `protocol` that end in this packet: where Wireshark shows a reassembled
        PDU (and so where the Lua plugin's fields of that message are)."""
        return [s.message for s in self.slices
                if s.last and s.message.protocol.split(":")[0] == protocol]

    def ends(self, protocol: str) -> bool:
        """A message of `protocol` ends in this packet."""
        return any(s.last and s.message.protocol.split(":")[0] == protocol for s in self.slices)
