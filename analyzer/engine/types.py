"""The engine's result types: what views, commands and the lab read.  Imports nothing of the
engine, so any layer may use them.

    Row            one packet-list line (rendered by analyzer.render.rows)
    Message        one application message: direction, stream offset, length, packets
    MessageSlice   the part of a message one packet carries
    FollowChunk    bytes of one direction as Follow Stream shows them
    Conversation   one TCP or UDP conversation (tshark's tcp.stream / udp.stream)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, NamedTuple


class Row(NamedTuple):
    number: int
    time: float          # seconds since the first packet
    src: str             # "127.0.0.1" (or MAC / "?" when no IP)
    dst: str
    protocol: str        # "TCP", "UDP", "LENMSG", "CHAT", ... (highest layer we know)
    length: int          # frame length on the wire
    info: str            # "40000 → 9001 [SYN] Seq=0 Win=65495 Len=0", "lenmsg len=5 ..."
    tags: frozenset      # subset of {"handshake","teardown","rst","coalesced","split",
                         #  "retransmission","out_of_order","lost_segment","dup_ack",
                         #  "malformed","loopback_duplicate"} used for row colours


class Message:
    """One application message.  `summary` (one line for views) and `fields` (the detail
    tree) are decoded from the frames on first use when the message was built with a
    `describe` callable: a million messages cost nothing until a view looks at one."""

    __slots__ = ("conv_id", "index", "direction", "offset", "length", "packet_count",
                 "protocol", "malformed", "_packets", "_summary", "_fields", "_describe")

    def __init__(self, conv_id: int, index: int, direction: str, offset: int, length: int,
                 packets: list[int] | Callable[[], list[int]], protocol: str, summary: str = "",
                 malformed: str | None = None, fields: dict | None = None,
                 describe: Callable[["Message"], tuple[str, dict]] | None = None,
                 packet_count: int | None = None) -> None:
        """`packets` is the list, or a function giving it on first use together with
        `packet_count` (a message carried by 24k packets costs nothing until asked)."""
        self.conv_id = conv_id
        self.index = index              # 0-based within its conversation (stream order)
        self.direction = direction      # "c2s" | "s2c"
        self.offset = offset            # stream offset of its first byte in that direction
        self.length = length            # bytes on the wire (header included)
        self._packets = packets         # packet numbers that carried its bytes, in stream order
        self.packet_count = len(packets) if packet_count is None else packet_count
        self.protocol = protocol        # codec name ("lenmsg", "chat", ...)
        self.malformed = malformed
        self._summary = summary
        self._fields = {} if fields is None else fields
        self._describe = describe

    def _described(self) -> None:
        describe, self._describe = self._describe, None
        try:
            self._summary, self._fields = describe(self)
        except Exception as exc:  # never break a view over one message
            self._summary, self._fields = f"[cannot decode: {exc}]", {}

    @property
    def summary(self) -> str:
        if self._describe is not None:
            self._described()
        return self._summary

    @property
    def fields(self) -> dict:
        if self._describe is not None:
            self._described()
        return self._fields

    @property
    def packets(self) -> list[int]:
        if callable(self._packets):
            self._packets = self._packets()
        return self._packets

    @property
    def split(self) -> bool:
        return self.packet_count > 1

    def _key(self) -> tuple:
        return (self.conv_id, self.index, self.direction, self.offset, self.length,
                list(self.packets), self.protocol, self.summary, self.malformed, self.fields)

    def __eq__(self, other) -> bool:
        return isinstance(other, Message) and self._key() == other._key()

    __hash__ = None

    def __repr__(self) -> str:
        return (f"Message(conv_id={self.conv_id}, index={self.index}, direction={self.direction!r}, "
                f"offset={self.offset}, length={self.length}, packets={self.packets!r}, "
                f"protocol={self.protocol!r}, malformed={self.malformed!r})")


class MessageSlice(NamedTuple):
    message: Message
    start: int       # offset inside the packet's TCP/UDP payload where this part starts
    end: int         # ... and ends (exclusive)
    first: bool      # the message starts in this packet
    last: bool       # the message ends in this packet


class FollowChunk(NamedTuple):
    direction: str           # "c2s" | "s2c"
    packet: int              # packet number that delivered these bytes (0 for a gap)
    offset: int              # stream offset in that direction
    data: bytes              # the bytes (b"" for a gap)
    gap: int                 # >0: this many bytes are missing here ("[N bytes missing]")
    message_starts: tuple    # offsets (relative to `offset`) where a message begins


@dataclass(slots=True)
class Conversation:
    id: int
    transport: str                       # "tcp" | "udp"
    client: str                          # "ip:port" (IPv6 as "[::1]:port")
    server: str
    first_packet: int = 0
    last_packet: int = 0
    start_time: float = 0.0
    end_time: float = 0.0
    packets: int = 0
    bytes_c2s: int = 0                   # payload bytes
    bytes_s2c: int = 0
    state: str = "OTH"                   # Zeek conn_state
    history: str = ""                    # Zeek history letters
    handshake: dict = field(default_factory=lambda: {"complete": False, "frames": [], "rtt_ms": None})
    teardown: dict = field(default_factory=lambda: {"kind": "none", "initiator": None, "frames": []})
    protocol: str | None = None          # codec name, or None
    messages: list[Message] = field(default_factory=list)   # a lazy MessageList from the engine
    coalesced_packets: list[int] = field(default_factory=list)
    analysis: dict = field(default_factory=dict)     # analysis name -> count of packets
    malformed: list[str] = field(default_factory=list)
    gaps: list[tuple[str, int, int]] = field(default_factory=list)  # (direction, offset, length)

    @property
    def key(self) -> tuple[str, int]:
        return (self.transport, self.id)

    @property
    def split_messages(self) -> int:
        return sum(1 for m in self.messages if m.packet_count > 1)
