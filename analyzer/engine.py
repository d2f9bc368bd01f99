"""The push-based analysis engine: one packet at a time in, conversations and messages out.

THE API BELOW IS THE CONTRACT the views (cli, tui), the lab and `verify` are written against.
Implementation status: skeleton (issue 3 fills it in).  Names may grow; they do not change.

    from analyzer.engine import Engine, analyze_file

    eng = analyze_file("x.pcap", decode_as={9999: "lenmsg"})   # reads, feeds, finishes
    # or, push-based (live capture / TUI worker):
    eng = Engine(decode_as=None, sidecar=None)
    for rec in source: eng.feed(rec)        # rec: analyzer.sources.record.Record
    eng.finish()                            # end of input: flush codecs (EOF), close gaps

Per packet (numbers are 1-based, file order, like tshark's frame.number):
    eng.packet_count -> int                 packets fed so far (loopback twins included:
                                            they keep their number, flagged loopback_duplicate)
    eng.row(n) -> Row                       one packet-list row, cheap (index + one decode)
    eng.packet_json(n) -> dict              the `wirelab packets --json` object of packet n
    eng.frame_bytes(n) -> bytes             the captured bytes of packet n
    eng.decoded(n) -> analyzer.model.Decoded
    eng.analysis_bits(n) -> int             analyzer.model.ANALYSIS_BIT flags of packet n
    eng.stream_of(n) -> int | None          conversation id of packet n (None: not TCP/UDP)
    eng.message_slices(n) -> list[MessageSlice]   the (parts of) messages packet n carries

Per conversation (ids 0-based in order of first packet, tcp and udp numbered separately
like tshark's tcp.stream / udp.stream; `Conversation.key` = (transport, id)):
    eng.conversations -> list[Conversation]         in order of first packet
    eng.conversation(transport, id) -> Conversation
    eng.follow(conv) -> list[FollowChunk]           both directions interleaved in capture order
    eng.naive_reads(conv, direction, bufsize=1024) -> list[tuple[int, int]]
                                                    (offset, length) of what recv(bufsize)
                                                    would have returned, given the segments
    eng.summary_json() -> dict                      the `wirelab summary --json` object
    eng.warnings -> list[str]                       e.g. "truncated record at offset 1234"
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


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


@dataclass(slots=True)
class Message:
    conv_id: int
    index: int               # 0-based within its conversation (both directions, stream order)
    direction: str           # "c2s" | "s2c"
    offset: int              # stream offset of its first byte in that direction
    length: int              # bytes on the wire (header included)
    packets: list[int]       # packet numbers that carried its bytes, in stream order
    protocol: str            # codec name ("lenmsg", "chat", ...)
    summary: str = ""        # one line for views: "len=5 'hello'"
    malformed: str | None = None
    fields: dict = field(default_factory=dict)   # decoded fields for the detail tree

    @property
    def split(self) -> bool:
        return len(self.packets) > 1


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
    messages: list[Message] = field(default_factory=list)
    coalesced_packets: list[int] = field(default_factory=list)
    analysis: dict = field(default_factory=dict)     # analysis name -> count of packets
    malformed: list[str] = field(default_factory=list)
    gaps: list[tuple[str, int, int]] = field(default_factory=list)  # (direction, offset, length)

    @property
    def key(self) -> tuple[str, int]:
        return (self.transport, self.id)

    @property
    def split_messages(self) -> int:
        return sum(1 for m in self.messages if len(m.packets) > 1)


class Engine:  # skeleton: issue 3 implements it
    def __init__(self, decode_as: dict[int, str] | None = None, sidecar=None, source_path: str | None = None):
        raise NotImplementedError("analysis engine not built yet")


def analyze_file(path: str, decode_as: dict[int, str] | None = None, progress=None) -> Engine:
    raise NotImplementedError("analysis engine not built yet")
